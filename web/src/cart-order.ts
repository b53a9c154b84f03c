// The cart as the cart and checkout pages use it: totals, the order's items, a look at the current catalog. Apart
// from cart.ts, which the first visit's bundle has: no page of the first visit needs these.
import { clamp, type CartLine, type CartProduct } from './cart.js';

export interface Total {
  currency: string;
  totalCents: number;
  units: number;
}

/** One total per currency, in first-seen order. */
export function cartTotals(cart: readonly CartLine[]): Total[] {
  const totals = new Map<string, Total>();
  for (const l of cart) {
    const t = totals.get(l.currency) ?? { currency: l.currency, totalCents: 0, units: 0 };
    t.totalCents += l.priceCents * l.quantity;
    t.units += l.quantity;
    totals.set(l.currency, t);
  }
  return [...totals.values()];
}

/** One order has one currency (the order service answers 422 mixed-currency otherwise). */
export function isMixedCurrency(cart: readonly CartLine[]): boolean {
  return new Set(cart.map((l) => l.currency)).size > 1;
}

export function orderItems(cart: readonly CartLine[]): { productId: string; quantity: number; expectedUnitPriceCents: number; expectedCurrency: string }[] {
  // The price the shopper sees goes along as a guard: the order service refuses the order (409 price-changed)
  // rather than charge another one. It is never the price charged.
  return cart.map((l) => ({ productId: l.productId, quantity: l.quantity, expectedUnitPriceCents: l.priceCents, expectedCurrency: l.currency }));
}

/** What a look at the shop's current catalog changed in the cart (shown before the order is placed). */
export type CartChange =
  | { kind: 'price'; productId: string; name: string; currency: string; fromCents: number; toCents: number; fromCurrency: string }
  | { kind: 'gone'; productId: string; name: string }
  | { kind: 'stock'; productId: string; name: string; from: number; to: number };

/**
 * The cart brought up to date with the catalog: each line takes the product's current name, price, currency,
 * picture and stock (a quantity above the stock drops to it; none left or a product no longer sold removes the
 * line), and every change a shopper should see is listed. `current` answers null for a product that is gone
 * and throws when it cannot tell (the line stays as it was: the order service has the last word); `unchecked`
 * counts those lines.
 */
export async function refreshCart(lines: readonly CartLine[], current: (productId: string) => Promise<CartProduct | null>): Promise<{ lines: CartLine[]; changes: CartChange[]; unchecked: number }> {
  const looked = await Promise.all(lines.map(async (l) => ({ line: l, product: await current(l.productId).then((p) => ({ p }), () => null) })));
  const changes: CartChange[] = [];
  const next: CartLine[] = [];
  let unchecked = 0;
  for (const { line, product } of looked) {
    if (!product) {
      unchecked++;
      next.push(line);
      continue;
    }
    const p = product.p;
    if (!p) {
      changes.push({ kind: 'gone', productId: line.productId, name: line.name });
      continue;
    }
    if (p.priceCents !== line.priceCents || p.currency !== line.currency) {
      changes.push({ kind: 'price', productId: p.id, name: p.name, currency: p.currency, fromCents: line.priceCents, toCents: p.priceCents, fromCurrency: line.currency });
    }
    const quantity = clamp(line.quantity, p.stock);
    if (quantity < line.quantity) changes.push({ kind: 'stock', productId: p.id, name: p.name, from: line.quantity, to: quantity });
    if (quantity > 0) next.push({ productId: line.productId, name: p.name, priceCents: p.priceCents, currency: p.currency, imageUrl: p.imageUrl, stock: p.stock, quantity });
  }
  return { lines: next, changes, unchecked };
}
