import { errorCode, type Database } from '@ecommerce/kit';
import { HourlyLimitReached, assertTransition, type NextStatus, type OrderLine, type OrderRow, type OrderStatus } from '../model/order.js';

/**
 * The drive lease as the database holds it, in microseconds since the epoch (a Date keeps milliseconds; a timestamp's
 * text depends on the session's DateStyle and time zone): the fence of the writes that give a lease back or push it on
 * (releaseLeases, holdOff), which change only the lease their driver holds.
 */
const LEASE = '(extract(epoch FROM lease_until) * 1000000)::bigint';
const COLUMNS = `id, user_id, status, items, total_cents, currency, request_hash, rejection, created_at, updated_at, given_up_at, ${LEASE}::text AS lease`;
/** pg_try_advisory_xact_lock key: one replica audits at a time ("orders-audit"). */
const AUDIT_LOCK = 0x6f617564;

export interface NewPendingOrder {
  id: string;
  userId: string;
  items: OrderLine[];
  key: string;
  requestHash: string;
  deadlineMs: number;
  leaseMs: number;
  maxUnitsPerHour: number;
  /** W3C traceparent of the placing request, for the reconciler's span link. */
  traceparent: string | null;
}

export interface TransitionChanges {
  items?: OrderLine[];
  totalCents?: number;
  currency?: string;
  rejection?: Record<string, unknown>;
  /** Keep driving the order under a lease of this length (confirmed -> cancelling); otherwise the lease is cleared. */
  leaseMs?: number;
}

/** Every statement on the orders schema, each named (the name is the metric label); rows out as stored. */
export class OrderRepository {
  constructor(private readonly db: Database) {}

  // A write of orders' rows (or a customer's usage row) waits on a row lock another session holds (an operator's
  // script, a stuck transaction) for up to the statement timeout: each runs on the share of the pool lock waits may
  // hold (Database.lockWaiting). A customer's cancels sent again and again behind one held order held every
  // connection, and reads of any other order waited out the pool's 5 s queue and answered 503.

