import { BadRequest } from '@ecommerce/kit';
import type { Product } from '../model/product.js';

/** The opaque-tag of an ETag this service sends: a version as written by etag() (1 and up, no sign, no leading zero). */
const VERSION_TAG = /^[1-9]\d{0,8}$/;

/**
 * One element of an `If-Match` list (RFC 9110 5.6.1, 8.8.3): any empty elements before it, then `[W/]"<etagc>*"`, then
 * a comma or the end. A comma inside the quotes belongs to the tag (`"a,b"` is one tag, matching no version), so
 * the list is scanned tag by tag, never split at commas.
 */
const LIST_ELEMENT = /(?:[\t ]*,)*[\t ]*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"[\t ]*(?:,|$)/y;

/**
 * `If-Match` as RFC 9110 13.1.1 reads it: `*` (any version: null), or a list of entity tags, of which the strong
 * ones that are a version (`"3"`) can match; a weak tag (`W/"3"`) never matches under the strong comparison
 * If-Match uses, so a list of only those is a precondition no version meets (412). A bare `3` is taken as `"3"`.
 * Anything that is not entity tags is a 400 rather than a silent unconditional write. Strong comparison is of the
 * characters: `"03"` is another tag than the ETag `"3"` and matches no version (read as a number it matched 3).
 * Empty list elements (`"1", , "2"`) are accepted, as 5.6.1 asks of a recipient; at least one tag is needed.
 */
export function expectedVersions(header: string | undefined): number[] | null {
  if (header === undefined || header.trim() === '*') return null;
  const bare = /^\s*([1-9]\d{0,8})\s*$/.exec(header);
  if (bare) return [Number(bare[1])];
  const malformed = () => new BadRequest('If-Match must be the quoted product version, e.g. "3"', [{ path: 'headers/if-match', message: 'must be "<version>"' }]);
  const versions: number[] = [];
  let tags = 0;
  const element = new RegExp(LIST_ELEMENT);
  while (element.lastIndex < header.length) {
    const at = element.lastIndex;
    const tag = element.exec(header);
    if (!tag) {
      if (/^[\t ,]*$/.test(header.slice(at))) break; // trailing empty elements
      throw malformed();
    }
    tags++;
    if (!tag[1] && VERSION_TAG.test(tag[2]!)) versions.push(Number(tag[2]));
  }
  if (tags === 0) throw malformed();
  return versions;
}

/**
 * Whether a GET's `If-None-Match` holds the product as it is (RFC 9110 13.1.2): `*`, or a list naming its ETag under
 * the weak comparison If-None-Match uses (`"3"` or `W/"3"`, characters as sent). A field that is not entity tags holds
 * nothing: the product is sent in full.
 */
export function holdsCurrentVersion(header: string | undefined, p: Product): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const current = String(p.version);
  const element = new RegExp(LIST_ELEMENT);
  while (element.lastIndex < header.length) {
    const tag = element.exec(header);
    if (!tag) return false;
    if (tag[2] === current) return true;
  }
  return false;
}

export function etag(p: Product): string {
  return `"${p.version}"`;
}
