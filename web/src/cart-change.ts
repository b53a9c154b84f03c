// What a look at the catalog changed in the cart, in words (the cart and checkout pages only: not in the first
// visit's bundle).
import type { CartChange } from './cart.js';
import { countOf } from './count.js';
import { formatMoney } from './money.js';

/**
 * A change as the cart and checkout say it. The price seen before is written in the currency it was in: an admin
 * may change a product's currency, and "now costs ¥1,250 (was ¥1,250)" hid a $12.50 that became ¥1,250.
 */
export function cartChangeText(c: CartChange): string {
  switch (c.kind) {
    case 'price':
      return `${c.name} now costs ${formatMoney(c.toCents, c.currency)} (was ${formatMoney(c.fromCents, c.fromCurrency)}).`;
    case 'gone':
      return `${c.name} is no longer sold; it was taken out of your cart.`;
    case 'stock':
      return c.to === 0 ? `${c.name} is sold out; it was taken out of your cart.` : `Only ${countOf(c.to, 'unit')} of ${c.name} left; your cart now has ${c.to} (you had ${c.from}).`;
  }
}
