import { useEffect } from 'react';
import { Link } from 'react-router';
import { MAX_QUANTITY, cartTotals, isMixedCurrency } from '../cart.js';
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

export function CartLines({ editable }: { editable?: boolean }) {
  const cart = useCart();
  // A line goes (Remove, or a quantity of 0 then Tab or Enter) with the control the focus was on or about to
  // reach: the focus goes to the next line's quantity (or the one before), else the page's main region.
  const remove = (productId: string) => {
    const i = cart.lines.findIndex((x) => x.productId === productId);
    const next = cart.lines[i + 1] ?? cart.lines[i - 1];
    cart.setQuantity(productId, 0);
    focusAfterRender(...(next ? [`[id="qty-${next.productId}"]`] : []));
  };
  return (
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
              <QuantityInput id={`qty-${l.productId}`} value={l.quantity} min={0} max={Math.min(l.stock, MAX_QUANTITY)} onChange={(q) => (q === 0 ? remove(l.productId) : cart.setQuantity(l.productId, q))} />
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
  );
}
