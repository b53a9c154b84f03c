// Entity-tag lists (RFC 9110 5.6.1, 8.8.3) as If-Match and If-None-Match carry them: read one way by every
// service, the gateway's static files and the product API alike.

/**
 * One list element: any empty elements before it, then `[W/]"<etagc>*"` or `*`, then a comma or the end. A comma
 * inside the quotes belongs to the tag (`"a,b"` is one tag), so a list is scanned element by element, never split.
 */
const ELEMENT = /(?:[\t ]*,)*[\t ]*(?:(W\/)?("[\x21\x23-\x7e\x80-\xff]*")|(\*))[\t ]*(?:,|$)/y;
const EMPTY_ELEMENTS = /^[\t ,]*$/;

export interface EntityTag {
  weak: boolean;
  /** The opaque-tag with its quotes, `"3"`, as an ETag's value without `W/`. */
  opaque: string;
}

export interface EntityTagList {
  /** `*` was in the field: alone, or among tags when two field lines were joined into one. */
  any: boolean;
  tags: EntityTag[];
}

/**
 * A conditional field read as a list of entity tags, or undefined when it is none (not one element, or anything
 * else than tags, `*` and empty elements, which a recipient must accept anywhere: 5.6.1).
 */
export function readEntityTags(field: string): EntityTagList | undefined {
  const list: EntityTagList = { any: false, tags: [] };
  const element = new RegExp(ELEMENT);
  let elements = 0;
  while (element.lastIndex < field.length) {
    const at = element.lastIndex;
    const found = element.exec(field);
    if (!found) {
      if (EMPTY_ELEMENTS.test(field.slice(at))) break;
      return undefined;
    }
    elements++;
    if (found[3]) list.any = true;
    else list.tags.push({ weak: found[1] !== undefined, opaque: found[2]! });
  }
  return elements === 0 ? undefined : list;
}

/**
 * An If-Match field read as one precondition (RFC 9110 13.1.1): `*` alone, or entity tags; undefined for anything else,
 * `*` among tags included (two field lines joined, one of them `*`: no one precondition, refused rather than read as
 * "any"). The product API and the kit's check for routes without an ETag read it alike.
 */
export function readIfMatch(field: string): EntityTagList | undefined {
  const list = readEntityTags(field);
  return list && !(list.any && list.tags.length > 0) ? list : undefined;
}

/**
 * Whether a GET's If-None-Match says the client holds the representation whose ETag is `etag` (RFC 9110 13.1.2):
 * `*` (alone or on one of several field lines), or a tag equal to it by the weak comparison (the opaque-tags alone:
 * `"x"` matches `W/"x"`). A field that is not entity tags holds nothing: the full answer is sent.
 */
export function noneMatchHolds(field: string | undefined, etag: string | undefined): boolean {
  if (field === undefined) return false;
  const list = readEntityTags(field);
  if (!list) return false;
  if (list.any) return true;
  const opaque = etag?.replace(/^W\//, '');
  return list.tags.some((t) => t.opaque === opaque);
}
