import { Forbidden, decodeIdCursor, pageOf } from '@ecommerce/kit';
import { toOrder, type Order, type Viewer } from '../model/order.js';
import type { OrderDeps } from './order-deps.js';

export interface ListOrdersInput {
  /** Admins only: one customer's orders (otherwise all); a user may only name themselves. */
  userId?: string;
  limit: number;
  cursor?: string;
}

/** A keyset page of orders, newest first: a user's own, or for an admin all of them (or one user's). */
export async function listOrders(deps: OrderDeps, viewer: Viewer, { userId, limit, cursor }: ListOrdersInput): Promise<{ items: Order[]; nextCursor: string | null }> {
  // A UUID in any letter case names the same user (the kit's UUID grammar): the viewer's own id in capitals is theirs.
  if (viewer.role !== 'admin' && userId !== undefined && userId.toLowerCase() !== viewer.id.toLowerCase()) throw new Forbidden('Only admins can list other users’ orders');
  const filter = viewer.role === 'admin' ? (userId ?? null) : viewer.id;
  const rows = await deps.repository.list(filter, limit, decodeIdCursor(cursor));
  return pageOf(rows, limit, (r) => [r.id], toOrder);
}
