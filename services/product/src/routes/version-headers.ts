import { BadRequest, noneMatchHolds, readEntityTags, readIfMatch } from '@ecommerce/kit';
import type { VersionCondition } from '../model/version-condition.js';
import type { Product } from '../model/product.js';

/**
 * Route config of the routes that evaluate If-Match and If-None-Match against the product's version themselves: the
 * kit's check for routes without an ETag (plugins/preconditions.ts) leaves them to it.
 */
export const EVALUATES_ENTITY_TAGS = { entityTags: true } as const;

/** The opaque-tag of an ETag this service sends: a version as written by etag() (1 and up, no sign, no leading zero). */
const VERSION_TAG = /^[1-9]\d{0,8}$/;

/** A bare version (`3`), taken as `"3"`. */
const BARE_VERSION = /^\s*([1-9]\d{0,8})\s*$/;

const malformed = (field: 'if-match' | 'if-none-match') =>
  new BadRequest(`${field === 'if-match' ? 'If-Match' : 'If-None-Match'} must be the quoted product version, e.g. "3"`, [{ path: `headers/${field}`, message: 'must be "<version>"' }]);

/** The versions a list's entity tags name (weak ones too when `weak`), as the kit reads the list. */
function versionsOf(tags: { weak: boolean; opaque: string }[], weak: boolean): number[] {
  const versions: number[] = [];
  for (const t of tags) {
    const inner = t.opaque.slice(1, -1);
    if ((weak || !t.weak) && VERSION_TAG.test(inner)) versions.push(Number(inner));
  }
  return versions;
}

/**
 * `If-Match` as RFC 9110 13.1.1 reads it: `*` (any version: null), or a list of entity tags, of which the strong
 * ones that are a version (`"3"`) can match; a weak tag (`W/"3"`) never matches under the strong comparison
 * If-Match uses, so a list of only those is a precondition no version meets (412). A bare `3` is taken as `"3"`.
 * Anything that is not entity tags is a 400 rather than a silent unconditional write. Strong comparison is of the
 * characters: `"03"` is another tag than the ETag `"3"` and matches no version (read as a number it matched 3).
 * Empty list elements (`"1", , "2"`) are accepted, as 5.6.1 asks of a recipient; at least one tag is needed.
 */
export function expectedVersions(header: string | undefined): number[] | null {
  if (header === undefined) return null;
  const bare = BARE_VERSION.exec(header);
  if (bare) return [Number(bare[1])];
  const list = readIfMatch(header);
  if (!list) throw malformed('if-match');
  return list.any ? null : versionsOf(list.tags, false);
}

/**
 * `If-None-Match` on a write, as RFC 9110 13.1.2 reads it: `*` (the product exists: every version; also among tags,
 * as a GET reads it), or the versions its entity tags name under the weak comparison (`"3"` and `W/"3"` alike); null
 * when absent. Not entity tags: a 400, as for If-Match (a GET's is read leniently instead: holdsCurrentVersion).
 */
function excludedVersions(header: string | undefined): number[] | '*' | null {
  if (header === undefined) return null;
  const bare = BARE_VERSION.exec(header);
  if (bare) return [Number(bare[1])];
  const list = readEntityTags(header);
  if (!list) throw malformed('if-none-match');
  return list.any ? '*' : versionsOf(list.tags, true);
}

/** The condition of a request's If-Match and If-None-Match; a 400 when either is not entity tags. */
export function versionCondition(headers: { 'if-match'?: string; 'if-none-match'?: string }): VersionCondition {
  return { ifMatch: expectedVersions(headers['if-match']), ifNoneMatch: excludedVersions(headers['if-none-match']) };
}

/**
 * Whether a GET's `If-None-Match` holds the product as it is (RFC 9110 13.1.2, the kit's reading): `*`, or a list
 * naming its ETag under the weak comparison (`"3"` or `W/"3"`, characters as sent). A field that is not entity tags
 * holds nothing: the product is sent in full.
 */
export function holdsCurrentVersion(header: string | undefined, p: Product): boolean {
  return noneMatchHolds(header, etag(p));
}

export function etag(p: Product): string {
  return `"${p.version}"`;
}
