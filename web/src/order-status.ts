// How the pages read an order's status. The API shows the five states of the public contract (docs/api.md, "Order
// states"); a cancel the order service accepted and is still finishing shows as `status: "confirmed"` (its units are
// held until the release is confirmed) with `cancellation: "pending"`, which the pages call "cancelling".
import type { Order } from './api/client.js';

type Status = Pick<Order, 'status' | 'cancellation'>;

/** What an order's status reads as (a STATUS_TEXT key, order-view.tsx): "cancelling" while its cancellation is pending. */
export function shownStatus(order: Status): string {
  return order.cancellation === 'pending' ? 'cancelling' : order.status;
}

/** A confirmed order no cancel is under way for: the one to offer Cancel order on. */
export function isCancellable(order: Status): boolean {
  return order.status === 'confirmed' && order.cancellation === undefined;
}

/** Orders that will not change by themselves: pending ones and those whose cancellation is pending the order service finishes. */
export function isSettled(order: Status): boolean {
  return order.status !== 'pending' && order.cancellation === undefined;
}
