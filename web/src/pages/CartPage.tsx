import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { CART_KEY, MAX_QUANTITY, cartUnits, type CartLine } from '../cart.js';
import { cartTotals, isMixedCurrency, orderItems } from '../cart-order.js';
import { checkoutInFlight, contentHash, type InFlightAnswer } from '../checkout.js';
import { countOf } from '../count.js';
import { formatDateTime } from '../dates.js';
import { CartChanges, checkWords, useCartCheck } from '../cart-check.js';
import { Money, ProductImage, focusAfterRender } from '../components.js';
import { answeredWithError } from '../failure.js';
import { formatMoney } from '../money.js';
import { QuantityInput } from '../quantity-input.js';
import { EmptyCart, lineLabels } from '../page-parts.js';
import { checkoutNonce, useAuth, useCart } from '../state.js';

export function CartPage() {
  const cart = useCart();
  const fresh = useCartCheck();
  // What the lines' controls did (CartLines): a quantity changed or lowered, a line removed. Its live region is one
  // element of this page, kept (its key) when the last line goes and the empty cart is drawn in their place: drawn anew
  // there, or gone with the lines, "Removed <name>" of the last line was never heard (the focus, on the main region,
  // said no removal).
  const [said, setSaid] = useState<ReactNode>(null);
  useEffect(() => {
    document.title = 'Cart: Northwind Supply';
  }, []);
  // What it says is of this tab's own change, and the cart it left: another tab's change of the cart (a line removed
  // there, a quantity) makes it untrue, and it goes. "Mug: quantity 3. Cart total $37.50." stayed under "Your cart is
  // empty." once the other tab had removed that line. (A tab hears no storage event of its own writes.)
  // Nor is it once the cart is another's: signed out here (the cart emptied, or put aside for the customer), or signed in.
  const who = useAuth().user?.id ?? null;
  const [saidFor, setSaidFor] = useState(who);
  if (saidFor !== who) {
    setSaidFor(who);
    setSaid(null);
  }
  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      if ((e.key === CART_KEY && e.oldValue !== e.newValue) || e.key === null) setSaid(null);
    };
    addEventListener('storage', onStorage);
    return () => removeEventListener('storage', onStorage);
  }, []);
  if (cart.lines.length === 0) {
    return (
      <>
        <EmptyCart title="Cart" held={cart.held}>
          {fresh.changes.length > 0 && <CartChanges changes={fresh.changes} />}
        </EmptyCart>
        <Said key="said" empty>
          {said}
        </Said>
      </>
    );
  }
  const mixed = isMixedCurrency(cart.lines);
  return (
    <>
      <h1>Cart</h1>
      <InFlightNotice lines={cart.lines} at="cart" />
      <CartChanges changes={fresh.changes} />
      {/* A reload shows the cart remembered in this browser: until the shop answered, its old prices and stock showed as
          if current. Said while the shop is asked (the totals are marked busy), and when it could not be. Its line is kept
          once checked (check-status): emptied, it took its height away and the lines and Checkout moved up under the
          pointer as the answer came (a click aimed at Remove landed beside it). */}
      <p className="hint check-status" role="status">
        {checkWords(fresh)}
      </p>
      <CartLines say={setSaid} />
      <Said key="said">{said}</Said>
      <section className="totals" aria-label="Totals" aria-busy={fresh.checking || undefined}>
        {cartTotals(cart.lines).map((t) => (
          <p key={t.currency}>
            Total{mixed ? ` in ${t.currency}` : ''}: <strong>
              <Money minor={t.totalCents} currency={t.currency} />
            </strong>
          </p>
        ))}
      </section>
      {mixed && (
        <p className="warning" role="alert">
          Your cart has prices in more than one currency. One order has one currency: please order these items separately.
        </p>
      )}
      <div className="actions">
        {mixed ? (
          <button type="button" className="primary" disabled>
            Checkout
          </button>
        ) : (
          <Link to="/checkout" className="button primary">
            Checkout
          </Link>
        )}
      </div>
    </>
  );
}

/**
 * The key of a checkout attempt: the cart's nonce and its content (state.tsx). Nothing is written at checkout time, so
 * every tab of the shopper computes the same key for the same cart (a retry, a double click, a reload mid-order, or the
 * same cart placed from two tabs at once: one order); a changed cart is a new attempt.
 */
export function attemptKey(lines: readonly CartLine[]): string {
  return `${checkoutNonce()}.${contentHash(JSON.stringify(orderItems(lines)))}`;
}

/**
 * An order request sent from this cart lately whose outcome is unknown: no answer came (the page reloaded or left, the network dropped), or a 5xx:
 * 'same' when the cart is as it was sent, 'changed' when a quantity or a line changed since (the same cart's nonce: not
 * a cart emptied and filled again, nor the next user's), when ordering it is a new attempt, a second order if that one
 * went through. `answer`: the request was answered, with a 5xx that left the order unknown (not "no answer came").
 */