  /**
   * Inserts the pending order with a drive lease held by the caller and counts its units against the customer's
   * hourly limit, in one statement (migrations/002); returns null when (user, Idempotency-Key) already exists.
   */
  async insertPending(o: NewPendingOrder): Promise<OrderRow | null> {
    // With no hourly limit (0) there is nothing to count: the same row by a plain INSERT, without the PL/pgSQL call
    // (about a fifth of that statement's database CPU).
    if (o.maxUnitsPerHour === 0) {
      const res = await this.db.lockWaiting(() => this.db.query<OrderRow>(
        'order_insert_pending_unlimited',
        `INSERT INTO orders (id, user_id, status, items, idempotency_key, request_hash, deadline_at, lease_until, traceparent)
         VALUES ($1, $2, 'pending', $3, $4, $5, now() + make_interval(secs => $6::float8 / 1000), now() + make_interval(secs => $7::float8 / 1000), $8)
         ON CONFLICT ON CONSTRAINT orders_idempotency_key DO NOTHING
         RETURNING ${COLUMNS}`,
        [o.id, o.userId, JSON.stringify(o.items), o.key, o.requestHash, o.deadlineMs, o.leaseMs, o.traceparent],
      ));
      return res.rows[0] ?? null;
    }
    const units = o.items.reduce((n, l) => n + l.quantity, 0);
    try {
      const res = await this.db.lockWaiting(() => this.db.query<OrderRow>(
        'order_insert_pending',
        `SELECT ${COLUMNS} FROM place_pending_order($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [o.id, o.userId, JSON.stringify(o.items), o.key, o.requestHash, o.deadlineMs, o.leaseMs, units, o.maxUnitsPerHour, o.traceparent],
      ));
      return res.rows[0] ?? null;
    } catch (err) {
      // Raised by place_pending_order when the units would pass the hourly limit; its DETAIL: seconds until the hour ends.
      if (errorCode(err) === 'EO001') throw new HourlyLimitReached(o.maxUnitsPerHour, secondsIn((err as { detail?: unknown }).detail));
      throw err;
    }
  }

  async findByIdempotencyKey(userId: string, key: string): Promise<OrderRow | undefined> {
    const res = await this.db.query<OrderRow>('order_by_key', `SELECT ${COLUMNS} FROM orders WHERE user_id = $1 AND idempotency_key = $2`, [userId, key]);
    return res.rows[0];
  }

  async findById(id: string): Promise<OrderRow | undefined> {
    const res = await this.db.query<OrderRow>('order_by_id', `SELECT ${COLUMNS} FROM orders WHERE id = $1`, [id]);
    return res.rows[0];
  }

  /** One keyset page, newest first: up to limit + 1 rows, so the caller can tell whether there is a next page. */
  async list(userId: string | null, limit: number, beforeId: string | null): Promise<OrderRow[]> {
    const res = await this.db.query<OrderRow>(
      'order_list',
      `SELECT ${COLUMNS} FROM orders
       WHERE ($1::uuid IS NULL OR user_id = $1::uuid) AND ($2::uuid IS NULL OR id < $2::uuid)
       ORDER BY id DESC LIMIT $3`,
      [userId, beforeId, limit + 1],
    );
    return res.rows;
  }

  /**
   * The orders whose number (the last 8 hex digits of the id, lower case) is `number`, newest first, keyset-paged like
   * list: read by orders_number_idx (migration 008), never the whole table.
   */
  async listByNumber(number: string, userId: string | null, limit: number, beforeId: string | null): Promise<OrderRow[]> {
    const res = await this.db.query<OrderRow>(
      'order_list_by_number',
      `SELECT ${COLUMNS} FROM orders
       WHERE right(id::text, 8) = $1 AND ($2::uuid IS NULL OR user_id = $2::uuid) AND ($3::uuid IS NULL OR id < $3::uuid)
       ORDER BY right(id::text, 8), id DESC LIMIT $4`,
      [number, userId, beforeId, limit + 1],
    );
    return res.rows;
  }

  /**
   * Moves an order along the state machine (model/order.ts) with one conditional UPDATE: it only
   * succeeds while the order is still in `from`, so concurrent writers cannot both win; an order given up (giveUp)
   * may only become failed, so a driver whose reservation came back after another gave the order up cannot confirm it.
   * Returns null when the order was no longer in `from` (or was given up).
   */
  async transition<From extends OrderStatus>(id: string, from: From, to: NextStatus<From>, changes: TransitionChanges = {}): Promise<OrderRow | null> {
    // The one write of a status: no caller can get past the state machine.
    assertTransition(from, to);
    const res = await this.db.lockWaiting(() => this.db.query<OrderRow>(
      'order_transition',
      `UPDATE orders SET status = $3,
         items = COALESCE($4::jsonb, items),
         total_cents = COALESCE($5::bigint, total_cents),
         currency = COALESCE($6::text, currency),
         rejection = COALESCE($7::jsonb, rejection),
         lease_until = CASE WHEN $8::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $8::float8 / 1000) END,
         updated_at = now()
       WHERE id = $1 AND status = $2 AND (given_up_at IS NULL OR $3::text = 'failed')
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
    ));
    return res.rows[0] ?? null;
  }

  /**
   * Claims up to `limit` orders the reconciler must drive: every order in flight (pending or cancelling) that no
   * one drives: past its deadline, its driver's lease run out (its process died mid-request), or its lease given
   * back after a failed call (NULL: the product service did not answer). That last one is driven again while its
   * reservation window is open, so an order placed during a blip of the product service is confirmed once it is
   * back, not failed at its deadline; the reconciler's backoff bounds the calls while it stays away. Oldest first;
   * SKIP LOCKED + lease, so every order has one driver across replicas. With the placing request's traceparent,
   * for the settle span's link. Least recently tried first (see triedAgainLater), so orders that keep getting no
   * answer cannot hold every pass up while the others wait.
   */
  async claimOverdue(limit: number, leaseMs: number): Promise<OrderRow[]> {
    const res = await this.db.query<OrderRow>(
      'order_claim_overdue',
      `UPDATE orders SET lease_until = now() + make_interval(secs => $2::float8 / 1000)
       WHERE id IN (
         SELECT id FROM orders
         WHERE status IN ('pending', 'cancelling') AND (lease_until IS NULL OR lease_until < now())
         ORDER BY lease_until NULLS FIRST, updated_at LIMIT $1
         FOR UPDATE SKIP LOCKED)
       RETURNING ${COLUMNS}, traceparent`,
      [limit, leaseMs],
    );
    return res.rows;
  }

