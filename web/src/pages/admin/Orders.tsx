// The admin's orders: the list of all orders (filtered by user) and one order's page.
import { Fragment, useEffect, useId, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useInfiniteQuery, useQueries, useQuery } from '@tanstack/react-query';
import { namesNothing, ok, orderApi, userApi } from '../../api/client.js';
import { DateTime, ErrorState, Loading, NotLatest } from '../../components.js';
import { NotFound } from '../../page-parts.js';
import { formatMoney } from '../../money.js';
import { CancelOrder, STATUS_TEXT, lineName, useOrderWithNames } from '../../order-view.js';
import { isCancellable, shownStatus } from '../../order-status.js';
import { failureText, notYet } from './messages.js';
import { ColumnHeads, PagedTable, TableRegion } from './tables.js';

const USER_ID_HINT = 'A user ID looks like 0192f3a4-5b6c-7d8e-9f01-23456789abcd (see Users).';
const SEARCH_HINT = `${USER_ID_HINT} Or type a customer’s email, or the 8-character order number the shop shows.`;
/** A user id as the services take it (any UUID, any letter case). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The order number the shop shows (the last 8 hex digits of the id), as pasted: "3f9a0c1e", "#3F9A0C1E", "Order 3f9a0c1e". */
const ORDER_NUMBER = /^(?:order\s*)?#?\s*([0-9a-f]{8})$/i;
/** An email as a person types one: the user service judges it exactly; this only tells it from an id or a number. */
const EMAIL = /^[^@\s]+@[^@\s]+$/;

/** What the orders search field holds, as the address keeps it: a user id, a customer's email or an order number. */
function searchOf(text: string): Record<string, string> | null {
  const t = text.trim();
  if (t === '') return {};
  if (UUID.test(t)) return { userId: t };
  const number = ORDER_NUMBER.exec(t);
  if (number) return { number: number[1]!.toLowerCase() };
  if (EMAIL.test(t)) return { email: t };
  return null;
}

/** An email that may wrap after its @ and before a dot (<wbr>), where a reader expects it, not inside a word. */
function BreakableEmail({ email }: { email: string }) {
  const parts = email.split(/(?<=@)|(?=\.)/);
  return (
    <>
      {parts.map((part, i) => (
        <Fragment key={i}>
          {i > 0 && <wbr />}
          {part}
        </Fragment>
      ))}
    </>
  );
}

/** The ids' accounts, read in batches (one request for a page of orders' customers): id -> email, for those read so far. */
function useEmails(userIds: readonly string[]): Map<string, string> {
  const ids = [...new Set(userIds.map((id) => id.toLowerCase()))].sort();
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += 100) batches.push(ids.slice(i, i + 100));
  const answers = useQueries({
    queries: batches.map((batch) => ({
      queryKey: ['users', 'by-id', batch],
      staleTime: 60_000,
      queryFn: async () => ok(await userApi.GET('/user/users', { params: { query: { id: batch, limit: 100 } } })),
    })),
  });
  const emails = new Map<string, string>();
  for (const a of answers) for (const u of a.data?.items ?? []) emails.set(u.id.toLowerCase(), u.email);
  return emails;
}

