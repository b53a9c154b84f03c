// The edit form's draft: what the admin typed over the product's fields at one version, and how it moves onto a
// newer version read meanwhile (someone else's save, a stock change, a 412's re-read) without losing the typing.
import type { Product } from '../../api/client.js';
import { fieldsOf, type ProductFields } from './product-fields.js';

/**
 * The edit form's content: what the admin typed (`fields`) over the product's fields at `version` (`base`). Kept by
 * the edit page, not the form: a newer version read meanwhile (a stock change's answer, a re-read, a 412's) moves it
 * onto that version without losing what was typed, and a session that ends keeps it for after signing in again.
 */
export interface Draft {
  productId: string;
  version: number;
  base: ProductFields;
  fields: ProductFields;
  /** Kept when the admin left the page signed in (a link, Back), not when the session ended. */
  left?: boolean;
}

/** The fields the edit form shows (Stock has its own panel: a stock change is no edit of the form). */
export const EDITABLE = ['sku', 'name', 'description', 'price', 'currency', 'category'] as const;
export type Editable = (typeof EDITABLE)[number];
export const LABEL: Record<Editable, string> = { sku: 'SKU', name: 'Name', description: 'Description', price: 'Price', currency: 'Currency', category: 'Category' };

export function freshDraft(p: Product): Draft {
  return { productId: p.id, version: p.version, base: fieldsOf(p), fields: fieldsOf(p) };
}

/** The fields the admin changed in the form and has not saved. */
export function typedKeys(d: Draft): Editable[] {
  return EDITABLE.filter((k) => d.fields[k] !== d.base[k]);
}

/**
 * The draft on a newer version `p`: the fields the admin typed keep what was typed, the others show `p`'s values.
 * `theirs` are the fields someone else changed that the form now shows; `clashes` those changed on both sides (the
 * typed value kept, theirs said).
 */
export function rebase(d: Draft, p: Product): { draft: Draft; theirs: Editable[]; clashes: Editable[] } {
  const latest = fieldsOf(p);
  const typed = new Set(typedKeys(d));
  const fields = { ...latest };
  for (const k of typed) fields[k] = d.fields[k];
  const changed = EDITABLE.filter((k) => latest[k] !== d.base[k]);
  return {
    draft: { productId: p.id, version: p.version, base: latest, fields },
    theirs: changed.filter((k) => !typed.has(k)),
    clashes: changed.filter((k) => typed.has(k) && d.fields[k] !== latest[k]),
  };
}

/** "Price", "Price and Category", "SKU, Price and Category". */
export function listOf(words: string[]): string {
  return words.length < 2 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)!}`;
}
