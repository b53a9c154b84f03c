// The product form's fields as text, read into the API's values before anything is sent (a refusal names its
// field, in the admin's units and words), and the fields a failed save is about.
import { ApiError, type Product } from '../../api/client.js';
import { countOf } from '../../count.js';
import { formatMoney, minorDigits } from '../../money.js';
import { ambiguousComma, parseMajor, toMajorText } from '../../money-input.js';

export interface ProductFields {
  sku: string;
  name: string;
  description: string;
  price: string;
  currency: string;
  stock: string;
  category: string;
}

export function fieldsOf(p: Product): ProductFields {
  return { sku: p.sku, name: p.name, description: p.description ?? '', price: toMajorText(p.priceCents, p.currency), currency: p.currency, stock: String(p.stock), category: p.category ?? '' };
}

export type FieldErrors = Partial<Record<keyof ProductFields, string>>;

/** A form value refused before anything is sent, naming its field. */
export class FieldError extends Error {
  constructor(
    readonly field: keyof ProductFields,
    message: string,
  ) {
    super(message);
  }
}

/** The form's fields as API values; throws a FieldError when one is not valid. */
export function parseFields(f: ProductFields): { sku: string; name: string; description: string | null; priceCents: number; currency: string; category: string | null } {
  const currency = f.currency.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) throw new FieldError('currency', 'Currency must be a three-letter ISO 4217 code such as USD.');
  let priceCents: number | null;
  try {
    priceCents = parseMajor(f.price, currency);
  } catch {
    throw new FieldError('currency', `${currency} is not a currency this browser knows.`);
  }
  if (priceCents === null) throw new FieldError('price', priceTextProblem(f.price, currency));
  // The product service's bound (1,000,000,000 minor units), said in the units the admin types, not in cents.
  if (priceCents > MAX_PRICE_MINOR) throw new FieldError('price', `Price must be at most ${formatMoney(MAX_PRICE_MINOR, currency)}.`);
  return { sku: f.sku.trim(), name: f.name.trim(), description: f.description.trim() || null, priceCents, currency, category: f.category.trim() || null };
}

/**
 * Why a price was not read as an amount of `currency`, with an example in that currency's shape: as many decimals
 * as it has minor digits, the unit the API's priceCents counts (cents of USD, fils of KWD, whole yen of JPY).
 */
function priceTextProblem(text: string, currency: string): string {
  const digits = minorDigits(currency);
  const example = digits === 0 ? '1500' : `12.${'5'.padEnd(digits, '0')}`;
  if (ambiguousComma(text)) {
    const [whole = '', part = ''] = text.trim().split(',');
    return `"${text.trim()}" could be ${whole}${part} or ${whole}.${part}: write thousands without a separator${digits > 0 ? ', and decimals after a point' : ''}, such as ${example}.`;
  }
  if (/^\d+[.,]\d+$/.test(text.trim())) {
    if (digits > 0) return `${currency} has ${countOf(digits, 'decimal place')}: enter an amount such as ${example}.`;
    const unit = new Intl.NumberFormat('en', { style: 'currency', currency, currencyDisplay: 'name' }).formatToParts(2).find((p) => p.type === 'currency')?.value ?? currency;
    return `${currency} has no minor unit: the price is in whole ${unit}, such as ${example}, without decimals.`;
  }
  return `Price must be an amount such as ${example}.`;
}

/** The API's body fields as the form's. */
const FIELD_OF_PATH: Record<string, keyof ProductFields> = { sku: 'sku', name: 'name', description: 'description', priceCents: 'price', currency: 'currency', stock: 'stock', category: 'category' };

/** Each field's label, as a refusal's sentence starts: "SKU must not contain spaces ...", not "Sku". */
export const FIELD_LABEL: Record<keyof ProductFields, string> = { sku: 'SKU', name: 'Name', description: 'Description', price: 'Price', currency: 'Currency', stock: 'Stock', category: 'Category' };

/** Which fields a failed save is about: the form's own check, the service's per-field errors, a taken SKU. */
export function fieldErrorsOf(err: Error | null): FieldErrors {
  if (!err) return {};
  if (err instanceof FieldError) return { [err.field]: err.message };
  if (!(err instanceof ApiError)) return {};
  const out: FieldErrors = {};
  for (const e of err.problem?.errors ?? []) {
    const field = FIELD_OF_PATH[e.path.split('/')[1] ?? ''];
    // The service writes its bounds bare ("must be at most 1000000000"): grouped as the rest of the admin writes figures.
    if (field && !out[field]) out[field] = `${FIELD_LABEL[field]} ${e.message.replace(/\b\d{4,15}\b/g, (n) => Number(n).toLocaleString('en'))}.`;
  }
  if (err.problem?.type?.endsWith('/sku-taken')) out.sku = 'Another product has this SKU.';
  return out;
}

/** Whether a failed save is said at its fields (under each, as its description): then not again below the form. */
export function saidAtFields(err: Error): boolean {
  return Object.keys(fieldErrorsOf(err)).length > 0;
}

/** The product service's largest price, in minor units (services/product/src/routes/schemas.ts). */
const MAX_PRICE_MINOR = 1_000_000_000;

export const EMPTY: ProductFields = { sku: '', name: '', description: '', price: '', currency: 'USD', stock: '0', category: '' };

/**
 * The listed category that `typed` would be taken for but is not: the same words in another case ("Home" typed,
 * "home" listed), which the service keeps as a category of its own. None when `typed` is a listed one as the
 * service compares them (NFKC; it then joins it), is blank, or is like none.
 */
export function categoryInOtherCase(typed: string, listed: readonly string[]): string | undefined {
  const form = typed.trim().normalize('NFKC');
  if (!form) return undefined;
  const forms = listed.map((c) => c.normalize('NFKC'));
  if (forms.includes(form)) return undefined;
  const lower = form.toLowerCase();
  return listed.find((_, i) => forms[i]!.toLowerCase() === lower);
}