  /** Takes the drive lease of one order in flight (pending or cancelling), if no one holds it. */
  async claimDrive(id: string, leaseMs: number): Promise<OrderRow | null> {
    const res = await this.db.lockWaiting(() => this.db.query<OrderRow>(
      'order_claim_drive',
      `UPDATE orders SET lease_until = now() + make_interval(secs => $2::float8 / 1000)
       WHERE id = $1 AND status IN ('pending', 'cancelling') AND (lease_until IS NULL OR lease_until < now())
       RETURNING ${COLUMNS}`,
      [id, leaseMs],
    ));
    return res.rows[0] ?? null;
  }

  /** How long the drive lease of an order in flight still runs, by the database's clock (0 when free or final). */
  async leaseLeftMs(id: string): Promise<number> {
    const res = await this.db.query<{ ms: number }>(
      'order_lease_left',
      `SELECT GREATEST(0, EXTRACT(EPOCH FROM lease_until - now()) * 1000)::float8 AS ms FROM orders WHERE id = $1 AND status IN ('pending', 'cancelling') AND lease_until IS NOT NULL`,
      [id],
    );
    return res.rows[0]?.ms ?? 0;
  }

  /**
   * Puts an order the reconciler tried without an answer (its lease already given back: releaseLeases) behind the
   * orders not tried since, free at once (a lease ended now sorts after older ones and the NULL of leases given back
   * untried). Only while no one has claimed it since: a replay or another replica may have taken the lease given back,
   * and ending theirs let a third driver claim the order they drive.
   */
  async triedAgainLater(id: string): Promise<void> {
    await this.db.lockWaiting(() => this.db.query('order_tried_again_later', `UPDATE orders SET lease_until = now() WHERE id = $1 AND status IN ('pending', 'cancelling') AND lease_until IS NULL`, [id]));
  }

  /**
   * Gives leases back (a call failed, or a batch was cut short), so the next driver need not wait for expiry: each only
   * while it is still the lease its driver holds (the row's lease, as claimed). A driver stalled past its lease does not
   * know another has claimed the order since; ending that one's lease let a third claim it, two drivers at once.
   */
  async releaseLeases(rows: Pick<OrderRow, 'id' | 'lease'>[]): Promise<void> {
    const held = rows.filter((r) => typeof r.lease === 'string');
    if (held.length === 0) return;
    await this.db.lockWaiting(() => this.db.query(
      'order_release_lease',
      `UPDATE orders SET lease_until = NULL FROM unnest($1::uuid[], $2::bigint[]) AS l(id, lease)
       WHERE orders.id = l.id AND ${LEASE} = l.lease AND orders.status IN ('pending', 'cancelling')`,
      [held.map((r) => r.id), held.map((r) => r.lease)],
    ));
  }

  /**
   * Gives the lease of an order in flight back for later, not at once: its last try failed for this order alone (the
   * product service answered what it should not, or a bug), so it waits a quarter of the time it has been in its
   * state (1 s to 5 min) while the others are driven; a growing backoff without a counter. Only while its driver still
   * holds the lease (the row's, as claimed), as releaseLeases.
   */
  async holdOff(row: Pick<OrderRow, 'id' | 'lease'>): Promise<void> {
    await this.db.lockWaiting(() => this.db.query(
      'order_hold_off',
      `UPDATE orders SET lease_until = now() + LEAST(interval '5 minutes', GREATEST(interval '1 second', (now() - updated_at) / 4))
       WHERE id = $1 AND status IN ('pending', 'cancelling') AND ${LEASE} = $2::bigint`,
      [row.id, row.lease ?? null],
    ));
  }

