// What the shopper's order pages and the admin's order page show alike: status words, line names, and the
// cancel with its confirmation step.
import { useState } from 'react';
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, isTimeout, ok, orderApi, problemText, productQuery, type Order } from './api/client.js';
import { isSettled } from './order-status.js';
import { focusAfterRender } from './components.js';
import { useOneAtATime } from './page-parts.js';
import { ordersChanged } from './order-events.js';

export const STATUS_TEXT: Record<string, string> = {
  pending: 'pending',
  confirmed: 'confirmed',
  rejected: 'rejected',
  failed: 'failed',
  cancelled: 'cancelled',
  cancelling: 'cancelling',
};

/**
 * Why an order is held or was not taken, in the words its own page (OrdersPage.tsx, OrderDetail) and Your orders
 * use alike: the list showed a rejected order as a red badge alone, its page saying why and that nothing was kept.
 */
export const STATUS_WHY: Partial<Record<string, string>> = {
  pending: 'we will confirm it shortly',
  rejected: 'nothing was reserved (not enough stock, or a product is no longer sold)',
  failed: 'nothing was charged and no stock was kept',
};

/** STATUS_WHY as a sentence of its own (Your orders' line under an order), or undefined for a status it does not explain. */
export function statusWhySentence(status: string): string | undefined {
  const why = STATUS_WHY[status];
  return why && `${why.charAt(0).toUpperCase()}${why.slice(1)}.`;
}

/**
 * How often an open order page reads a confirmed order again (not yet cancelled): an admin's cancel, or one in another
 * tab, was not shown until focus, Back or a reload, with Cancel order still offered. Only while the page is visible
 * (TanStack Query's refetchInterval pauses in a hidden tab) and never two reads at once (a read under way is joined).
 */
const CONFIRMED_REFRESH_MS = 15_000;

/** How soon a product name that could not be read (no answer, a 5xx) is asked for again while its page is in view. */
const NAME_RETRY_MS = 5_000;
const isGone = (err: unknown) => err instanceof ApiError && err.status === 404;
const askAgainUnanswered = (q: { state: { status: string; error: unknown } }) => (q.state.status === 'error' && !isGone(q.state.error) ? NAME_RETRY_MS : false);

/**
 * Product names for order lines that do not carry one (pending, rejected and failed orders, and orders confirmed
 * before the order service kept names): read from the shop; an archived product has none to give.
 */
export function useProductNames(ids: string[]): Map<string, string | null> {
  const unique = [...new Set(ids)];
  const results = useQueries({
    queries: unique.map((id) => ({
      ...productQuery(id),
      retry: false,
      staleTime: 60_000,
      // A lookup that failed for want of an answer (the product service away) is asked again every few seconds while
      // the page is in view: a settled order is read no more, so its line said "its name cannot be read right now"
      // for as long as the page stayed open, the shop long back. A 404 (archived) is final.
      refetchInterval: askAgainUnanswered,
    })),
  });
  // A name, or null when the shop answered 404 (archived); a lookup that failed otherwise (the product service
  // down) is left out: the line is then named vaguely, not called "no longer sold".
  return new Map<string, string | null>(
    results.flatMap((r, i): [string, string | null][] => (r.data ? [[r.data.id, r.data.name]] : isGone(r.error) ? [[unique[i]!, null]] : [])),
  );
}

/** How an order line is named: as the order stored it, else as the shop names the product now. */
export function lineName(item: { productId: string; name?: string }, names: Map<string, string | null>): string {
  if (item.name !== undefined) return item.name;
  const known = names.get(item.productId);
  return known === null ? 'a product no longer sold' : (known ?? 'a product (its name cannot be read right now)');
}

/** The lines whose name the order does not carry (the order service names a line once it is confirmed). */
export function unnamedProductIds(order: Order): string[] {
  return order.items.filter((i) => i.name === undefined).map((i) => i.productId);
}

/** A 503 whose cancellation the order service recorded (orderStatus "confirmed", cancellation "pending"): it is finished later, not refused. */
function isRecordedCancel(err: unknown): boolean {
  const problem = err instanceof ApiError && err.status === 503 ? (err.problem as { orderStatus?: unknown; cancellation?: unknown } | undefined) : undefined;
  return problem?.orderStatus === 'confirmed' && problem.cancellation === 'pending';
}

/**
 * Cancel with a confirmation step: the first button asks, the second does it. Its buttons are named after their order
 * ("Cancel order 091725c8"): a list of orders had as many "Cancel order" as orders, none telling which it cancels.
 * `onCancelled` is told the order as the cancel left it (a list says so: its focus goes to the order's title alone).
 */
