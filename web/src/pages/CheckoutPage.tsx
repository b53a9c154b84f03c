import { Fragment, useEffect, useRef, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useOutletContext } from 'react-router';
import { hasAccessToken, orderApi } from '../api/client.js';
import { cartTotals, isMixedCurrency, orderItems } from '../cart-order.js';
import { checkoutInFlight, placeOrder, type ShortItem } from '../checkout.js';
import { CartChanges, checkWords, useCartCheck } from '../cart-check.js';
import { Loading, Money, focusAfterRender } from '../components.js';
import { EmptyCart, WaitingForSession } from '../page-parts.js';
import { countOf } from '../count.js';
import { ordersChanged } from '../order-events.js';
import { newCheckoutAttempt, useAuth, useCart } from '../state.js';
import type { Notify } from '../Layout.js';
import { AuthForms } from './AuthForms.js';
import { CartLines, InFlightNotice, attemptKey, unansweredOrder } from './CartPage.js';

export function CheckoutPage() {
  const auth = useAuth();
  const email = auth.user?.email ?? '';
  const cart = useCart();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [placing, setPlacing] = useState(false);
  const [short, setShort] = useState<{ lines: ShortLine[] } | null>(null);
  const [error, setError] = useState<ReactNode>(null);
  const busy = useRef(false);
  const fresh = useCartCheck();
  const notify = useOutletContext<Notify>();
  // Whether the shopper is still here: an answer that comes after they left (Back, a link) does not pull them away.
  const shown = useRef(true);
  useEffect(() => {
    shown.current = true;
    return () => {
      shown.current = false;
    };
  }, []);
  useEffect(() => {
    document.title = 'Checkout: Northwind Supply';
  }, []);
  // Signing in here swaps the form for the order panel; the focus, on a button that is gone, would fall back to
  // the page's start. It goes to the panel's heading instead, so keyboard and screen-reader users are where the
  // next step is.
  // A Place order whose answer this page never saw (reloaded, closed, crashed mid-request, the network gone), for
  // this cart or for one it was before a change (InFlightNotice says which). Not while this page places one.
  const [leftInFlight, setLeftInFlight] = useState(() => unansweredOrder(cart.lines) !== null);
  const placeHeading = useRef<HTMLHeadingElement>(null);
  const sawSignIn = useRef(false);
  // A cart put aside for the customer (state.tsx) comes back a render after the sign-in: the panel, and the focus, then.
  const hasLines = cart.lines.length > 0;
  useEffect(() => {
    if (auth.status === 'anonymous') sawSignIn.current = true;
    else if (auth.status !== 'loading' && sawSignIn.current) {
      // What was said above the sign-in form ("Your session has ended; please sign in again.") is over.
      setError(null);
      if (!placeHeading.current) return;
      sawSignIn.current = false;
      placeHeading.current.focus();
    }
  }, [auth.status, hasLines]);

  // Shown above the sign-in form (a session that ended while placing) or in the order panel.
  const errorAlert = error && (
    <p id="checkout-error" className="error" role="alert" tabIndex={-1}>
      {error}
    </p>
  );
  // The session ended (here, while placing, or before): the customer's cart is put aside (state.tsx), so it is not
  // shown; signing in again brings it back to this page. Not "Your cart is empty" alone, which read as lost.
  if (cart.lines.length === 0 && !placing && cart.held && auth.status === 'anonymous') {
    return (
      <>
        <h1>Checkout</h1>
        {errorAlert}
        <AuthForms intro="The cart of the customer who was signed in here is kept for them. Sign in to see it again and place the order." />
      </>
    );
  }
  if (cart.lines.length === 0 && !placing) {
    return (
      <EmptyCart title="Checkout">
        {(fresh.changes.length > 0 || short) && (
          <>
            <CartChanges changes={fresh.changes} />
            {/* A sold-out item was the whole cart: the refusal is said here too, not only an empty cart. */}
            {short && <ShortAlert short={short} cartEmpty />}
          </>
        )}
      </EmptyCart>
    );
  }
  const mixed = isMixedCurrency(cart.lines);
  // Why the order was not placed: said in an alert that takes the focus (the pressed button was disabled meanwhile).
  const refuse = (text: ReactNode) => {
    setError(text);
    focusAfterRender('#checkout-error');
  };

  async function place() {
    // Also guards the gap before React re-renders the disabled button.
    if (busy.current) return;
    busy.current = true;
    setPlacing(true);
    setLeftInFlight(false);
    setError(null);
    setShort(null);
    // The key is taken at the click, before any wait: a second tab clicking at the same moment computes the
    // same one even if this tab's order ends (and starts a new attempt) before its own request leaves.
    const lines = cart.lines;
    const key = attemptKey(lines);
    // The last look at prices and stock, so what is ordered is what the page shows; a change stops here and
    // is shown (pressing again places the order as it now reads, under a key of its content).
    const changes = await fresh.check();
    if (changes.length > 0) {
      busy.current = false;
      setPlacing(false);
      // The button was disabled while looking: the focus goes to what changed, not to the page's start.
      focusAfterRender('#cart-changes');
      return;
    }
    checkoutInFlight.mark(key);
    const outcome = await placeOrder(async (idempotencyKey) => {
      const res = await orderApi.POST('/order', { params: { header: { 'idempotency-key': idempotencyKey } }, body: { items: orderItems(lines) } });
      return { status: res.response.status, body: res.data ?? res.error, requestId: res.response.headers.get('x-request-id') };
    }, key);
    // No answer at all (network down throughout), or a 5xx: it may have gone through, so the mark stays for a reload.
    if (outcome.kind !== 'unreachable') checkoutInFlight.clear();
    // A 5xx answered it: still unknown, but an answer came, which a reload says (InFlightNotice).
    else if (outcome.answered) checkoutInFlight.answered(key, outcome.answered);
    busy.current = false;
    setPlacing(false);
    switch (outcome.kind) {
      case 'placed':
      case 'pending':
      case 'failed': {
        // A failed order holds nothing: the cart stays for another try, under a new key. A placed or pending
        // one takes what it ordered off the cart and keeps the key: a second tab pressing with the same cart gets
        // this order. What went into the cart meanwhile (another tab) stays, as a new attempt (state.tsx). Written
        // down at once, like a press: a reload before its turn left the ordered units in the cart, unsaid.
        const id = outcome.kind === 'placed' ? outcome.order.id : outcome.orderId;
        if (outcome.kind === 'failed') newCheckoutAttempt();
        else void cart.ordered(id, lines.map((l) => ({ productId: l.productId, quantity: l.quantity })));
        ordersChanged(queries);
        // The total the shopper confirmed: the order page says so if the shop charged another one (a price
        // changed between the last look and the order).
        const total = cartTotals(lines)[0];
        if (shown.current) {
          navigate(`/orders/${id}`, { state: { placed: true, shownTotalCents: total?.totalCents } });
          return;
        }
        // Left while the order was on its way: it stays placed, and the page they chose says so, with the way to it.
        const order = <Link to={`/orders/${id}`}>Order {id.slice(-8)}</Link>;
        notify(
          outcome.kind === 'placed' ? (
            <>{order} is placed.</>
          ) : outcome.kind === 'pending' ? (
            <>{order} is placed; the shop is confirming it.</>
          ) : (
            <>{order} could not be completed; its page says why.</>
          ),
        );
        return;
      }
      case 'short': {
        newCheckoutAttempt();
        const byId = new Map(outcome.items.map((i: ShortItem) => [i.productId, i]));
        setShort({
          lines: lines.filter((l) => byId.has(l.productId)).map((l) => ({ productId: l.productId, name: l.name, requested: byId.get(l.productId)!.requested, available: byId.get(l.productId)!.available })),
        });
        // The cart now knows the real stock: short lines drop to what is left (or go), so the next try can succeed.
        // The focus moves once the stored cart took it: an emptied cart draws the page anew, which took the focus
        // from the refusal when it came a moment after it (the change waits for the other tabs' last one).
        await cart.cap(outcome.items.map((s) => ({ productId: s.productId, quantity: s.available, stock: s.available })));
        focusAfterRender('#checkout-short');
        return;
      }
      case 'price-changed': {
        // Refused, nothing reserved: the cart takes the prices the shop has now (cart-check says which moved),
        // and the shopper decides again. The next press is another request, under a key of the new content.
        newCheckoutAttempt();
        const moved = await fresh.check();
        const names = lines.filter((l) => outcome.items.some((i) => i.productId.toLowerCase() === l.productId.toLowerCase())).map((l) => l.name);
        refuse(
          <>
            The price of {names.length ? <Names names={names} /> : 'an item'} changed as you placed the order, so it was not placed and nothing was charged.
            {moved.length ? ' Your cart now shows the current prices; check them and place the order again.' : ' Check your cart and place the order again.'}
          </>,
        );
        return;
      }
      case 'gone': {
        // A product archived between the last look and the order: nothing was ordered. The look again takes it out of
        // the cart (cart-check says so) and the shopper decides again. It said the service's "One or more products are
        // unknown or archived; the order was recorded as rejected", naming none, the cart unchanged, so pressing again
        // only ran that look.
        newCheckoutAttempt();
        const moved = await fresh.check();
        const ids = new Set(outcome.productIds.map((id) => id.toLowerCase()));
        const names = lines.filter((l) => ids.has(l.productId.toLowerCase())).map((l) => l.name);
        const left = moved.some((c) => c.kind === 'gone');
        refuse(
          <>
            {names.length ? <Names names={names} /> : 'A product in your cart'} {names.length > 1 ? 'are' : 'is'} no longer sold, so the order was not placed and nothing was ordered.
            {left ? ' It was taken out of your cart; check your cart and place the order again.' : ' Check your cart and place the order again.'}
          </>,
        );
        return;
      }
      case 'over-limit': {
        // Nothing was recorded. The cart takes the most one order holds of each such product, and says so: the
        // old page said only "At most 10 units of one product per order", naming no product and changing nothing,
        // so pressing again was refused again.
        newCheckoutAttempt();
        const byId = new Map(outcome.items.map((i) => [i.productId.toLowerCase(), i]));
        const over = lines.filter((l) => byId.has(l.productId.toLowerCase()));
        if (over.length === 0) {
          refuse(outcome.detail);
          return;
        }
        void cart.cap(outcome.items.map((i) => ({ productId: i.productId, quantity: i.max })));
        const max = byId.get(over[0]!.productId.toLowerCase())!.max;
        refuse(
          <>
            {`One order takes at most ${countOf(max, 'unit')} of a product, so it was not placed.`}
            {over.map((l) => (
              <Fragment key={l.productId}>
                {' '}
                <bdi>{l.name}</bdi>
                {`: your cart had ${l.quantity.toLocaleString('en')} and now has ${Math.min(l.quantity, max).toLocaleString('en')}.`}
              </Fragment>
            ))}
            {' Check your cart and place the order again; order more in another order.'}
          </>,
        );
        return;
      }
      case 'unreachable':
        // The key is kept: pressing again retries the same attempt and cannot make a second order.
        refuse(outcome.detail);
        return;
      case 'refused':
        newCheckoutAttempt();
        // A 401 here is after a refresh and one more try (api/client.ts): the session ended, unless the refresh
        // got no answer (the token is kept, and renewed later).
        refuse(outcome.status !== 401 ? outcome.detail : hasAccessToken() ? 'Your session could not be renewed just now; please try again in a moment.' : 'Your session has ended; please sign in again.');
        return;
    }
  }

  return (
    <>
      <h1>Checkout</h1>
      <div className="checkout">
        <section className="panel" aria-labelledby="summary-h">
          <h2 id="summary-h">Your order</h2>
          <CartLines />
          {cartTotals(cart.lines).map((t) => (
            <p key={t.currency} className="total">
              Total{mixed ? ` in ${t.currency}` : ''}: <strong>
                <Money minor={t.totalCents} currency={t.currency} />
              </strong>
            </p>
          ))}
          <p className="hint" role="status">{checkWords(fresh) ?? 'Prices and stock are checked again when you place the order.'}</p>
          <CartChanges changes={fresh.changes} />
        </section>
        {auth.status === 'loading' ? (
          <Loading />
        ) : auth.status === 'unreachable' ? (
          <section className="panel" aria-labelledby="place-h">
            <h2 id="place-h">Place your order</h2>
            <WaitingForSession />
          </section>
        ) : auth.status === 'anonymous' ? (
          <div>
            {/* A session that ended while placing: why the sign-in form is back. */}
            {errorAlert}
            <AuthForms intro="Sign in or create an account to place your order. Your cart stays as it is." />
          </div>
        ) : (
          <section className="panel" aria-labelledby="place-h">
            <h2 id="place-h" ref={placeHeading} tabIndex={-1}>
              Place your order
            </h2>
            {/* The email's last character and the full stop break as one (styles.css .nowrap): the stop alone never starts a line. */}
            <p>
              Signed in as {email.slice(0, -1)}
              <span className="nowrap">{email.slice(-1)}.</span>
            </p>
            {leftInFlight && <InFlightNotice lines={cart.lines} at="checkout" />}
            {short && <ShortAlert short={short} cartEmpty={false} />}
            {errorAlert}
            {mixed ? (
              <p className="warning" role="alert">
                Your cart has prices in more than one currency; please order them separately.
              </p>
            ) : (
              // While placing, the button keeps the focus (aria-disabled; place() ignores a press meanwhile): disabled, it
              // dropped the focus to the page, and a keyboard or screen-reader user was nowhere, hearing nothing, until the
              // answer came. On the button, "Placing order…" is its name.
              <button type="button" className="primary wide" onClick={() => void place()} disabled={!placing && (fresh.checking || cart.lines.length === 0)} aria-disabled={placing || undefined}>
                {placing ? 'Placing order…' : 'Place order'}
              </button>
            )}
          </section>
        )}
      </div>
    </>
  );
}

