import { Conflict, NotFound, ProblemError, pgErrorCode, type Queryable } from '@ecommerce/kit';

export type OrderStatus = 'pending' | 'confirmed' | 'rejected' | 'failed' | 'cancelling' | 'cancelled';
export const ORDER_STATUSES: readonly OrderStatus[] = ['pending', 'confirmed', 'rejected', 'failed', 'cancelling', 'cancelled'];

/** The order state machine. Anything not listed is illegal and answered 409, never overwritten. */
export const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['confirmed', 'rejected', 'failed'],
  // confirmed -> cancelled directly only as the audit's repair of a confirmed order that holds no stock.
  confirmed: ['cancelling', 'cancelled'],
  rejected: [],
  failed: [],
  cancelling: ['cancelled'],
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

/** The order would take its customer over MAX_UNITS_PER_CUSTOMER_PER_HOUR: 429, nothing written. */
export class HourlyLimitReached extends ProblemError {
  constructor(limit: number) {
    const retryAfter = 3600 - (Math.floor(Date.now() / 1000) % 3600);
    super(429, 'order-limit', 'Too many requests', `At most ${limit} units per customer per hour can be ordered; try again later`, { limit }, { 'retry-after': String(retryAfter) });
  }
}

/**
 * Inserts the pending order with a drive lease held by the caller and counts its units against the customer's
 * hourly limit, in one statement (migrations/002); returns null when (user, Idempotency-Key) already exists.
 */
export async function insertPendingOrder(
  db: Queryable,
  o: { id: string; userId: string; items: OrderLine[]; key: string; requestHash: string; deadlineMs: number; leaseMs: number; maxUnitsPerHour: number },
): Promise<OrderRow | null> {
  const units = o.items.reduce((n, l) => n + l.quantity, 0);
  try {
    const res = await db.query<OrderRow>(
      'order_insert_pending',
      `SELECT ${COLUMNS} FROM place_pending_order($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [o.id, o.userId, JSON.stringify(o.items), o.key, o.requestHash, o.deadlineMs, o.leaseMs, units, o.maxUnitsPerHour],
    );
    return res.rows[0] ?? null;
  } catch (err) {
    if (pgErrorCode(err) === 'EO001') throw new HourlyLimitReached(o.maxUnitsPerHour);
    throw err;
  }
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
  /** Keep driving the order under a lease of this length (confirmed -> cancelling); otherwise the lease is cleared. */
  leaseMs?: number;
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
       lease_until = CASE WHEN $8::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $8::float8 / 1000) END,
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
      changes.leaseMs ?? null,
    ],
  );
  return res.rows[0] ?? null;
}

/**
 * Claims up to `limit` orders the reconciler must drive: pending past their deadline, and cancels whose
 * process died (cancelling). Free ones only (no live lease), oldest first; SKIP LOCKED + lease, so every
 * order has one driver across replicas.
 */
export async function claimOverdue(db: Queryable, limit: number, leaseMs: number): Promise<OrderRow[]> {
  const res = await db.query<OrderRow>(
    'order_claim_overdue',
    `UPDATE orders SET lease_until = now() + make_interval(secs => $2::float8 / 1000)
     WHERE id IN (
       SELECT id FROM orders
       WHERE ((status = 'pending' AND deadline_at < now()) OR status = 'cancelling')
         AND (lease_until IS NULL OR lease_until < now())
       ORDER BY updated_at LIMIT $1
       FOR UPDATE SKIP LOCKED)
     RETURNING ${COLUMNS}`,
    [limit, leaseMs],
  );
  return res.rows;
}

/** Takes the drive lease of one order in flight (pending or cancelling), if no one holds it. */
export async function claimDrive(db: Queryable, id: string, leaseMs: number): Promise<OrderRow | null> {
  const res = await db.query<OrderRow>(
    'order_claim_drive',
    `UPDATE orders SET lease_until = now() + make_interval(secs => $2::float8 / 1000)
     WHERE id = $1 AND status IN ('pending', 'cancelling') AND (lease_until IS NULL OR lease_until < now())
     RETURNING ${COLUMNS}`,
    [id, leaseMs],
  );
  return res.rows[0] ?? null;
}

/** Gives leases back (a call failed, or a batch was cut short), so the next driver need not wait for expiry. */
export async function releaseLeases(db: Queryable, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query('order_release_lease', `UPDATE orders SET lease_until = NULL WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'cancelling')`, [ids]);
}

/** One keyset page of confirmed order ids (the audit compares them with the reservations held). */
export async function confirmedIds(db: Queryable, after: string | null, limit: number): Promise<string[]> {
  const res = await db.query<{ id: string }>(
    'order_confirmed_page',
    `SELECT id FROM orders WHERE status = 'confirmed' AND ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`,
    [after, limit],
  );
  return res.rows.map((r) => r.id);
}

export async function statusesOf(db: Queryable, ids: string[]): Promise<Map<string, OrderStatus>> {
  const res = await db.query<{ id: string; status: OrderStatus }>('order_statuses', 'SELECT id, status FROM orders WHERE id = ANY($1::uuid[])', [ids]);
  return new Map(res.rows.map((r) => [r.id, r.status]));
}

/** Drops usage counters of past hours (the limit only reads the current one). */
export async function pruneUsage(db: Queryable): Promise<void> {
  await db.query('order_prune_usage', `DELETE FROM customer_usage WHERE hour < date_trunc('hour', now()) - interval '1 hour'`);
}

export async function pendingStats(db: Queryable): Promise<{ count: number; oldestAgeSeconds: number }> {
  const res = await db.query<{ count: number; oldest: number | null }>(
    'order_pending_stats',
    `SELECT count(*)::int AS count, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS oldest FROM orders WHERE status = 'pending'`,
  );
  return { count: res.rows[0]?.count ?? 0, oldestAgeSeconds: res.rows[0]?.oldest ?? 0 };
}
