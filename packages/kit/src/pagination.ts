import { Type, type TSchema } from '@sinclair/typebox';
import { BadRequest } from './errors.js';
import { isUuid } from './ids.js';
import { containsUnstorableText } from './plugins/request-guards.js';

export const DEFAULT_PAGE_LIMIT = 20;

/** `?limit&cursor` for every list endpoint (docs/api.md). `limit` is optional (the validator fills the default). */
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: DEFAULT_PAGE_LIMIT })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
};

/**
 * The longest cursor encodeCursor writes for a key of one text of at most `maxBytes` bytes as JSON-escaped UTF-8
 * (base64url of `["text"]`). A list keyed by text takes cursors that long: one keyed by a category of 64 CJK
 * characters returned a cursor of 262 characters that PageQuery's 200 refused, ending the walk with a 400.
 */
export const textCursorLength = (maxBytes: number): number => Math.ceil(((maxBytes + 4) * 4) / 3);

/** `?limit&cursor` for a list keyed by one text of at most `maxKeyBytes` bytes as JSON-escaped UTF-8 (textCursorLength). */
export function TextPageQuery(maxKeyBytes: number) {
  return { ...PageQuery, cursor: Type.Optional(Type.String({ minLength: 1, maxLength: textCursorLength(maxKeyBytes) })) };
}

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });

/** Opaque keyset cursor: base64url of the last row's sort key. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, arity: number): unknown[] | null {
  if (cursor === undefined) return null;
  const key = parseCursor(cursor, arity);
  if (key) return key;
  throw badCursor();
}

/** The id of a cursor keyed by id alone (null without a cursor); a cursor whose key is no id is refused like a malformed one. */
export function decodeIdCursor(cursor: string | undefined): string | null {
  const key = decodeCursor(cursor, 1);
  if (key === null) return null;
  if (!isUuid(key[0])) throw badCursor();
  return key[0];
}

/** The text of a cursor keyed by one text value (null without a cursor); a cursor whose key is a number is refused. */
export function decodeTextCursor(cursor: string | undefined): string | null {
  const key = decodeCursor(cursor, 1);
  if (key === null) return null;
  if (typeof key[0] !== 'string') throw badCursor();
  return key[0];
}

function parseCursor(cursor: string, arity: number): unknown[] | null {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // No key this platform returns holds a NUL or a lone surrogate (PostgreSQL stores neither): a forged one reached the
    // query, and a NUL made GET /product/categories a 500 logged as an unhandled error, at any client's will.
    if (Array.isArray(key) && key.length === arity && key.every((k) => (typeof k === 'string' && !containsUnstorableText(k)) || typeof k === 'number')) return key;
  } catch {
    // not base64url JSON: a 400 like any other foreign cursor
  }
  return null;
}

function badCursor(): BadRequest {
  return new BadRequest('cursor is not valid', [{ path: 'querystring/cursor', message: 'is not a cursor returned by this endpoint' }]);
}

/** Builds the page from limit+1 fetched rows. */
export function pageOf<R, T>(rows: R[], limit: number, key: (row: R) => unknown[], map: (row: R) => T): { items: T[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const slice = more ? rows.slice(0, limit) : rows;
  const last = slice[slice.length - 1];
  return { items: slice.map(map), nextCursor: more && last !== undefined ? encodeCursor(key(last)) : null };
}
