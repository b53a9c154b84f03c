import { CODE_PATTERN, IdempotencyKey, Type, VISIBLE_TEXT_PATTERN, VisibleText } from '@ecommerce/kit';
import { MAX_STOCK } from '../model/product.js';

export const strict = { additionalProperties: false } as const;

/** Any string: a malformed id is answered like an unknown one (404), not as a validation error. */
export const IdParams = Type.Object({ id: Type.String() });

export const ProductSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    sku: Type.String(),
    name: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    priceCents: Type.Integer({ description: 'price in minor units of currency' }),
    currency: Type.String({ description: 'ISO 4217 code' }),
    stock: Type.Integer({ description: 'units that can still be ordered (on hand minus reserved)' }),
    category: Type.Union([Type.String(), Type.Null()]),
    imageUrl: Type.Union([Type.String(), Type.Null()], { description: 'picture of the product, a path on this site' }),
    version: Type.Integer({ description: 'increments on every change; send it back in If-Match' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Product', title: 'Product' },
);

/** The ETag every answer that carries one product sends (docs/api.md): its version, for If-Match and If-None-Match. */
export const ETagHeader = {
  ETag: Type.String({ description: 'the product version as an entity tag, "<version>": send it back in If-Match (or If-None-Match)' }),
};

/** One product as a response: the document lists its ETag header beside the body. */
export const ProductResponse = Type.Object(ProductSchema.properties, { title: 'Product', headers: ETagHeader });

const Sku = Type.String({ minLength: 1, maxLength: 64, pattern: CODE_PATTERN, description: 'unique; no white space, control or invisible characters' });
const Name = VisibleText(200);
const Description = Type.Union([Type.String({ maxLength: 5000 }), Type.Null()]);
const PriceCents = Type.Integer({ minimum: 0, maximum: 1_000_000_000 });
// Ajv checks the pattern before the format: `usd` failed it and was told the regular expression.
const Currency = Type.String({ minLength: 3, maxLength: 3, pattern: '^[A-Z]{3}$', 'x-pattern-message': 'must be a currency code such as USD', format: 'iso4217', description: 'ISO 4217 code, upper case' });
const Stock = Type.Integer({ minimum: 0, maximum: MAX_STOCK });
/**
 * A category is a key the shop filters and groups by, compared whole: `Shoes ` was another category than `Shoes`,
 * listed twice alike in the category filter and found by neither's link. No white space at either end (`\s`: what
 * the admin's own form trims), refused in words rather than trimmed here, so a product reads back what was sent. Text
 * with nothing visible passes this rule, to be told `must not be blank` by VisibleText's.
 */
const CATEGORY_MAX_LENGTH = 64;
/**
 * The most bytes a category takes in a cursor of GET /product/categories, which lists them in NFKC as JSON: 33 per code
 * point, for U+FDFA (one code point, 18 in NFKC, 33 bytes of UTF-8), the largest expansion there is.
 */
export const CATEGORY_KEY_MAX_BYTES = CATEGORY_MAX_LENGTH * 33;
/**
 * A category's ends are no character drawn as nothing either (Unicode's Default_Ignorable_Code_Point: zero width, a word joiner, a
 * soft hyphen, a Hangul filler, a stray variation selector): `Shoes\u2060` was another category than `Shoes` as `Shoes `
 * was, NFKC keeps them. Inside, they stay (a ZWNJ in Persian, a ZWJ joining an emoji), and so does the end of a
 * sequence that shows (DRAWN_ENDING). The direction marks (U+200E, U+200F, U+061C) are kept at either end too, where
 * they do their work (`ספרי C++\u200F` keeps its `++` at the end). Its own message, after the white-space one (U+FEFF
 * is both).
 */
const DRAWN_AS_NOTHING = String.raw`(?![\u061C\u200E\u200F])\p{Default_Ignorable_Code_Point}`;
/** What may end a category though it is drawn as nothing: it is part of the character before it. */
const DRAWN_ENDING = [
  String.raw`\p{Extended_Pictographic}[\uFE0E\uFE0F]`, // an emoji's text or emoji presentation (☕️)
  String.raw`\p{Extended_Pictographic}[\u{E0020}-\u{E007E}]+\u{E007F}`, // a flag's tag sequence (🏴 Scotland)
  String.raw`\p{Ideographic}[\u{E0100}-\u{E01EF}]`, // a Han character's ideographic variation selector
  String.raw`\p{Script=Mongolian}[\u180B-\u180D\u180F]`, // a Mongolian letter's free variation selector
].join('|');
const Category = VisibleText(CATEGORY_MAX_LENGTH, {
  allOf: [
    { pattern: `^(?:(?!\\s)[\\s\\S]*(?<!\\s)|(?:(?!${VISIBLE_TEXT_PATTERN})[\\s\\S])*)$`, 'x-pattern-message': 'must not start or end with white space' },
    {
      pattern: `^(?:(?!${DRAWN_AS_NOTHING})[\\s\\S]*(?:(?<!${DRAWN_AS_NOTHING})|(?<=${DRAWN_ENDING}))|(?:(?!${VISIBLE_TEXT_PATTERN})[\\s\\S])*)$`,
      'x-pattern-message': 'must not start or end with an invisible character',
    },
  ],
});
/**
 * The `category` filter: any category a product may hold, one written before the edge rule (a migration-free change)
 * too, and each as GET /product/categories lists it, in NFKC, up to 18 characters for one (U+FDFA): the filter took 64,
 * so a listed category that NFKC made longer (㌀ is 4, … 3) was refused.
 */
export const CategoryFilter = VisibleText(CATEGORY_MAX_LENGTH * 18);
// A path on the shop's own origin only (not `//host`, nor `/\\host`, which a browser reads as `//host`: no
// backslash anywhere): the storefront's CSP allows images from itself alone. No space and no control character
// (C0, DEL, C1) either: the column's CHECK (migration 004) refuses [:space:], whose members depend on the
// database's locale (a builtin or ICU one counts U+0085 NEL, which \s does not: that was a 500), and a URL never
// holds a raw control character; every locale's [:space:] is within \s plus the controls.
// No dot segment in the path (before any ? or #): `.` or `..`, each dot written or as %2e (RFC 3986 5.2.4, and a
// browser's URL parser decodes %2e there), between slashes, also %2f or %5c ones, which a decoding server takes
// for separators: /images/../../etc/passwd names another path than the one it shows.
const DOT_SEGMENT_SEPARATOR = String.raw`(?:/|%2[fF]|%5[cC])`;
const NO_DOT_SEGMENT = String.raw`(?![^?#]*${DOT_SEGMENT_SEPARATOR}(?:\.|%2[eE]){1,2}(?:${DOT_SEGMENT_SEPARATOR}|[?#]|$))`;
const ImageUrl = Type.String({
  minLength: 2,
  maxLength: 2048,
  pattern: String.raw`^${NO_DOT_SEGMENT}/[^/\\\s\x00-\x1f\x7f-\x9f][^\s\\\x00-\x1f\x7f-\x9f]*$`,
  'x-pattern-message':
    'must be a path on this site such as /images/products/x.svg: one / first, then no spaces, control characters, backslashes, or . or .. segments (written or as %2e)',
  description: 'a path on this site, e.g. /images/products/x.svg; no . or .. segments',
});

export const NewProductBody = Type.Object(
  {
    sku: Sku,
    name: Name,
    description: Type.Optional(Description),
    priceCents: PriceCents,
    currency: Type.Optional(Currency),
    stock: Stock,
    category: Type.Optional(Type.Union([Category, Type.Null()])),
    imageUrl: Type.Optional(Type.Union([ImageUrl, Type.Null()])),
  },
  strict,
);

// Not stock (it moves only through /stock and reservations), not version (the server counts it).
export const ProductPatchBody = Type.Object(
  {
    sku: Type.Optional(Sku),
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    priceCents: Type.Optional(PriceCents),
    currency: Type.Optional(Currency),
    category: Type.Optional(Type.Union([Category, Type.Null()])),
    imageUrl: Type.Optional(Type.Union([ImageUrl, Type.Null()])),
  },
  { ...strict, minProperties: 1 },
);

/** Optional on a stock adjustment: a retry with the same key (after a timeout) is applied once. */
/**
 * An optional If-Match and If-None-Match (version-headers.ts reads them): RFC 9110 13.1.1 and 13.1.2 have them
 * evaluated wherever they are sent, never ignored.
 */
const ifMatch = Type.Optional(Type.String({ maxLength: 100 }));
const ifNoneMatch = Type.Optional(Type.String({ maxLength: 100 }));
export const ConditionHeaders = Type.Object({ 'if-match': ifMatch, 'if-none-match': ifNoneMatch });

/**
 * The same two on a read, declared so the OpenAPI document shows them; no length limit of their own: a cache may send a
 * long If-None-Match list on a GET (Node's header size bounds it), and a field that is not entity tags is read as above.
 */
export const ReadConditionHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'the product version(s) you hold, e.g. "3", or *: 412 when none is current' })),
  'if-none-match': Type.Optional(Type.String({ description: 'the ETag(s) you hold, e.g. "3" or W/"3", or *: 304 with no body when one is current' })),
});

export const StockHeaders = Type.Object({ 'idempotency-key': Type.Optional(IdempotencyKey()), 'if-match': ifMatch, 'if-none-match': ifNoneMatch });

export const StockBody = Type.Object(
  { delta: Type.Integer({ minimum: -MAX_STOCK, maximum: MAX_STOCK, not: { const: 0 }, description: 'non-zero: positive restocks, negative removes' }) },
  strict,
);
