// What the catalog's search and category filter send to GET /product: text from the address or the search box as
// the product service takes it, so a crafted or cut link finds nothing at worst, never "the catalog is unavailable".
import { ApiError, ok, productApi } from './api/client.js';

/**
 * GET /product's limits (the service counts characters; these count UTF-16 units, as the search box's maxLength
 * does, so a text within them is within the service's too). A category holds up to 64 characters, but the Category
 * list gives it in NFKC, up to 18 characters (and UTF-16 units) for one (U+FDFA), as the filter takes it: cut at 64
 * units, a listed category of 40 emoji or with ㌀ in it was sent cut and found nothing.
 */
export const MAX_SEARCH = 200;
export const MAX_CATEGORY = 64 * 18;

/** Half of a character written with two UTF-16 units (an emoji), with no other half beside it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The text without what GET /product refuses or the browser cannot send, cut to `max` UTF-16 units: no NUL (the
 * service answers 400), no half of an emoji (the request is never sent: encoding it throws), and the cut made
 * between characters, not inside one (the old cut at the 200th unit split an emoji there).
 */
export function catalogText(text: string, max: number): string {
  const clean = text.replace(/\0/g, '').replace(LONE_SURROGATE, '');
  const cut = clean.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/**
 * The category list's options: one per category as GET /product compares them (Unicode NFKC: `Café` composed or
 * decomposed, or in full-width letters, is one category), in order; the selected one as the address spells it (in
 * its equivalent's place, else last), so the list shows it selected. Two options that looked alike were offered.
 */
export function categoryOptions(categories: readonly (string | null | undefined)[], selected: string): string[] {
  const byForm = new Map<string, string>();
  for (const c of categories.filter((c): c is string => !!c).sort()) {
    const form = c.normalize('NFKC');
    if (!byForm.has(form)) byForm.set(form, c);
  }
  // Map.set keeps the place of a key it already has.
  if (selected) byForm.set(selected.normalize('NFKC'), selected);
  return [...byForm.values()];
}

/**
 * A category as the product service's schema takes one (`VisibleText` in packages/kit/src/text.ts): a visible
 * character at least, and no direction control (U+202A to U+202E, U+2066 to U+2069).
 */
const VISIBLE = /(?![\u115F\u1160\u2800\u3164\uFFA0])[\p{L}\p{N}\p{P}\p{S}]/u;
const DIRECTION_CONTROL = /[\u202A-\u202E\u2066-\u2069]/u;

/**
 * The address's category as the filter uses it: without surrounding spaces and cut as `catalogText` cuts, and none
 * (the whole catalog) when nothing of it can be seen (spaces, a zero-width space), as for an empty one: sent, the
 * service refused it (400) and the shop said the catalog was unavailable, with a Try again that never worked.
 */
export function catalogCategory(text: string): string {
  const category = catalogText(text.trim(), MAX_CATEGORY);
  return VISIBLE.test(category) ? category : '';
}

/**
 * Whether a product can have this category: one with a direction control cannot (the service refuses to store it),
 * so the filter finds nothing without asking (asked, the 400 read as an outage).
 */
export function categoryCanExist(category: string): boolean {
  return !DIRECTION_CONTROL.test(category);
}

/** A category's first letter in capitals, as the Category list shows it ("books" is Books). */
function capitalised(category: string): string {
  return category.replace(/^./u, (first) => first.toUpperCase());
}

/**
 * The Category list's words for its options (`categoryOptions`), in their order: each with its first letter in
 * capitals, unless that reads as another option does ("home", and the "Home" an admin typed for a new product: the
 * service keeps them apart, case and all); those are shown as spelled. Two options read "Home", each finding other
 * products, and a shopper could not tell which was which.
 */
export function categoryLabels(options: readonly string[]): string[] {
  const labels = options.map(capitalised);
  // Each round shows at least one more option as spelled (options differ, so that ends); a label that came to read
  // as another's capitalised one is taken apart in the next.
  for (let round = 0; round <= options.length; round++) {
    const seen = new Map<string, number>();
    for (const label of labels) seen.set(label, (seen.get(label) ?? 0) + 1);
    let changed = false;
    labels.forEach((label, i) => {
      if (seen.get(label)! > 1 && label !== options[i]) {
        labels[i] = options[i]!;
        changed = true;
      }
    });
    if (!changed) break;
  }
  return labels;
}

/**
 * One page of the catalog's search (GET /product with q and category), as the shop's grid and the admin's Products
 * list read it. A category no product can have finds nothing without asking, and a search the service refuses (more
 * than 16 different words) finds nothing too: asking again would not help, and an error read as an outage.
 */
export async function catalogPage({ q, category, limit, cursor }: { q: string; category: string; limit: number; cursor: string | null }) {
  if (!categoryCanExist(category)) return { items: [], nextCursor: null };
  try {
    return ok(await productApi.GET('/product', { params: { query: { limit, ...(cursor ? { cursor } : {}), ...(q ? { q } : {}), ...(category ? { category } : {}) } } }));
  } catch (err) {
    if (q && err instanceof ApiError && err.status === 400) return { items: [], nextCursor: null };
    throw err;
  }
}