export function unansweredOrder(lines: readonly CartLine[]): { kind: 'same' | 'changed'; at: number; answer?: InFlightAnswer } | null {
  const sent = checkoutInFlight.latest();
  if (!sent || lines.length === 0) return null;
  const key = attemptKey(lines);
  if (sent.key === key) return { kind: 'same', at: sent.at, answer: sent.answer };
  return sent.key.slice(0, sent.key.lastIndexOf('.')) === key.slice(0, key.lastIndexOf('.')) ? { kind: 'changed', at: sent.at, answer: sent.answer } : null;
}

/**
 * That an order of this cart may have gone through (unansweredOrder), said on the cart and at checkout: the cart said
 * nothing, and checkout only while the cart was the same, so a quantity changed after "The shop could not be reached"
 * ordered it all again unwarned.
 */
export function InFlightNotice({ lines, at }: { lines: readonly CartLine[]; at: 'cart' | 'checkout' }) {
  const sent = unansweredOrder(lines);
  if (!sent) return null;
  const orders = <Link to="/orders">your orders</Link>;
  // An answer that came, a 5xx (the shop had a problem: its id to quote), is not said to have never come.
  const error = sent.answer && answeredWithError(sent.answer.status, sent.answer.ref);
  if (sent.kind === 'same') {
    return (
      <p className="warning" role="status">
        {error ? (
          <>
            This cart was being ordered, and {error}. The order may have gone through: see {orders}, or press Place order to try again; the same order is never placed twice.
          </>
        ) : at === 'checkout' ? (
          <>
            This cart was being ordered when the page was left, and the answer never came. The order may have gone through: see {orders}, or press Place order; the same order is never placed twice.
          </>
        ) : (
          <>
            This cart was being ordered, and the answer never came. The order may have gone through: see {orders} before you change the cart. Placed again as it is, the same order is never placed twice.
          </>
        )}
      </p>
    );
  }
  // Its day too, as every date of the shop (dates.ts): a cart kept from another day said "at 2:05 PM" as if today.
  const time = formatDateTime(sent.at);
  return (
    <p className="warning" role="status">
      {error ? `When an order was sent from this cart at ${time}, ${error}` : `An order sent from this cart at ${time} got no answer`}, and the cart has changed since. That order may have gone through, and ordering this cart now would be a second one: see {orders} first.
    </p>
  );
}

/**
 * Why a quantity typed was lowered, in the shop's words: the stock there is, or the most a cart holds of one product.
 * On the cart page (no `inCart`) the line now has what is left; on the product page (`inCart`, what the cart has of it
 * already) the field now has what can still be added. The name isolated (a right-to-left one keeps its direction).
 */
export function loweredWords(name: string, stock: number, typed: number, inCart?: number): ReactNode {
  const n = <bdi>{name}</bdi>;
  const f = (k: number) => k.toLocaleString('en');
  const cap = stock > MAX_QUANTITY;
  // The product page's end: what the cart has of it already, then what the field now has.
  const rest = inCart === undefined ? '' : `${inCart ? (cap ? `, and has ${f(inCart)}` : `, ${f(inCart)} in your cart`) : ''}; you can add ${f(Math.min(stock, MAX_QUANTITY) - inCart)}`;
  return cap ? (
    <>
      Your cart {rest ? 'can have' : 'has'} {f(MAX_QUANTITY)} of {n}, the most a cart holds of one{rest} (you typed {f(typed)}).
    </>
  ) : (
    <>
      Only {countOf(stock, 'unit')} of {n} left{rest || `; your cart now has ${f(stock)}`} (you typed {f(typed)}).
    </>
  );
}

/** The cart page's live region for what its lines' controls did (CartPage): there from the first render (a live region that appears with its text is not always heard). */
function Said({ empty, children }: { empty?: boolean; children: ReactNode }) {
  return (
    <p role="status" className={empty ? 'note said-empty' : 'note'}>
      {children}
    </p>
  );
}

/**
 * The cart's lines; with `say` (the cart page) their quantities and Remove, which tell it what they did: a quantity
 * typed above what the line can hold is lowered to it, said in a live region, not only drawn (the field showed the
 * lower number only once left, and a screen reader heard nothing). A line removed: said there too. A quantity changed:
 * said there once taken, with the cart's new total (the totals changed unheard).
 */
