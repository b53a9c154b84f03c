import { Forbidden, decodeIdCursor, pageOf } from '@ecommerce/kit';
import { toOrder, type Order, type Viewer } from '../model/order.js';
import type { OrderDeps } from './order-deps.js';

export interface ListOrdersInput {
  /** Admins only: one customer's orders (otherwise all); a user may only name themselves. */
  userId?: string;
  /** Admins only: the orders whose number (the last 8 hex digits of the id, as the shop shows it) is this. */
  number?: string;
  limit: number;
  cursor?: string;
}

/** A keyset page of orders, newest first: a user's own, or for an admin all of them (or one user's, or one number's). */
export async function listOrders(deps: OrderDeps, viewer: Viewer, { userId, number, limit, cursor }: ListOrdersInput): Promise<{ items: Order[]; nextCursor: string | null }> {
  // A UUID in any letter case names the same user (the kit's UUID grammar): the viewer's own id in capitals is theirs.
  if (viewer.role !== 'admin' && userId !== undefined && userId.toLowerCase() !== viewer.id.toLowerCase()) throw new Forbidden('Only admins can list other users’ orders');
  if (viewer.role !== 'admin' && number !== undefined) throw new Forbidden('Only admins can search orders by number');
  const filter = viewer.role === 'admin' ? (userId ?? null) : viewer.id;
  const before = decodeIdCursor(cursor);
  // An id's text is lower case: the number as typed (any case) is compared in that form.
  const rows = number === undefined ? await deps.repository.list(filter, limit, before) : await deps.repository.listByNumber(number.toLowerCase(), filter, limit, before);
  return pageOf(rows, limit, (r) => [r.id], toOrder);
}
