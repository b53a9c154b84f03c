import { NotFound, isUuid } from '@ecommerce/kit';
import { toOrder, type Order, type OrderRow, type Viewer } from '../model/order.js';
import type { OrderDeps } from './order-deps.js';

/** Users see their own orders only; another user's order is a 404, so existence does not leak. */
export async function findVisibleOrder(deps: OrderDeps, id: string, viewer: Viewer): Promise<OrderRow> {
  if (!isUuid(id)) throw new NotFound('Order not found');
  const row = await deps.repository.findById(id);
  if (!row || (viewer.role !== 'admin' && row.user_id !== viewer.id)) throw new NotFound('Order not found');
  return row;
}

export async function getOrder(deps: OrderDeps, id: string, viewer: Viewer): Promise<Order> {
  return toOrder(await findVisibleOrder(deps, id, viewer));
}