export function CartLines({ say }: { say?: (said: ReactNode) => void }) {
  const cart = useCart();
  const editable = say !== undefined;
  // Each thing said is counted: a sentence said once the cart answers is not said over a later one.
  const told = useRef(0);
  const setSaid = (said: ReactNode) => {
    told.current++;
    say?.(said);
  };
  // A line goes (Remove, or a quantity of 0 then Tab or Enter) with the control the focus was on or about to
  // reach: the focus goes to the next line's quantity (or the one before), else the page's main region. That it
  // went is said in the live region too: the focus landing on the next line's field told a screen reader nothing
  // of the removal. The units left end it, so removing a second line of the same name is heard again.
  const remove = (productId: string) => {
    const i = cart.lines.findIndex((x) => x.productId === productId);
    const gone = cart.lines[i];
    const next = cart.lines[i + 1] ?? cart.lines[i - 1];
    // Said and focused once the cart took it (a change waits its turn among the tabs': state.tsx).
    void cart.setQuantity(productId, 0).then((lines) => {
      if (gone) {
        const left = cartUnits(lines);
        setSaid(
          <>
            Removed <bdi>{gone.name}</bdi> from your cart{left > 0 ? `; it has ${countOf(left, 'item')} now` : '; it is empty now'}.
          </>,
        );
      }
      focusAfterRender(...(next ? [`[id="qty-${next.productId}"]`] : []));
    });
  };
  // Each line's controls say which line they act on, also when two products have one name.
  const labels = lineLabels(cart.lines.map((l) => l.name));
  return (
    <>
      <ul className="lines">
        {cart.lines.map((l, i) => (
          <li key={l.productId} className="line">
            <ProductImage product={l} size={72} />
            <div className="line-name">
              <Link to={`/products/${l.productId}`}>{l.name}</Link>
              <span className="unit">
                <Money minor={l.priceCents} currency={l.currency} /> each
              </span>
            </div>
            {editable ? (
              <div className="line-qty">
                <label htmlFor={`qty-${l.productId}`} className="visually-hidden">
                  Quantity of {labels[i]}
                </label>
                <QuantityInput
                  id={`qty-${l.productId}`}
                  value={l.quantity}
                  min={0}
                  max={Math.min(l.stock, MAX_QUANTITY)}
                  // A quantity typed is the cart's once settled, or after 0.6 s with no key: longer than the gap between
                  // the keys of a number typed (so "12" is one change, never 1 then 12), short enough to read as taken.
                  pause={600}
                  onChange={(q, typed) => {
                    // What was said before stays until what this change says replaces it (onSettled, once the cart has
                    // it): emptied at once, the region's line went and came back as the answer came, and Checkout moved
                    // under a click that left the field (pressed on it, released beside it: no click). Counted all the
                    // same: an earlier change's sentence, answered later, is not said over this one.
                    if (typed > q) setSaid(loweredWords(l.name, l.stock, typed));
                    else told.current++;
                    if (q !== 0) return cart.setQuantity(l.productId, q);
                    remove(l.productId);
                    return undefined;
                  }}
                  // A quantity taken (the field left or Enter after typing, an arrow key; not at each key typed) is said
                  // with the cart's new total once the cart has it: "Mug: quantity 3. Cart total €45.00." Not a lowered
                  // one (its sentence says what the line has now), nor a removal (said as such).
                  onSettled={(q, typed, answered) => {
                    if (q === 0 || typed > q || !answered) return;
                    const at = told.current;
                    void answered.then((lines) => {
                      const line = lines.find((x) => x.productId === l.productId);
                      if (!line || told.current !== at) return;
                      const totals = cartTotals(lines).map((t) => formatMoney(t.totalCents, t.currency));
                      setSaid(
                        <>
                          <bdi>{labels[i]}</bdi>: quantity {line.quantity.toLocaleString('en')}. Cart total{totals.length > 1 ? 's' : ''} {totals.join(' and ')}.
                        </>,
                      );
                    });
                  }}
                  // Text that is no quantity ("1o", nothing) is put back: said, not only redrawn (the cart and its order
                  // keep the quantity shown). The number the field shows again, which a change on its way is (the stored
                  // line's said "stays at 3" over a field showing the 9 typed before, until the cart's lock came).
                  onRejected={(text, kept) =>
                    setSaid(
                      <>
                        {text ? `“${text}” is not a number of units` : 'Quantity was empty'}: <bdi>{l.name}</bdi> stays at {kept.toLocaleString('en')}.
                        {!text && ' Type 0 or press Remove to take it out.'}
                      </>,
                    )
                  }
                />
                <button
                  type="button"
                  className="link-button"
                  // A double click removes one line: its second click lands on the next line's Remove, moved up under
                  // the pointer (a click's detail counts the clicks of a double click; a key press's is 0).
                  onClick={(e) => e.detail > 1 || remove(l.productId)}
                  aria-label={`Remove ${labels[i]}`}
                >
                  Remove
                </button>
              </div>
            ) : (
              <span className="line-qty">× {l.quantity}</span>
            )}
            <span className="line-total">
              <Money minor={l.priceCents * l.quantity} currency={l.currency} />
            </span>
          </li>
        ))}
      </ul>
    </>
  );
}
