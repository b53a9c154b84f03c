// The admin's orders: the list of all orders (filtered by user) and one order's page.
import { useEffect, useId, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { namesNothing, ok, orderApi } from '../../api/client.js';
import { DateTime, ErrorState, Loading, NotLatest } from '../../components.js';
import { NotFound } from '../../page-parts.js';
import { formatMoney } from '../../money.js';
import { CancelOrder, STATUS_TEXT, lineName, useOrderWithNames } from '../../order-view.js';
import { isCancellable, shownStatus } from '../../order-status.js';
import { failureText, notYet } from './messages.js';
import { ColumnHeads, PagedTable, TableRegion } from './tables.js';

const USER_ID_HINT = 'A user ID looks like 0192f3a4-5b6c-7d8e-9f01-23456789abcd (see Users).';
/** A user id as the services take it (any UUID, any letter case). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function Orders() {
  const [params, setParams] = useSearchParams();
  const userId = params.get('userId') ?? '';
  const [text, setText] = useState(userId);
  const [filterError, setFilterError] = useState<string | null>(null);
  // Back and Forward change the URL's filter: the field follows it (it showed the last one typed).
  useEffect(() => {
    setText(userId);
    setFilterError(null);
  }, [userId]);
  const filterId = useId();
  useEffect(() => {
    document.title = 'All orders: Admin: Northwind Supply';
  }, []);
  // An address whose filter is no id (a link cut short, typed by hand): said as the field says it, and nothing is
  // asked (the order service's 400 came with a Try again that could never work).
  const badAddress = userId !== '' && !UUID.test(userId);
  const shownError = filterError ?? (badAddress ? USER_ID_HINT : null);
  const orders = useInfiniteQuery({
    queryKey: ['orders', 'all', userId],
    enabled: !badAddress,
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) =>
      ok(await orderApi.GET('/order', { params: { query: { limit: 50, ...(pageParam ? { cursor: pageParam } : {}), ...(userId ? { userId } : {}) } as never } })),
    getNextPageParam: (last) => last.nextCursor,
  });
  const items = orders.data?.pages.flatMap((p) => p.items) ?? [];
  // An ID that lists no orders may be an order's own, copied from a customer's order link: "No orders." alone sent the
  // admin looking for a customer who does not exist. Asked once it lists none, and offered if it is one.
  const noneListed = userId !== '' && !badAddress && orders.isSuccess && items.length === 0;
  const asOrder = useQuery({
    queryKey: ['order', userId],
    enabled: noneListed,
    retry: false,
    queryFn: async () => ok(await orderApi.GET('/order/{id}', { params: { path: { id: userId } } })),
  });
  const orderOfId = noneListed && asOrder.data?.id.toLowerCase() === userId.toLowerCase() ? asOrder.data : undefined;
  return (
    <section aria-labelledby="orders-h">
      <h2 id="orders-h">All orders</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const id = text.trim();
          // Checked here, in words: the order service's 400 would quote its UUID pattern.
          if (id && !UUID.test(id)) {
            setFilterError(USER_ID_HINT);
            return;
          }
          setFilterError(null);
          setParams(id ? { userId: id } : {});
        }}
      >
        <div className="field grow">
          <label htmlFor={filterId}>User ID</label>
          <input
            id={filterId}
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="any user"
            aria-invalid={shownError ? true : undefined}
            aria-describedby={shownError ? `${filterId}-error` : undefined}
          />
        </div>
        <button type="submit">Filter</button>
      </form>
      {shownError && (
        <p id={`${filterId}-error`} className="error" role="alert">
          {shownError}
        </p>
      )}
      {/* A filter that is no id, in the address or typed: only its hint. A list shown would answer an earlier filter
          (or none), read as the orders of what the field says. */}
      {shownError ? null : orders.isPending ? (
        <Loading />
      ) : orders.isError && !orders.data ? (
        <ErrorState message={failureText(orders.error)} retry={() => void orders.refetch()} />
      ) : items.length === 0 ? (
        <p className="empty">
          {orderOfId ? (
            <>
              No orders of a user with this ID: it is the ID of order {orderOfId.id.slice(-8)}.{' '}
              <Link to={`/admin/orders/${orderOfId.id}`}>Open order {orderOfId.id.slice(-8)}</Link>
            </>
          ) : (
            'No orders.'
          )}
        </p>
      ) : (
        <PagedTable label="Orders table" list={orders} shown={items.length} section="orders-h">
          <ColumnHeads names={['Order', 'User', 'Status', 'Total', 'Placed']} />
          <tbody>
            {items.map((o) => (
              <tr key={o.id}>
                <th scope="row">
                  <Link to={`/admin/orders/${o.id}`}>{o.id.slice(-8)}</Link>
                </th>
                <td>
                  <Link to={`/admin/orders?userId=${o.userId}`} onClick={() => setText(o.userId)}>
                    {o.userId.slice(-8)}
                  </Link>
                </td>
                <td>
                  <span className={`status status-${shownStatus(o)}`}>{shownStatus(o)}</span>
                </td>
                <td>{o.totalCents === null ? '—' : formatMoney(o.totalCents, o.currency)}</td>
                <td>
                  <DateTime iso={o.createdAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </PagedTable>
      )}
    </section>
  );
}

/** One order as the admin sees it: whose it is, every line, the totals and times; cancellable like the owner's. */
export function AdminOrder() {
  const { id = '' } = useParams();
  const { order, names } = useOrderWithNames(id);
  const missing = namesNothing(order.error);
  useEffect(() => {
    document.title = `${missing ? 'Order not found' : `Order ${id.slice(-8)}`}: Admin: Northwind Supply`;
  }, [id, missing]);
  if (!order.data || missing)
    return notYet(
      order,
      'Loading order',
      <NotFound title="Order not found">
        <Link to="/admin/orders">All orders</Link>
      </NotFound>,
    );
  const o = order.data;
  return (
    <>
      {order.isError && <NotLatest retry={() => void order.refetch()} />}
      <p>
        <Link to="/admin/orders">All orders</Link>
      </p>
      <section className="panel" aria-labelledby={`title-${o.id}`}>
        <div className="order-head">
          <h2 id={`title-${o.id}`} tabIndex={-1}>
            Order {o.id.slice(-8)}
          </h2>
          <span className={`status status-${shownStatus(o)}`}>{STATUS_TEXT[shownStatus(o)] ?? shownStatus(o)}</span>
        </div>
        <dl className="facts">
          <dt>Order ID</dt>
          <dd>
            <code>{o.id}</code>
          </dd>
          <dt>Customer</dt>
          <dd>
            <Link to={`/admin/orders?userId=${o.userId}`} aria-label={`All orders of customer ${o.userId}`}>
              <code>{o.userId}</code>
            </Link>
          </dd>
          <dt>Placed</dt>
          <dd>
            <DateTime iso={o.createdAt} />
          </dd>
          <dt>Last change</dt>
          <dd>
            <DateTime iso={o.updatedAt} />
          </dd>
          <dt>Total</dt>
          <dd>{o.totalCents === null ? 'not set (no stock was reserved)' : formatMoney(o.totalCents, o.currency)}</dd>
        </dl>
        <TableRegion label="Order lines">
          <table>
            <ColumnHeads names={['Product', 'Quantity', 'Unit price', 'Line total']} />
            <tbody>
              {o.items.map((i) => (
                <tr key={i.productId}>
                  <th scope="row">
                    <Link to={`/admin/products/${i.productId}`}>{lineName(i, names)}</Link>
                  </th>
                  <td>{i.quantity}</td>
                  <td>{i.unitPriceCents === null ? '—' : formatMoney(i.unitPriceCents, o.currency)}</td>
                  <td>{i.unitPriceCents === null ? '—' : formatMoney(i.unitPriceCents * i.quantity, o.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
        {isCancellable(o) && <CancelOrder order={o} />}
      </section>
    </>
  );
}
