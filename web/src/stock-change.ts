// What the admin's Stock panel says of a change it cannot make, in the shop's words (never the API's field name
// `delta` nor its bare numbers): what was asked, what the stock allows and what can be done.
import { countOf } from './count.js';

/** The product service's largest stock, and so the largest change either way (services/product: MAX_STOCK). */
export const MAX_STOCK = 1_000_000_000;

/**
 * Why a change of `delta` units cannot be made while `available` units are in stock and `held` are held by orders (the
 * service's 409 `stock-limit-exceeded` sends both: the bound counts stock plus held units, which a cancel gives back to
 * stock), or one over the bound. Stock may stand above the bound on a product that got there before the service
 * counted held units.
 */
export function stockRefusal(delta: number, available: number, held = 0): string {
  if (delta > 0) {
    const room = MAX_STOCK - available - held;
    const can = room > 0 ? `You can add up to ${room.toLocaleString('en')}.` : undefined;
    if (held > 0) {
      return `Could not add ${countOf(delta, 'unit')}: stock plus the units held by orders may be at most ${countOf(MAX_STOCK, 'unit')}; stock is ${available.toLocaleString('en')} and orders hold ${held.toLocaleString('en')} now. ${can ?? 'Nothing can be added now.'}`;
    }
    return `Could not add ${countOf(delta, 'unit')}: stock may be at most ${countOf(MAX_STOCK, 'unit')} and is ${available.toLocaleString('en')} now. ${can ?? 'Nothing can be added until stock is below that.'}`;
  }
  const asked = `Could not remove ${countOf(-delta, 'unit')}`;
  if (available >= -delta) return `${asked}: one change removes at most ${countOf(MAX_STOCK, 'unit')}. You can remove up to ${MAX_STOCK.toLocaleString('en')}.`;
  const rule = '(units reserved by orders are not counted), and stock cannot go below 0.';
  return available > 0
    ? `${asked}: only ${countOf(available, 'unit')} ${available === 1 ? 'is' : 'are'} in stock ${rule} You can remove up to ${Math.min(available, MAX_STOCK).toLocaleString('en')}.`
    : `${asked}: none are in stock ${rule} Nothing can be removed until stock is added.`;
}

/**
 * What the Stock change field says of its text before anything is sent: undefined when it can be sent. A change
 * past the bound can never be made whatever the stock, so it is refused here with the stock the page shows.
 */
export function stockChangeProblem(text: string, shownStock: number): string | undefined {
  const delta = Number(text);
  if (text.trim() === '' || !Number.isInteger(delta) || delta === 0) return 'Stock change must be a whole number other than 0 (negative removes).';
  if (Math.abs(delta) > MAX_STOCK) return stockRefusal(delta, shownStock);
  return undefined;
}