  /**
   * Gives a pending order up, by the database's clock once its deadline has passed (then no reservation can be taken
   * for it any more): the decision to fail it, recorded before its stock is released, in a write conditional on the
   * order still being pending. From then on no driver can confirm it (transition), so the release cannot take the
   * stock of an order another driver confirms meanwhile. Returns the order given up (also when it already was: a
   * driver died between this write and the release), or null: not pending, or its deadline not passed.
   */
  async giveUp(id: string): Promise<OrderRow | null> {
    const res = await this.db.lockWaiting(() => this.db.query<OrderRow>(
      'order_give_up',
      `UPDATE orders SET given_up_at = COALESCE(given_up_at, now())
       WHERE id = $1 AND status = 'pending' AND (given_up_at IS NOT NULL OR deadline_at < now())
       RETURNING ${COLUMNS}`,
      [id],
    ));
    return res.rows[0] ?? null;
  }

  /** One keyset page of confirmed order ids (the audit compares them with the reservations held). */
  async confirmedIds(after: string | null, limit: number): Promise<string[]> {
    const res = await this.db.query<{ id: string }>(
      'order_confirmed_page',
      `SELECT id FROM orders WHERE status = 'confirmed' AND ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`,
      [after, limit],
    );
    return res.rows.map((r) => r.id);
  }

  async statusesOf(ids: string[]): Promise<Map<string, OrderStatus>> {
    const res = await this.db.query<{ id: string; status: OrderStatus }>('order_statuses', 'SELECT id, status FROM orders WHERE id = ANY($1::uuid[])', [ids]);
    return new Map(res.rows.map((r) => [r.id, r.status]));
  }

  /** Drops usage counters of past hours (the limit only reads the current one). */
  async pruneUsage(): Promise<void> {
    await this.db.query('order_prune_usage', `DELETE FROM customer_usage WHERE hour < date_trunc('hour', now()) - interval '1 hour'`);
  }

  async pendingStats(): Promise<{ count: number; oldestAgeSeconds: number; cancellingCount: number; cancellingOldestAgeSeconds: number }> {
    // Pending: aged from creation (its deadline runs from there); cancelling: from the cancel (updated_at, the
    // status change; orders_cancelling_idx).
    const res = await this.db.query<{ count: number; oldest: number | null; cancelling: number; cancelling_oldest: number | null }>(
      'order_pending_stats',
      `SELECT p.count, p.oldest, c.count AS cancelling, c.oldest AS cancelling_oldest
       FROM (SELECT count(*)::int AS count, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS oldest FROM orders WHERE status = 'pending') p,
            (SELECT count(*)::int AS count, EXTRACT(EPOCH FROM now() - min(updated_at))::float8 AS oldest FROM orders WHERE status = 'cancelling') c`,
    );
    const r = res.rows[0];
    return { count: r?.count ?? 0, oldestAgeSeconds: r?.oldest ?? 0, cancellingCount: r?.cancelling ?? 0, cancellingOldestAgeSeconds: r?.cancelling_oldest ?? 0 };
  }

  /**
   * Runs `fn` while this replica holds the audit lock (a session-level advisory lock, freed when `fn` ends, with no
   * transaction open: an audit of a big shop waits on the product service for longer than the 30 s a transaction may
   * stay idle); returns null at once when another replica holds it. `fn` runs its own statements, and stops at its next
   * step once `signal` is aborted: the lock was lost mid-pass (its connection ended) and another replica may audit now.
   */
  async withAuditLock<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T | null> {
    return this.db.withSessionLock(AUDIT_LOCK, fn);
  }
}

/** A number of seconds a statement's error DETAIL gives, or undefined. */
function secondsIn(detail: unknown): number | undefined {
  const n = typeof detail === 'string' && /^\d+$/.test(detail) ? Number(detail) : NaN;
  return Number.isFinite(n) ? n : undefined;
}
