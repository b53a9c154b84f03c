// What a look at the catalog changed in the cart, in words (the cart and checkout pages only: not in the first
// visit's bundle).
import type { CartChange } from './cart-order.js';
import { countOf } from './count.js';
import { formatMoney } from './money.js';

/**
 * A change as the cart and checkout say it, in three pieces: the product's name apart, so the page can isolate it
 * (a name in a right-to-left script, begun by a digit or ended by a bang, spilled into the sentence around it). The
 * price seen before is written in the currency it was in: an admin may change a product's currency, and "now costs
 * ¥1,250 (was ¥1,250)" hid a $12.50 that became ¥1,250.
 */
export function cartChangeWords(c: CartChange): { before: string; name: string; after: string } {
  switch (c.kind) {
    case 'price':
      return { before: '', name: c.name, after: ` now costs ${formatMoney(c.toCents, c.currency)} (was ${formatMoney(c.fromCents, c.fromCurrency)}).` };
    case 'gone':
      return { before: '', name: c.name, after: ' is no longer sold; it was taken out of your cart.' };
    case 'stock':
      return c.to === 0
        ? { before: '', name: c.name, after: ' is sold out; it was taken out of your cart.' }
        : { before: `Only ${countOf(c.to, 'unit')} of `, name: c.name, after: ` left; your cart now has ${c.to} (you had ${c.from}).` };
  }
}
