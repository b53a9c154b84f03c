import { BadRequest } from '@ecommerce/kit';
import type { Product } from '../model/product.js';

/** The opaque-tag of an ETag this service sends: a version as written by etag() (1 and up, no sign, no leading zero). */
const VERSION_TAG = /^[1-9]\d{0,8}$/;

/**
 * `If-Match` as RFC 9110 13.1.1 reads it: `*` (any version: null), or a list of entity tags, of which the strong
 * ones that are a version (`"3"`) can match; a weak tag (`W/"3"`) never matches under the strong comparison
 * If-Match uses, so a list of only those is a precondition no version meets (412). A bare `3` is taken as `"3"`.
 * Anything that is not entity tags is a 400 rather than a silent unconditional write. Strong comparison is of the
 * characters: `"03"` is another tag than the ETag `"3"` and matches no version (read as a number it matched 3).
 */
export function expectedVersions(header: string | undefined): number[] | null {
  if (header === undefined || header.trim() === '*') return null;
  const bare = /^\s*([1-9]\d{0,8})\s*$/.exec(header);
  if (bare) return [Number(bare[1])];
  const versions: number[] = [];
  for (const item of header.split(',')) {
    const tag = /^\s*(W\/)?"([\x21\x23-\x7e]*)"\s*$/.exec(item);
    if (!tag) throw new BadRequest('If-Match must be the quoted product version, e.g. "3"', [{ path: 'headers/if-match', message: 'must be "<version>"' }]);
    if (!tag[1] && VERSION_TAG.test(tag[2]!)) versions.push(Number(tag[2]));
  }
  return versions;
}

export function etag(p: Product): string {
  return `"${p.version}"`;
}
