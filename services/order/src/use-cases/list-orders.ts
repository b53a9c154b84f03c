import { Forbidden, UUID_PATTERN, decodeCursor, pageOf } from '@ecommerce/kit';
import { toOrder, type Order, type Viewer } from '../model/order.js';
import type { OrderDeps } from './order-deps.js';

const ORDER_ID = new RegExp(UUID_PATTERN);

export interface ListOrdersInput {
  /** Admins only: one customer's orders (otherwise all); a user may only name themselves. */
  userId?: string;
  limit: number;
  cursor?: string;
}

/** A keyset page of orders, newest first: a user's own, or for an admin all of them (or one user's). */
export async function listOrders(deps: OrderDeps, viewer: Viewer, { userId, limit, cursor }: ListOrdersInput): Promise<{ items: Order[]; nextCursor: string | null }> {
  if (viewer.role !== 'admin' && userId !== undefined && userId !== viewer.id) throw new Forbidden('Only admins can list other users’ orders');
  const filter = viewer.role === 'admin' ? (userId ?? null) : viewer.id;
  const before = decodeCursor(cursor, 1);
  // A cursor this endpoint did not make (a well-formed key that is no order id) is refused like a malformed one.
  if (before && !ORDER_ID.test(String(before[0]))) decodeCursor('!', 1);
  const rows = await deps.repository.list(filter, limit, before ? String(before[0]) : null);
  return pageOf(rows, limit, (r) => [r.id], toOrder);
}
