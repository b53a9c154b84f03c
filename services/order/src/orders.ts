import { Conflict, NotFound, type Queryable } from '@ecommerce/kit';

export type OrderStatus = 'pending' | 'confirmed' | 'rejected' | 'failed' | 'cancelled';

/** The order state machine. Anything not listed is illegal and answered 409, never overwritten. */
export const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['confirmed', 'rejected', 'failed'],
  confirmed: ['cancelled'],
  rejected: [],
  failed: [],
  cancelled: [],
};

export interface OrderLine {
  productId: string;
  quantity: number;
  unitPriceCents: number | null;
}
export interface Order {
  id: string;
  userId: string;
  status: OrderStatus;
  items: OrderLine[];
  totalCents: number | null;
  currency: string;
  createdAt: string;
  updatedAt: string;
}
export interface OrderRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  items: OrderLine[];
  total_cents: number | null;
  currency: string;
  request_hash: string;
  rejection: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
  [k: string]: unknown;
}

const COLUMNS = 'id, user_id, status, items, total_cents, currency, request_hash, rejection, created_at, updated_at';

export function toOrder(r: OrderRow): Order {
  return {
    id: r.id,
    userId: r.user_id,
    status: r.status,
    items: r.items,
    totalCents: r.total_cents,
    currency: r.currency,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

/** Inserts the pending order, or returns null when (user, Idempotency-Key) already exists. */
export async function insertPendingOrder(
  db: Queryable,
  o: { id: string; userId: string; items: OrderLine[]; key: string; requestHash: string; deadlineMs: number },
): Promise<OrderRow | null> {
  const res = await db.query<OrderRow>(
    'order_insert_pending',
    `INSERT INTO orders (id, user_id, status, items, idempotency_key, request_hash, deadline_at)
     VALUES ($1, $2, 'pending', $3, $4, $5, now() + make_interval(secs => $6::float8 / 1000))
     ON CONFLICT ON CONSTRAINT orders_idempotency_key DO NOTHING
     RETURNING ${COLUMNS}`,
    [o.id, o.userId, JSON.stringify(o.items), o.key, o.requestHash, o.deadlineMs],
  );
  return res.rows[0] ?? null;
}

export async function findByIdempotencyKey(db: Queryable, userId: string, key: string): Promise<OrderRow | undefined> {
  const res = await db.query<OrderRow>('order_by_key', `SELECT ${COLUMNS} FROM orders WHERE user_id = $1 AND idempotency_key = $2`, [userId, key]);
  return res.rows[0];
}

export async function getOrderRow(db: Queryable, id: string): Promise<OrderRow> {
  const res = await db.query<OrderRow>('order_by_id', `SELECT ${COLUMNS} FROM orders WHERE id = $1`, [id]);
  if (!res.rows[0]) throw new NotFound('Order not found');
  return res.rows[0];
}

export async function listOrders(db: Queryable, userId: string | null, limit: number, beforeId: string | null): Promise<OrderRow[]> {
  const res = await db.query<OrderRow>(
    'order_list',
    `SELECT ${COLUMNS} FROM orders
     WHERE ($1::uuid IS NULL OR user_id = $1::uuid) AND ($2::uuid IS NULL OR id < $2::uuid)
     ORDER BY id DESC LIMIT $3`,
    [userId, beforeId, limit + 1],
  );
  return res.rows;
}

export interface TransitionChanges {
  items?: OrderLine[];
  totalCents?: number;
  currency?: string;
  rejection?: Record<string, unknown>;
}

/**
 * Moves an order along the state machine with one conditional UPDATE: it only
 * succeeds while the order is still in `from`, so concurrent writers cannot both win.
 * Returns null when the order was no longer in `from`.
 */
export async function transition(db: Queryable, id: string, from: OrderStatus, to: OrderStatus, changes: TransitionChanges = {}): Promise<OrderRow | null> {
  if (!TRANSITIONS[from].includes(to)) throw new Conflict('illegal-transition', `An order cannot go from ${from} to ${to}`);
  const res = await db.query<OrderRow>(
    'order_transition',
    `UPDATE orders SET status = $3,
       items = COALESCE($4::jsonb, items),
       total_cents = COALESCE($5::bigint, total_cents),
       currency = COALESCE($6::text, currency),
       rejection = COALESCE($7::jsonb, rejection),
       lease_until = NULL,
       updated_at = now()
     WHERE id = $1 AND status = $2
     RETURNING ${COLUMNS}`,
    [
      id,
      from,
      to,
      changes.items ? JSON.stringify(changes.items) : null,
      changes.totalCents ?? null,
      changes.currency ?? null,
      changes.rejection ? JSON.stringify(changes.rejection) : null,
    ],
  );
  return res.rows[0] ?? null;
}

/** Claims up to `limit` overdue pending orders for this replica (SKIP LOCKED + lease), oldest first. */
export async function claimOverdue(db: Queryable, limit: number, leaseMs: number): Promise<OrderRow[]> {
  const res = await db.query<OrderRow>(
    'order_claim_overdue',
    `UPDATE orders SET lease_until = now() + make_interval(secs => $2::float8 / 1000)
     WHERE id IN (
       SELECT id FROM orders
       WHERE status = 'pending' AND deadline_at < now() AND (lease_until IS NULL OR lease_until < now())
       ORDER BY deadline_at LIMIT $1
       FOR UPDATE SKIP LOCKED)
     RETURNING ${COLUMNS}`,
    [limit, leaseMs],
  );
  return res.rows;
}

export async function pendingStats(db: Queryable): Promise<{ count: number; oldestAgeSeconds: number }> {
  const res = await db.query<{ count: number; oldest: number | null }>(
    'order_pending_stats',
    `SELECT count(*)::int AS count, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS oldest FROM orders WHERE status = 'pending'`,
  );
  return { count: res.rows[0]?.count ?? 0, oldestAgeSeconds: res.rows[0]?.oldest ?? 0 };
}
