import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { Link, Navigate, useLocation, useNavigate, useParams } from 'react-router';
import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, namesNothing, ok, orderApi, productQuery, type Order } from '../api/client.js';
import { isCancellable, isSettled, shownStatus } from '../order-status.js';
import { DateTime, ErrorState, Loading, Money, NotLatest, focusAfterRender } from '../components.js';
import { NotFound, WaitingForSession } from '../page-parts.js';
import { CancelOrder, STATUS_TEXT, STATUS_WHY, lineName, statusWhySentence, unnamedProductIds, useOrderWithNames, useProductNames } from '../order-view.js';
import { failureText } from '../failure.js';
import { signInFrom } from '../return-path.js';
import { useAuth, useCart } from '../state.js';
import { countOf } from '../count.js';
import { MAX_QUANTITY } from '../cart.js';

function RequireSignIn({ children }: { children: React.ReactNode }) {
  const { status } = useAuth();
  const { pathname } = useLocation();
  if (status === 'loading') return <Loading />;
  if (status === 'anonymous') return <Navigate to={signInFrom(pathname)} replace />;
  if (status === 'unreachable') return <WaitingForSession />;
  return <>{children}</>;
}

export function OrdersPage() {
  useEffect(() => {
    document.title = 'Orders: Northwind Supply';
  }, []);
  return (
    <RequireSignIn>
      <h1>Orders</h1>
      <OrderList />
    </RequireSignIn>
  );
}

