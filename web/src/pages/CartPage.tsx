import { useEffect, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { MAX_QUANTITY, cartTotals, cartUnits, isMixedCurrency } from '../cart.js';
import { countOf } from '../count.js';
import { CartChanges, checkWords, useCartCheck } from '../cart-check.js';
import { Money, ProductImage, QuantityInput, focusAfterRender } from '../components.js';
import { EmptyCart, lineLabels } from '../page-parts.js';
import { useCart } from '../state.js';

export function CartPage() {
  const cart = useCart();
  const fresh = useCartCheck();
  useEffect(() => {
    document.title = 'Cart: Northwind Supply';
  }, []);
  if (cart.lines.length === 0) {
    return (
      <EmptyCart title="Cart" held={cart.held}>
        {fresh.changes.length > 0 && <CartChanges changes={fresh.changes} />}
      </EmptyCart>
    );
  }
  const mixed = isMixedCurrency(cart.lines);
  return (
    <>
      <h1>Cart</h1>
      <CartChanges changes={fresh.changes} />
      {/* A reload shows the cart remembered in this browser: until the shop answered, its old prices and stock showed as
          if current. Said while the shop is asked (the totals are marked busy), and when it could not be. */}
      <p className="hint" role="status">
        {checkWords(fresh)}
      </p>
      <CartLines editable />
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

export function CartLines({ editable }: { editable?: boolean }) {
  const cart = useCart();
  // A quantity typed above what the line can hold is lowered to it: said in a live region, not only drawn (the
  // field showed the lower number only once left, and a screen reader heard nothing). A line removed: said there too.
  const [said, setSaid] = useState<ReactNode>(null);
  // A line goes (Remove, or a quantity of 0 then Tab or Enter) with the control the focus was on or about to
  // reach: the focus goes to the next line's quantity (or the one before), else the page's main region. That it
  // went is said in the live region too: the focus landing on the next line's field told a screen reader nothing
  // of the removal. The units left end it, so removing a second line of the same name is heard again.
  const remove = (productId: string) => {
    const i = cart.lines.findIndex((x) => x.productId === productId);
    const gone = cart.lines[i];
    const next = cart.lines[i + 1] ?? cart.lines[i - 1];
    cart.setQuantity(productId, 0);
    if (gone) {
      const left = cartUnits(cart.lines) - gone.quantity;
      setSaid(
        <>
          Removed <bdi>{gone.name}</bdi> from your cart{left > 0 ? `; it has ${countOf(left, 'item')} now` : ''}.
        </>,
      );
    }
    focusAfterRender(...(next ? [`[id="qty-${next.productId}"]`] : []));
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
                  onChange={(q, typed) => {
                    setSaid(typed > q ? loweredWords(l.name, l.stock, typed) : null);
                    if (q === 0) remove(l.productId);
                    else cart.setQuantity(l.productId, q);
                  }}
                  // Text that is no quantity ("1o", nothing) is put back: said, not only redrawn (the cart and its order
                  // keep the quantity shown).
                  onRejected={(text) =>
                    setSaid(
                      <>
                        {text ? `“${text}” is not a number of units` : 'Quantity was empty'}: <bdi>{l.name}</bdi> stays at {l.quantity.toLocaleString('en')}.
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
      {/* There from the first render (a live region that appears with its text is not always heard). */}
      {editable && (
        <p role="status" className="note">
          {said}
        </p>
      )}
    </>
  );
}
