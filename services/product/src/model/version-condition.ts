// A conditional write's If-Match and If-None-Match (routes/version-headers.ts reads them), as the use-cases apply them.
import { PreconditionFailed } from '@ecommerce/kit';

/**
 * What a conditional request asks of the product's version (RFC 9110 13.2.2: both must hold): If-Match's versions
 * (null: any) and If-None-Match's (null: none, `*`: every one).
 */
export interface VersionCondition {
  ifMatch: number[] | null;
  ifNoneMatch: number[] | '*' | null;
}

/**
 * The condition as the database applies it in the write's own statement: the versions it may be at (null: any) and
 * those it may not (null: none). `*` in If-None-Match leaves no version at all, as does an If-Match none of whose
 * versions is left once If-None-Match's are taken out.
 */
export function versionBounds(c: VersionCondition): { expected: number[] | null; excluded: number[] | null } {
  if (c.ifNoneMatch === '*') return { expected: [], excluded: null };
  if (c.ifNoneMatch === null || c.ifMatch === null) return { expected: c.ifMatch, excluded: c.ifNoneMatch };
  const excluded = c.ifNoneMatch;
  return { expected: c.ifMatch.filter((v) => !excluded.includes(v)), excluded: null };
}

/** Whether a product at `version` meets the condition. */
export function meetsCondition(c: VersionCondition, version: number): boolean {
  const { expected, excluded } = versionBounds(c);
  return (expected === null || expected.includes(version)) && (excluded === null || !excluded.includes(version));
}

/** The 412 for a product at `version` that does not meet the condition, naming the header that failed. */
export function conditionFailed(c: VersionCondition, version: number): PreconditionFailed {
  if (c.ifMatch !== null && !c.ifMatch.includes(version)) {
    return new PreconditionFailed(
      c.ifMatch.length
        ? `The product is at version ${version}, not ${c.ifMatch.join(' or ')}`
        : `The product is at version ${version}; If-Match names no version it can be at (a weak tag never matches, nor a strong one that is no version)`);
  }
  return new PreconditionFailed(c.ifNoneMatch === '*' ? 'The product exists (If-None-Match: * asks that it does not)' : `The product is at version ${version}, which If-None-Match names`);
}

/** No If-Match, no If-None-Match: the write applies at any version. */
export const UNCONDITIONAL: VersionCondition = { ifMatch: null, ifNoneMatch: null };