function OrderList() {
  const { user } = useAuth();
  // "Your orders", also for an admin (for whom GET /order lists everyone's: theirs are under Admin).
  const mine = user?.role === 'admin' ? { userId: user.id } : {};
  const orders = useInfiniteQuery({
    queryKey: ['orders', 'mine', user?.id],
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) => ok(await orderApi.GET('/order', { params: { query: { limit: 20, ...mine, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor,
    refetchInterval: (q) => (q.state.data?.pages.some((p) => p.items.some((o) => !isSettled(o))) ? 2000 : false),
    // Shown again (Back, the tab in view again), read at once, as the order page is (order-view.tsx): the copy of up to
    // staleTime (10 s) ago listed as confirmed an order cancelled meanwhile on another tab or by an admin.
    refetchOnMount: 'always',
    refetchOnWindowFocus: 'always',
  });
  const items = orders.data?.pages.flatMap((p) => p.items) ?? [];
  const names = useProductNames(items.flatMap((o) => unnamedProductIds(o)));
  // A cancel done here is said (the focus goes to the order's title, which says nothing of its status): it was silent.
  const [said, setSaid] = useState('');
  const cancelled = (o: Order) =>
    setSaid(o.status === 'cancelled' ? `Order ${o.id.slice(-8)} is cancelled: the items are back on the shelf.` : `Order ${o.id.slice(-8)} is ${STATUS_TEXT[shownStatus(o)] ?? shownStatus(o)}.`);
  if (orders.isPending) return <Loading label="Loading your orders" />;
  if (orders.isError && !orders.data) return <ErrorState message={failureText(orders.error, 'Your orders cannot be loaded right now')} retry={() => void orders.refetch()} />;
  if (items.length === 0)
    return (
      <div className="empty">
        <p>No orders yet.</p>
        <p>
          <Link to="/">Browse the shop</Link>
        </p>
      </div>
    );
  return (
    <>
      {orders.isRefetchError && <NotLatest retry={() => void orders.refetch()} />}
      <ul className="orders">
        {items.map((o) => (
          <li key={o.id} className="order panel">
            <OrderSummary order={o} names={names} onCancelled={cancelled} />
          </li>
        ))}
      </ul>
      {/* There from the first render (a live region that appears with its text is not always heard). Heard, not shown: the
          cancelled order shows it in its status, and the list does not move. */}
      <p role="status" className="visually-hidden">
        {said}
      </p>
      {orders.hasNextPage && (
        <div className="more">
          <button
            type="button"
            onClick={() => {
              const shown = items.length;
              void orders.fetchNextPage({ cancelRefetch: false }).then((r) => focusAfterRender(r.isFetchNextPageError ? '#orders-more' : `ul.orders > li:nth-child(${shown + 1}) .order-title a`));
            }}
            // Busy, it keeps the focus and a press meanwhile asks nothing more, as the shop's Load more.
            aria-disabled={orders.isFetchingNextPage || undefined}
            id="orders-more"
          >
            {orders.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </button>
          {orders.isFetchNextPageError && (
            <p className="error" role="alert">
              More orders could not be loaded just now; press Load more to try again.
            </p>
          )}
        </div>
      )}
    </>
  );
}

function OrderSummary({ order, names, heading = 'h2', onCancelled }: { order: Order; names: Map<string, string | null>; heading?: 'h1' | 'h2'; onCancelled?: (updated: Order) => void }) {
  const H = heading;
  return (
    <>
      <div className="order-head">
        {/* In Your orders the title links to the order's page; on that page (h1) it is no link to the page it is on.
            Either way it holds the id the cancel's focus goes to. */}
        {heading === 'h1' ? (
          <H className="order-title" id={`title-${order.id}`} tabIndex={-1}>
            Order {order.id.slice(-8)}
          </H>
        ) : (
          <H className="order-title">
            <Link to={`/orders/${order.id}`} id={`title-${order.id}`}>
              Order {order.id.slice(-8)}
            </Link>
          </H>
        )}
        <span className={`status status-${shownStatus(order)}`}>{STATUS_TEXT[shownStatus(order)] ?? shownStatus(order)}</span>
      </div>
      {/* Why a rejected (failed, pending) order is so, as its page says: the list showed its badge alone. Not on the
          order's own page, whose status message above says it in full. */}
      {heading === 'h2' && statusWhySentence(shownStatus(order)) && <p className="status-why">{statusWhySentence(shownStatus(order))}</p>}
      <p className="meta">
        Placed <DateTime iso={order.createdAt} />
        {order.totalCents !== null && <>
            {' · '}
            <Money minor={order.totalCents} currency={order.currency} />
          </>}
      </p>
      <ul className="order-items">
        {order.items.map((i) => (
          <li key={i.productId}>
            {i.quantity} × <bdi>{lineName(i, names)}</bdi>
            {i.unitPriceCents !== null && <>
                {' at '}
                <Money minor={i.unitPriceCents} currency={order.currency} />
              </>}
          </li>
        ))}
      </ul>
      {isCancellable(order) && <CancelOrder order={order} onCancelled={onCancelled} />}
    </>
  );
}

/** What checkout tells the order page it navigates to: that the order was just placed, and the total it showed. */
interface Arrival {
  placed?: boolean;
  shownTotalCents?: number;
}

export function OrderPage() {
  const { id = '' } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  // The thank-you belongs to the page checkout opened, once: the router keeps a navigation's state in the history
  // entry, so a reload (or Back to it from Your orders) said "Thank you!" again. It is kept here, for this visit
  // of this order, and taken off the entry.
  const [arrival, setArrival] = useState<{ id: string; state: Arrival | null }>(() => ({ id, state: location.state as Arrival | null }));
  if (arrival.id !== id) setArrival({ id, state: location.state as Arrival | null });
  const state = arrival.id === id ? arrival.state : (location.state as Arrival | null);
  const placed = state?.placed === true;
  const hasState = location.state !== null && location.state !== undefined;
  useEffect(() => {
    if (hasState) void navigate(location.pathname + location.search + location.hash, { replace: true, state: null });
  }, [hasState, navigate, location.pathname, location.search, location.hash]);
  // A layout effect: it runs before every passive one, so OrderDetail's "Order not found" (an error already cached,
  // so known at the first render) is written after it, not overwritten.
  useLayoutEffect(() => {
    document.title = `Order ${id.slice(-8)}: Northwind Supply`;
  }, [id]);
  return (
    <RequireSignIn>
      <OrderDetail key={id} id={id} placed={placed} shownTotalCents={state?.shownTotalCents} />
    </RequireSignIn>
  );
}

/**
 * A failed or rejected order's items put back in the cart, as many as the cart lacks of each: the cart gave them up when
 * the order went pending at checkout (it may still be placed), and when it failed later nothing gave them back, so the
 * page said "We could not take this order" over an empty cart. Offered while the cart has less of a line than the order.
 */
function PutBack({ order }: { order: Order }) {
  const cart = useCart();
  const queries = useQueryClient();
  const busy = useRef(false);
  const [said, setSaid] = useState<ReactNode>(null);
  const inCart = (id: string) => cart.lines.find((l) => l.productId.toLowerCase() === id.toLowerCase())?.quantity ?? 0;
  const lacking = order.items.filter((i) => inCart(i.productId) < i.quantity);
  async function putBack() {
    if (busy.current) return;
    busy.current = true;
    const notes: string[] = [];
    let back = 0;
    let unreachable = false;
    for (const item of lacking) {
      try {
        const p = await queries.fetchQuery({ ...productQuery(item.productId), staleTime: 0 });
        const { has } = await cart.add(p, item.quantity - inCart(item.productId));
        if (has > 0) back++;
        if (has < item.quantity)
          notes.push(
            has >= Math.min(p.stock, MAX_QUANTITY)
              ? has === 0
                ? `${p.name} is out of stock.`
                : `Only ${countOf(has, 'unit')} of ${p.name} ${has === 1 ? 'is' : 'are'} left: your cart has ${has}.`
              : `Your cart is full, so ${p.name} was not put back.`,
          );
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) notes.push(`${item.name ?? 'A product of this order'} is no longer sold.`);
        else unreachable = true;
      }
    }
    busy.current = false;
    setSaid(
      <>
        {unreachable
          ? `The shop could not be reached, so ${back ? 'some items were' : 'nothing was'} put back. Please try again in a moment.`
          : back
            ? 'Your cart has this order’s items again.'
            : 'Nothing could be put back in your cart.'}
        {notes.length > 0 && ` ${notes.join(' ')}`}{' '}
        <Link id="put-back-view-cart" to="/cart">
          View cart
        </Link>
      </>,
    );
    // The button goes once the cart has them: the focus, on it, would drop to the page's start.
    focusAfterRender('#put-back-view-cart');
  }
  return (
    <>
      {lacking.length > 0 && (
        <button type="button" onClick={() => void putBack()}>
          Put these items back in your cart
        </button>
      )}
      {/* There from the first render (a live region that appears with its text is not always heard). */}
      <p role="status" className="added">
        {said}
      </p>
    </>
  );
}

function OrderDetail({ id, placed, shownTotalCents }: { id: string; placed: boolean; shownTotalCents?: number }) {
  const { order, names } = useOrderWithNames(id);
  const { user } = useAuth();
  // The status the page first showed, and whether the poll has seen it change since: a change is said in the live
  // region below (a pending order confirmed, a cancelling one cancelled), however the page was opened.
  const status = order.data && shownStatus(order.data);
  const [firstStatus, setFirstStatus] = useState(status);
  if (firstStatus === undefined && status !== undefined) setFirstStatus(status);
  const changed = firstStatus !== undefined && status !== undefined && status !== firstStatus;
  // No order by that id (or not this customer's): the title says so, as the page does, not "Order <id>".
  const missing = namesNothing(order.error);
  useEffect(() => {
    if (missing) document.title = 'Order not found: Northwind Supply';
  }, [missing]);
  // Opened by checkout: the focus goes to what the page says of the order (confirmed, or held: pending, failed),
  // not the main region's start, where a keyboard or screen-reader user heard the page and not why the order waits.
  // A frame later: the Layout moves it to the main region after this effect (a parent's runs after its child's).
  const said = useRef<HTMLDivElement>(null);
  const loaded = order.data !== undefined;
  useEffect(() => {
    if (!placed || !loaded) return;
    const frame = requestAnimationFrame(() => {
      const now = document.activeElement;
      if (!now || now === document.body || now.id === 'main') said.current?.focus();
    });
    return () => cancelAnimationFrame(frame);
  }, [placed, loaded]);
  if (order.isPending) return <Loading label="Loading order" />;
  if (order.isError && (!order.data || namesNothing(order.error)))
    return namesNothing(order.error) ? (
      <NotFound title="Order not found" heading="h1">
        <Link to="/orders">Your orders</Link>
      </NotFound>
    ) : (
      <ErrorState message={failureText(order.error, 'This order cannot be loaded right now', 'It is safe; please try again in a moment.')} retry={() => void order.refetch()} />
    );
  const o = order.data;
  // Another customer's order, which only an admin can read: its page is the admin's (the customer's id, the cancel as an
  // admin's act). Shown here it read as the admin's own order, "All your orders" under it, while their Orders list,
  // their own orders only, did not have it.
  if (user && o.userId.toLowerCase() !== user.id.toLowerCase()) return <Navigate to={`/admin/orders/${o.id}`} replace />;
  // "cancelling": confirmed with its cancellation pending, not "Your order is confirmed".
  const shown = shownStatus(o);
  return (
    <div className="order-page">
      {order.isError && <NotLatest retry={() => void order.refetch()} />}
      <div className="result" role="status" ref={said} tabIndex={-1}>
        {shown === 'pending' && <p className="pending">Your order is pending: {STATUS_WHY.pending}. This page updates by itself.</p>}
        {shown === 'confirmed' && placed && <p className="success">Thank you! Your order is confirmed.</p>}
        {shown === 'confirmed' && !placed && changed && <p className="success">Your order is confirmed.</p>}
        {shown === 'cancelled' && changed && <p className="success">Your order is cancelled: the items are back on the shelf.</p>}
        {shown === 'confirmed' && placed && shownTotalCents !== undefined && o.totalCents !== null && o.totalCents !== undefined && o.totalCents !== shownTotalCents && o.currency && (
          <p className="warning" role="alert">
            A price changed while your order was being placed: it was taken at <Money minor={o.totalCents} currency={o.currency} />, not the <Money minor={shownTotalCents} currency={o.currency} /> shown. If
            you do not want it at this price, cancel it below.
          </p>
        )}
        {shown === 'failed' && <p className="error">We could not take this order; {STATUS_WHY.failed}.</p>}
        {shown === 'cancelling' && <p className="pending">Cancelling: the items are going back on the shelf. This page updates by itself.</p>}
        {shown === 'rejected' && <p className="error">This order was rejected: {STATUS_WHY.rejected}.</p>}
      </div>
      <section className="panel">
        <OrderSummary order={o} names={names} heading="h1" />
        {(shown === 'failed' || shown === 'rejected') && <PutBack order={o} />}
      </section>
      <p>
        <Link to="/orders">All your orders</Link> · <Link to="/">Continue shopping</Link>
      </p>
    </div>
  );
}
