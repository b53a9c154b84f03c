import { ProblemError, ServiceUnavailable } from '@ecommerce/kit';
import { publicStatus, toOrder, type Order, type Viewer } from '../model/order.js';
import type { RequestContext } from '../model/request-context.js';
import { findVisibleOrder } from './get-order.js';
import type { OrderDeps } from './order-deps.js';
import { reload, settleOrAwait, settleOrder } from './settle-order.js';

/**
 * Cancels a confirmed order, durably: confirmed -> cancelling (the intent, with this request's drive lease),
 * release the reservation (idempotent), cancelling -> cancelled. A crash in between leaves `cancelling`, which
 * a repeat or the reconciler finishes. A repeat of a finished cancel is a no-op.
 */
export async function cancelOrder(deps: OrderDeps, orderId: string, viewer: Viewer, context: RequestContext): Promise<Order> {
  let row = await findVisibleOrder(deps, orderId, viewer);
  if (row.status === 'confirmed') {
    const intent = await deps.repository.transition(row.id, 'confirmed', 'cancelling', { leaseMs: deps.driveLeaseMs });
    if (intent) {
      row = (await settleOrder(deps, intent, context)).row;
    } else {
      row = await reload(deps, row.id);
    }
  }
  let driverBusySeconds: number | undefined;
  if (row.status === 'cancelling') ({ row, retryAfterSeconds: driverBusySeconds } = await settleOrAwait(deps, row, context));
  if (row.status === 'cancelled') return toOrder(row);
  if (row.status === 'cancelling') {
    // The problem says the order as its body would (orderStatus "confirmed", cancellation "pending"): docs/api.md.
    const { status: orderStatus, cancellation } = publicStatus(row.status);
    const inFlightCancel = { orderStatus, cancellation };
    if (driverBusySeconds !== undefined) {
      throw new ServiceUnavailable(
        'An earlier request is still cancelling this order (or was cut off); the cancellation is recorded: retry after Retry-After seconds',
        { orderId: row.id, ...inFlightCancel },
        driverBusySeconds,
      );
    }
    throw new ServiceUnavailable('The product service is unavailable; the cancellation is recorded and will be finished', { orderId: row.id, ...inFlightCancel });
  }
  throw new ProblemError(409, 'not-cancellable', 'Conflict', `A ${row.status} order cannot be cancelled`);
}