export function CancelOrder({ order, onCancelled }: { order: Order; onCancelled?: (updated: Order) => void }) {
  const [confirming, setConfirming] = useState(false);
  const queries = useQueryClient();
  const cancel = useMutation({
    mutationFn: async () => ok(await orderApi.POST('/order/{id}/cancel', { params: { path: { id: order.id } } })),
    onSuccess: (updated) => {
      queries.setQueryData(['order', order.id], updated);
      onCancelled?.(updated);
      // The buttons go; the order's title (its status beside it) is where the page says what happened.
      focusAfterRender(`[id="title-${order.id}"]`);
      ordersChanged(queries);
    },
    onError: (err) => {
      // Recorded (the product service away): the order service finishes it. The order is read again and shows
      // "cancelling" (its cancellation pending), polled until it settles; these buttons go with it.
      // No answer: it may have been cancelled; the order is read again, so its status says.
      if (isTimeout(err)) {
        void queries.invalidateQueries({ queryKey: ['order', order.id] });
        ordersChanged(queries);
      }
      if (isRecordedCancel(err)) {
        void queries.invalidateQueries({ queryKey: ['order', order.id] });
        ordersChanged(queries);
        focusAfterRender(`[id="title-${order.id}"]`);
      }
    },
  });
  const cancelOnce = useOneAtATime(cancel);
  if (!confirming)
    return (
      <button
        type="button"
        id={`cancel-${order.id}`}
        aria-label={`Cancel order ${order.id.slice(-8)}`}
        onClick={() => {
          setConfirming(true);
          focusAfterRender(`[id="confirm-${order.id}"]`);
        }}
      >
        Cancel order
      </button>
    );
  const keep = () => {
    setConfirming(false);
    focusAfterRender(`[id="cancel-${order.id}"]`);
  };
  return (
    // Escape is "Keep the order", as in a dialog: the focus goes back to the button that asked.
    <div className="confirm" role="group" aria-label={`Confirm cancellation of order ${order.id.slice(-8)}`} onKeyDown={(e) => e.key === 'Escape' && !cancel.isPending && keep()}>
      <p>Cancel this order? The items go back on the shelf.</p>
      {/* Busy, it keeps the focus (aria-disabled; cancelOnce ignores a press meanwhile): disabled, it dropped it to the page's body. */}
      <button type="button" id={`confirm-${order.id}`} className="danger" onClick={() => cancelOnce()} aria-disabled={cancel.isPending || undefined}>
        Yes, cancel it
      </button>
      <button type="button" onClick={keep} disabled={cancel.isPending}>
        Keep the order
      </button>
      {cancel.isError && (
        <p className="error" role="alert">
          {isRecordedCancel(cancel.error)
            ? 'The cancellation is recorded; it finishes by itself as soon as the shop can put the items back on the shelf.'
            : cancel.error instanceof ApiError && cancel.error.status >= 500
              ? 'The shop could not cancel the order just now: it is not answering. Please try again in a moment.'
              : cancel.error instanceof ApiError
                ? problemText(cancel.error.problem)
                : isTimeout(cancel.error)
                  ? 'The shop did not answer in time, so the order may be cancelled already: its status above shows it once the shop answers. Press Yes, cancel it again if it still says confirmed.'
                  : 'The shop could not be reached; please try again.'}
        </p>
      )}
    </div>
  );
}

/**
 * One order and the names of its unnamed lines. A pending order, or one whose cancel is being finished, is settled by the order service
 * (retry or reconciler): it is asked for again every second until it is. A confirmed one is asked for every
 * CONFIRMED_REFRESH_MS while the page is visible: cancelled elsewhere, it stops showing Cancel order. (GET /order/:id
 * sends no ETag, docs/api.md, so there is no If-None-Match to send: each read is the order in full, under 1 KB.)
 */
export function useOrderWithNames(id: string) {
  const order = useQuery({
    queryKey: ['order', id],
    queryFn: async () => ok(await orderApi.GET('/order/{id}', { params: { path: { id } } })),
    refetchInterval: (q) => (!q.state.data ? false : !isSettled(q.state.data) ? 1000 : q.state.data.status === 'confirmed' ? CONFIRMED_REFRESH_MS : false),
    // Shown again (Back, Forward, the tab in view again), it is read at once: the copy of up to staleTime (10 s) ago
    // said "confirmed" of an order cancelled meanwhile elsewhere (an admin, another tab), or "pending" of one the
    // reconciler had confirmed, with Cancel order still offered.
    refetchOnMount: 'always',
    refetchOnWindowFocus: 'always',
  });
  const names = useProductNames(order.data ? unnamedProductIds(order.data) : []);
  return { order, names };
}