export function Orders() {
  const [params, setParams] = useSearchParams();
  const userIdParam = params.get('userId') ?? '';
  const email = params.get('email') ?? '';
  const number = params.get('number') ?? '';
  const searched = userIdParam || email || number;
  const [text, setText] = useState(searched);
  const [filterError, setFilterError] = useState<string | null>(null);
  // Back and Forward change the URL's filter: the field follows it (it showed the last one typed).
  useEffect(() => {
    setText(searched);
    setFilterError(null);
  }, [searched]);
  const filterId = useId();
  useEffect(() => {
    document.title = 'All orders: Admin: Northwind Supply';
  }, []);
  // An address whose filter is no id (a link cut short, typed by hand): said as the field says it, and nothing is
  // asked (the order service's 400 came with a Try again that could never work).
  const badAddress = (userIdParam !== '' && !UUID.test(userIdParam)) || (number !== '' && !/^[0-9a-f]{8}$/i.test(number));
  const shownError = filterError ?? (badAddress ? (userIdParam !== '' ? USER_ID_HINT : SEARCH_HINT) : null);
  // A customer's email is looked up at the user service (exact, any letter case): its account's id filters the orders.
  const customer = useQuery({
    queryKey: ['users', 'by-email', email.toLowerCase()],
    enabled: email !== '',
    queryFn: async () => ok(await userApi.GET('/user/users', { params: { query: { email } } })),
  });
  const emailUser = customer.data?.items[0];
  const userId = email !== '' ? (emailUser?.id ?? '') : userIdParam;
  const noSuchEmail = email !== '' && customer.isSuccess && !emailUser;
  const orders = useInfiniteQuery({
    queryKey: ['orders', 'all', userId, number],
    enabled: !badAddress && (email === '' || emailUser !== undefined),
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) =>
      ok(
        await orderApi.GET('/order', {
          params: { query: { limit: 50, ...(pageParam ? { cursor: pageParam } : {}), ...(userId ? { userId } : {}), ...(number ? { number } : {}) } as never },
        }),
      ),
    getNextPageParam: (last) => last.nextCursor,
  });
  const items = orders.data?.pages.flatMap((p) => p.items) ?? [];
  const emails = useEmails(items.map((o) => o.userId));
  // An ID that lists no orders may be an order's own, copied from a customer's order link: "No orders." alone sent the
  // admin looking for a customer who does not exist. Asked once it lists none, and offered if it is one.
  const noneListed = userIdParam !== '' && email === '' && !badAddress && orders.isSuccess && items.length === 0;
  const asOrder = useQuery({
    queryKey: ['order', userId],
    enabled: noneListed,
    retry: false,
    queryFn: async () => ok(await orderApi.GET('/order/{id}', { params: { path: { id: userId } } })),
  });
  const orderOfId = noneListed && asOrder.data?.id.toLowerCase() === userId.toLowerCase() ? asOrder.data : undefined;
  const emptyText = number !== '' ? `No order has the number ${number}.` : email !== '' ? `No orders of ${emailUser?.email ?? email}.` : 'No orders.';
  return (
    <section aria-labelledby="orders-h">
      <h2 id="orders-h">All orders</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          // Checked here, in words: the order service's 400 would quote its UUID pattern.
          const search = searchOf(text);
          if (!search) {
            setFilterError(SEARCH_HINT);
            return;
          }
          setFilterError(null);
          setParams(search);
        }}
      >
        <div className="field grow">
          <label htmlFor={filterId}>Customer email, user ID or order number</label>
          <input
            id={filterId}
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="any customer, any order"
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
      {!shownError && emailUser && (
        <p>
          Orders of {emailUser.email}, user ID <code>{emailUser.id}</code>
        </p>
      )}
      {shownError ? null : noSuchEmail ? (
        <p className="empty" role="status">
          No customer has the email {email}.
        </p>
      ) : email !== '' && customer.isError ? (
        <ErrorState message={failureText(customer.error)} retry={() => void customer.refetch()} />
      ) : orders.isPending ? (
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
            emptyText
          )}
        </p>
      ) : (
        <PagedTable label="Orders table" list={orders} shown={items.length} section="orders-h">
          <ColumnHeads names={['Order', 'Customer', 'Status', 'Total', 'Placed']} />
          <tbody>
            {items.map((o) => (
              <tr key={o.id}>
                <th scope="row">
                  <Link to={`/admin/orders/${o.id}`}>{o.id.slice(-8)}</Link>
                </th>
                <td className="text">
                  {/* The customer's email (the ID stays in the link, and on the order's page); the ID's end until it is read. */}
                  <Link to={`/admin/orders?userId=${o.userId}`} onClick={() => setText(o.userId)} title={`User ID ${o.userId}`}>
                    {emails.get(o.userId.toLowerCase()) ?? o.userId.slice(-8)}
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
  const emails = useEmails(order.data ? [order.data.userId] : []);
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
            {/* On a line of its own, with break points after the @ and before each dot: at 200% text on a 320 px phone
                it broke letter by letter beside the ID. */}
            {emails.has(o.userId.toLowerCase()) && (
              <div>
                <BreakableEmail email={emails.get(o.userId.toLowerCase())!} />
              </div>
            )}
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
