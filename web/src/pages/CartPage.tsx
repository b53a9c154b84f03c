import { useEffect, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { MAX_QUANTITY, cartTotals, isMixedCurrency, type CartLine } from '../cart.js';
import { countOf } from '../count.js';
import { CartChanges, useCartCheck } from '../cart-check.js';
import { EmptyCart, Money, ProductImage, QuantityInput, focusAfterRender } from '../components.js';
import { useCart } from '../state.js';

export function CartPage() {
  const cart = useCart();
  const fresh = useCartCheck();
  useEffect(() => {
    document.title = 'Cart: Northwind Supply';
  }, []);
  if (cart.lines.length === 0) {
    return (
      <>
        <CartChanges changes={fresh.changes} />
        <EmptyCart title="Cart" />
      </>
    );
  }
  const mixed = isMixedCurrency(cart.lines);
  return (
    <>
      <h1>Cart</h1>
      <CartChanges changes={fresh.changes} />
      <CartLines editable />
      <section className="totals" aria-label="Totals">
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
 * Why a quantity typed was lowered, in the shop's words (as the cart's changes and the product page say them): the
 * stock there is, or the most a cart holds of one product. The name isolated (a right-to-left one keeps its direction).
 */
function loweredWords(l: CartLine, typed: number): ReactNode {
  const name = <bdi>{l.name}</bdi>;
  return l.stock > MAX_QUANTITY ? (
    <>
      Your cart has {MAX_QUANTITY.toLocaleString('en')} of {name}, the most a cart holds of one (you typed {typed.toLocaleString('en')}).
    </>
  ) : (
    <>
      Only {countOf(l.stock, 'unit')} of {name} left; your cart now has {l.stock.toLocaleString('en')} (you typed {typed.toLocaleString('en')}).
    </>
  );
}

export function CartLines({ editable }: { editable?: boolean }) {
  const cart = useCart();
  // A quantity typed above what the line can hold is lowered to it: said in a live region, not only drawn (the
  // field showed the lower number only once left, and a screen reader heard nothing).
  const [lowered, setLowered] = useState<ReactNode>(null);
  // A line goes (Remove, or a quantity of 0 then Tab or Enter) with the control the focus was on or about to
  // reach: the focus goes to the next line's quantity (or the one before), else the page's main region.
  const remove = (productId: string) => {
    const i = cart.lines.findIndex((x) => x.productId === productId);
    const next = cart.lines[i + 1] ?? cart.lines[i - 1];
    cart.setQuantity(productId, 0);
    focusAfterRender(...(next ? [`[id="qty-${next.productId}"]`] : []));
  };
  return (
    <>
      <ul className="lines">
        {cart.lines.map((l) => (
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
                  Quantity of {l.name}
                </label>
                <QuantityInput
                  id={`qty-${l.productId}`}
                  value={l.quantity}
                  min={0}
                  max={Math.min(l.stock, MAX_QUANTITY)}
                  onChange={(q, typed) => {
                    setLowered(typed > q ? loweredWords(l, typed) : null);
                    if (q === 0) remove(l.productId);
                    else cart.setQuantity(l.productId, q);
                  }}
                />
                <button
                  type="button"
                  className="link-button"
                  onClick={() => remove(l.productId)}
                  aria-label={`Remove ${l.name}`}
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
          {lowered}
        </p>
      )}
    </>
  );
}