/**
 * Product names in a sentence, each isolated: a name in a right-to-left script (begun by a digit, ended by a bang)
 * keeps its own direction instead of spilling into the words around it.
 */
function Names({ names }: { names: string[] }) {
  return names.map((name, i) => (
    <Fragment key={i}>
      {i > 0 && ', '}
      <bdi>{name}</bdi>
    </Fragment>
  ));
}

interface ShortLine {
  productId: string;
  name: string;
  requested: number;
  available: number;
}

/** A 409 insufficient-stock: nothing was ordered, and which items were short. */
function ShortAlert({ short, cartEmpty }: { short: { lines: ShortLine[] }; cartEmpty: boolean }) {
  return (
    <div id="checkout-short" className="warning" role="alert" tabIndex={-1}>
      <p>Not enough stock for some items; nothing was ordered. {cartEmpty ? 'None of them are left, so your cart is now empty.' : 'Your cart now holds what is left.'}</p>
      <ul>
        {short.lines.map((s) => (
          <li key={s.productId}>
            <bdi>{s.name}</bdi>: you asked for {countOf(s.requested, 'unit')}, {s.available === 0 ? 'none are left' : `only ${countOf(s.available, 'unit')} left`}.
          </li>
        ))}
      </ul>
      {!cartEmpty && (
        <p>
          <Link to="/cart">Change quantities in your cart</Link>
        </p>
      )}
    </div>
  );
}
