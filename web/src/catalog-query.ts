// What the catalog's search and category filter send to GET /product: text from the address or the search box as
// the product service takes it, so a crafted or cut link finds nothing at worst, never "the catalog is unavailable".

/**
 * GET /product's limits (the service counts characters; these count UTF-16 units, as the search box's maxLength
 * does, so a text within them is within the service's too).
 */
export const MAX_SEARCH = 200;
export const MAX_CATEGORY = 64;

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
