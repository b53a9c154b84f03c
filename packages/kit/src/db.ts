import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { trace } from '@opentelemetry/api';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import type { FastifyBaseLogger } from 'fastify';
import type { Counter } from 'prom-client';
import type { Metrics } from './metrics.js';
import { PgCode, isStaleStatement, isUnavailableError, serverGone, sessionEnded, startupWaitReason } from './db-errors.js';
import { errorCode } from './errors.js';
import { KeyedTurns, PoolShare, lockWaitShare } from './pool-share.js';
import { loggedMessage } from './error-log.js';
import { SCHEMA_NAME_PATTERN } from './config.js';

// Return BIGINT (int8) columns as JS numbers: our counts and cents stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export type Row = Record<string, unknown>;

/** How long a statement waits for a pool connection (pg-pool's connectionTimeoutMillis), and for its turn at lockWaiting. */
const POOL_WAIT_MS = 5_000;

/** A pool wait at least this long is recorded on the request's trace span. */
const POOL_WAIT_EVENT_MS = 1;

/** Anything that can run a named query: the pool or a transaction's client. */
export interface Queryable {
  query<R extends Row = Row>(name: string, text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface DatabaseOptions {
  url: string;
  schema: string;
  poolMax: number;
  applicationName: string;
  metrics: Metrics;
  logger?: FastifyBaseLogger;
  /**
   * Server-side cap per statement (default 8 s), so a slow query cannot hold a request forever; a query also
   * gives up on its own a second later, for a server that answers nothing at all (see run()).
   */
  statementTimeoutMs?: number;
  /**
   * How often a session lock's connection is asked whether it is still there while its pass runs (withSessionLock;
   * default 5 s): a connection cut without a word (a partition) sends no 'end' for many minutes.
   */
  sessionLockCheckMs?: number;
  /** How long a statement's answer stands as evidence that the database answers (ready(); default 2 s). */
  answerEvidenceMs?: number;
}

/**
 * Below the gateway's 10 s upstream timeout (UPSTREAM_TIMEOUT_MS), with the client-side second on top: a request
 * whose database hangs is answered 503 + Retry-After by its service, not 504 by the gateway.
 */
const DEFAULT_STATEMENT_TIMEOUT_MS = 8_000;
const DEFAULT_SESSION_LOCK_CHECK_MS = 5_000;
/** Migrations may take longer than a request's statements (an index build); still bounded, never a hang. */
const MIGRATION_STATEMENT_TIMEOUT = '300s';
/**
 * How long one migration statement may wait for a table lock. Migrations run in a new pod while the previous
 * release's pods serve (rolling update): an ALTER waiting for ACCESS EXCLUSIVE behind a long transaction queues every
 * later statement on that table behind itself, so without this bound the old pods' requests on it waited up to the
 * migration's 300 s and answered 503 after their 8 s statement timeout. Well under DEFAULT_STATEMENT_TIMEOUT_MS.
 */
const MIGRATION_LOCK_TIMEOUT_MS = 1_000;
/** A migration refused its lock (55P03) is tried again, with backoff, for this long before start-up fails. */
const MIGRATION_LOCK_RETRY_BUDGET_MS = 90_000;

const SCHEMA_NAME = new RegExp(SCHEMA_NAME_PATTERN);

/**
 * The error when a query failed without an answer from the server (the connection lost, no answer in time): its
 * connection is then in an unknown state and is discarded. An error the server answered (it has a SQLSTATE: a
 * unique violation, a refused condition) leaves the connection healthy: undefined, except a read-only server's.
 */
function connectionLost(err: unknown): Error | undefined {
  // A statement prepared on this connection before a migration changed its result type (isStaleStatement): the server
  // answered, but the connection fails that statement at every call for as long as it lives. Discarded (and so is
  // every connection open then: Database.noteStale).
  if (isStaleStatement(err)) return err as Error;
  // A server that takes no writes (25006: a standby, or the old primary after a failover, or a database set read-only)
  // answered, but the connection stays there: discarded, so a later one may reach the server that does. Kept, pooled
  // connections failed every write for as long as they were in use, after the primary was back.
  // A FATAL (sessionEnded) answered too, and the server closes the connection after it: discarded, not rolled back.
  if (err instanceof pg.DatabaseError) return err.code === PgCode.readOnlyServer || sessionEnded(err) ? err : undefined;
  return err as Error;
}

/** How long a pool capped at a connection limit (Database.capPool) stays so before it tries to grow again. */
const POOL_CAP_MS = 5_000;

/**
 * A database closed to new connections (`ALTER DATABASE ... ALLOW_CONNECTIONS false`, for maintenance) refuses each
 * with SQLSTATE 55000: for a request that is the database unavailable, 503 + Retry-After, not a 500. Reported as
 * 08004 (the server rejected the connection), the server's message kept: 55000 as such is no outage (currval before
 * nextval). A database or role that does not exist (3D000, 28P01, 28000) stays a misconfiguration, not a 503. At
 * start-up it is waited for (DB_STARTUP_TIMEOUT_MS), as every failure a request answers 503 for.
 */
class ConnectionRejected extends Error {
  readonly code = '08004';

  constructor(cause: Error) {
    super(`the database refused a new connection: ${cause.message}`, { cause });
    this.name = 'ConnectionRejected';
  }
}

/** Throws a connection's failure as what it means (a closed database as ConnectionRejected), first telling `noted`. */
function rejectedConnection(err: unknown, noted?: (thrown: unknown) => void): never {
  const thrown = err instanceof pg.DatabaseError && err.code === '55000' ? new ConnectionRejected(err) : err;
  if (thrown !== null && typeof thrown === 'object') neverSent.add(thrown);
  noted?.(thrown);
  throw thrown;
}

/**
 * A session lock (Database.withSessionLock) lost while its holder ran: its connection ended, the lock is free on the
 * server and another session may hold it now. The holder's signal is aborted with this.
 */
export class SessionLockLost extends Error {
  constructor(
    readonly lockKey: number,
    cause?: Error,
  ) {
    super(`session lock ${lockKey} lost: its connection ended, another replica may hold it now; the pass stops at its next step`, cause ? { cause } : undefined);
    this.name = 'SessionLockLost';
  }
}

/**
 * How long an answer to one of the service's own statements stands for "the database answers" (Database.ready): the
 * readiness check's own timeout (health.ts), so a replica whose pool is busy is ready on the evidence of its requests.
 */
const DEFAULT_ANSWER_EVIDENCE_MS = 2_000;

/** Errors of a connection that never came: the statement waiting for it was not sent. */
const neverSent = new WeakSet<object>();

/**
 * True when the statement that failed with `err` certainly changed nothing: its connection never came (refused, the
 * pool's connect timeout, the database closed to connections), or the server answered it with an error (it has a
 * SQLSTATE: a statement outside a transaction that fails is rolled back, as is a transaction whose statement or
 * COMMIT fails). False when the connection was lost, or no answer came, after it was sent: it may have committed.
 * False too when the server ended the session (sessionEnded: a FATAL such as 57P01, a backend terminated): that
 * may come after the statement ran, even after its CommandComplete, and pg then fails the statement with it.
 * A caller may then try a write again without doing it twice.
 */
export function statementNotRun(err: unknown): boolean {
  if (err !== null && typeof err === 'object' && neverSent.has(err)) return true;
  return err instanceof pg.DatabaseError && !sessionEnded(err);
}

function operationOf(text: string): string {
  const m = /^\s*(?:WITH\b[\s\S]*?\)\s*)?(SELECT|INSERT|UPDATE|DELETE|BEGIN|COMMIT|ROLLBACK|LOCK)\b/i.exec(text);
  return m?.[1]?.toUpperCase() ?? 'OTHER';
}

export class Database implements Queryable {
  readonly pool: pg.Pool;
  readonly schema: string;
  private readonly metrics: Metrics;
  private readonly statements = new Map<string, string>();
  /** Client-side: how long a query waits for any answer before its connection is given up (run()). */
  private readonly readTimeoutMs: number;
  /** The pool's connections that are open (connected, not yet removed); pg-pool's totalCount counts those still connecting too. */
  private connected = 0;
  /** Set while the pool is capped below DB_POOL_MAX by a connection limit (capPool). */
  private poolCapTimer: NodeJS.Timeout | undefined;
  /** Session locks whose connection ended while their holder ran (withSessionLock). */
  private readonly sessionLocksLost: Counter;
  /** Statements that failed as prepared before a schema change (isStaleStatement), their connection discarded. */
  private readonly staleStatements: Counter;
  /** Each pooled connection's number, in the order they were opened. */
  private readonly connectionNumbers = new WeakMap<pg.ClientBase, number>();
  private connectionsOpened = 0;
  /** Pooled connections numbered below this are discarded at their next checkout (noteStale). */
  private retiredBelow = 0;
  /** When (performance.now()) a statement last had its answer, and when one last met a server gone (serverGone). */
  private answeredAt = -Infinity;
  private goneAt = -Infinity;
  private readonly answerEvidenceMs: number;
  /** The pool's connections that work which may wait on another session's lock may hold at once (lockWaiting). */
  private readonly lockWaits: PoolShare;
  /** Work on one named row (lockWaiting's `row`), one at a time each, on a share of its own (rowWaits). */
  private readonly rowTurns = new KeyedTurns(POOL_WAIT_MS);
  private readonly rowWaits: PoolShare;

  constructor(private readonly opts: DatabaseOptions) {
    if (!SCHEMA_NAME.test(opts.schema)) throw new Error(`invalid schema name ${JSON.stringify(opts.schema)}`);
    this.schema = opts.schema;
    this.metrics = opts.metrics;
    // Shared: a process may open several Databases on one Metrics (tests, a service's second pool).
    this.sessionLocksLost = opts.metrics.sharedCounter(
      'db_client_session_lock_lost_total',
      'Session advisory locks (withSessionLock) lost while their pass ran: the lock connection ended and another replica may hold the lock; the pass was told to stop.',
    );
    this.staleStatements = opts.metrics.sharedCounter(
      'db_client_stale_statements_total',
      'Statements that failed as prepared before a migration changed their result type (0A000 cached plan) or went missing (26000): their connection and every one open then discarded, a query outside a transaction run again on a new one.',
    );
    const statementTimeoutMs = opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
    this.readTimeoutMs = statementTimeoutMs + 1_000;
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolMax,
      application_name: opts.applicationName,
      options: `-c search_path=${opts.schema}`,
      statement_timeout: statementTimeoutMs,
      idle_in_transaction_session_timeout: 30_000,
      connectionTimeoutMillis: POOL_WAIT_MS,
      // A server gone without a word (a partition, a failover that sends no reset) is noticed by TCP keep-alive
      // instead of the kernel's retransmission timeout of many minutes.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    // Read at each turn: a pool capped below its size (capPool) lowers the share with it.
    this.lockWaits = new PoolShare(() => lockWaitShare(this.pool.options.max), POOL_WAIT_MS);
    this.rowWaits = new PoolShare(() => lockWaitShare(this.pool.options.max), POOL_WAIT_MS);
    // An idle client losing its server (restart, failover) must not crash the process.
    this.answerEvidenceMs = opts.answerEvidenceMs ?? DEFAULT_ANSWER_EVIDENCE_MS;
    this.pool.on('error', (err) => {
      this.noteFailure(err);
      opts.logger?.warn({ code: errorCode(err), detail: loggedMessage(err) }, 'idle database client error');
    });
    // Nor may a checked-out one: pg-pool removes its error listener while a client is lent out, and the
    // server dying between two queries (or during a transaction's HTTP call) then emitted an unhandled
    // 'error' that took the process down. The query in flight (or the next one) fails instead, that error
    // discards the client on release, and the request is answered 503.
    this.pool.on('connect', (client) => {
      this.connected++;
      this.connectionNumbers.set(client, this.connectionsOpened++);
    });
    this.pool.on('remove', () => this.connected--);
    this.pool.on('connect', (client) => {
      client.on('error', (err) => {
        this.noteFailure(err);
        opts.logger?.warn({ code: errorCode(err), detail: loggedMessage(err) }, 'database connection lost');
      });
    });
    const pool = this.pool;
    opts.metrics.gauge('db_client_connection_count', 'Connections in the pool by state.', ['state'], function () {
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'used' }, pool.totalCount - pool.idleCount);
    });
    const { lockWaits, rowTurns, rowWaits } = this;
    opts.metrics.gauge('db_client_connection_pending_requests', 'Requests waiting for a pool connection (or for the share of the pool that lock waits may hold, or for their turn at one row).', [], function () {
      this.set(pool.waitingCount + lockWaits.waiting + rowTurns.waiting + rowWaits.waiting);
    });
    opts.metrics.gauge('db_client_connection_max', 'Maximum pool size.', [], function () {
      this.set(opts.poolMax);
    });
  }

  /**
   * One statement on a pooled connection. One whose prepared plan a migration made stale (isStaleStatement: it was not
   * run) is run once more, on a connection opened since (noteStale): outside a transaction that is safe.
   * Before, the connection was kept and failed that statement at every call (a 500 each) until the process restarted.
   */
  async query<R extends Row = Row>(name: string, text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.queryOnce<R>(name, text, values);
    } catch (err) {
      if (!isStaleStatement(err)) throw err;
      this.opts.logger?.warn({ query: name, code: errorCode(err), detail: loggedMessage(err) }, 'a prepared statement went stale (a migration changed its result type); run again on a new connection');
      return this.queryOnce<R>(name, text, values);
    }
  }

  private async queryOnce<R extends Row>(name: string, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    // Not pool.query(): it discards the connection after *any* error, so every 409 (a unique violation,
    // a refused reservation) would cost a new TCP connection and authentication. An error the server
    // answered (it has a SQLSTATE) leaves the connection healthy; only other errors discard it.
    const client = await this.checkout();
    let broken: Error | undefined;
    try {
      return await this.run<R>(client, name, text, values);
    } catch (err) {
      broken = connectionLost(err);
      this.noteStale(err);
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * A stale statement (isStaleStatement) on one connection: the migration behind it made every connection open now
   * hold stale plans of its own, so each is discarded at its next checkout, not kept to fail a request first. A burst of
   * new connections after a migration of a column's type, once.
   */
  private noteStale(err: unknown): void {
    if (!isStaleStatement(err)) return;
    this.staleStatements.inc();
    this.retiredBelow = this.connectionsOpened;
  }

  /**
   * fn, a statement or a transaction that may wait on a row lock another session holds (a write of a shared row), on
   * at most lockWaitShare(pool size) connections at once: the rest of the pool stays free for work that waits on no
   * lock (reads), however many such writes wait behind one locked row. Past its turn within POOL_WAIT_MS, the same
   * failure as a full pool (busy: 503 + Retry-After). fn takes one connection at a time (one query() or tx()).
   *
   * `row` names the one row fn writes in one statement (a counter: its table and key), or the one lock every
   * transaction fn runs takes first (a login session's: the user service's refresh and logout), when many requests
   * write the same one: fn then waits in the process for the run of the same row before it, in order (bounded alike), so
   * however many pile up behind that row held by another session, one of them waits in PostgreSQL; statements on one
   * row take its lock one after the other anyway. Such runs have a share of their own, as large: in the other one, a counter
   * write of every login waited behind a session's refreshes piled up on its lock (the share full of them) and answered
   * 503. Many named rows held at once and another lock pile-up besides may still take the pool: two faults.
   */
  lockWaiting<T>(fn: () => Promise<T>, row?: string): Promise<T> {
    if (row === undefined) return this.lockWaits.run(fn);
    return this.rowTurns.run(row, () => this.rowWaits.run(fn));
  }

  /**
   * Runs fn in one transaction; rolls back on any throw. Keep fn short: it holds a connection. A statement of it whose
   * prepared plan went stale (isStaleStatement) discards the connection, but the transaction is not run again here:
   * fn may do more than statements (call another service, count, log), which a retry would do twice. The caller
   * answers 503 + Retry-After (isUnavailableError), and the request sent again runs on a new connection.
   */
  async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    const client = await this.checkout();
    let broken: Error | undefined;
    // An error the server did not answer (the connection lost, or no answer in time) leaves the connection in an
    // unknown state: it is discarded, and its transaction dies with it, without waiting on a ROLLBACK as well.
    const onConnection = async <R extends Row>(name: string, text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> => {
      try {
        return await this.run<R>(client, name, text, values);
      } catch (err) {
        broken ??= connectionLost(err);
        this.noteStale(err);
        throw err;
      }
    };
    try {
      await onConnection('', 'BEGIN');
      const result = await fn({ query: onConnection });
      await onConnection('', 'COMMIT');
      return result;
    } catch (err) {
      // A connection that cannot even roll back is discarded; after a clean rollback it is reused.
      if (!broken) await onConnection('', 'ROLLBACK').catch((rollbackErr: Error) => (broken ??= rollbackErr));
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * Runs fn while a connection of its own holds the session-level advisory lock `key`; null at once when another session
   * holds it. No transaction stays open meanwhile, so fn may wait on other services as long as it needs: a lock taken
   * in a transaction (pg_try_advisory_xact_lock) left it idle, and idle_in_transaction_session_timeout ended it, the
   * lock with it, 30 s into a long pass. The lock's connection is not one of the pool's: fn runs its statements on the
   * pool, and with the lock holding a pooled one, a pool of one (DB_POOL_MAX=1) had none left: every pass waited for
   * connectionTimeoutMillis and failed, starving requests meanwhile. It is closed when fn ends, unlocked first so the
   * next holder need not wait for the server to notice; a connection lost meanwhile frees the lock on the server. A
   * server-side idle_session_timeout does not end it (keepWhileIdle).
   *
   * The lock's connection ending while fn runs (its backend terminated, the server restarted, the connection cut) frees
   * the lock, and another replica may take it: `signal` is then aborted with a SessionLockLost, which fn checks between
   * its steps (`signal.throwIfAborted()`) to stop; counted in db_client_session_lock_lost_total and logged once (a warning). Before,
   * the pass went on to its end while another replica ran the same pass. A step in flight when the lock is lost ends
   * as it would have; fn's outcome is returned (or thrown) as it is. A connection cut without a word sends no 'end'
   * until TCP gives it up, many minutes on: every sessionLockCheckMs the lock's connection runs `SELECT 1`, and one
   * with no answer within the read timeout (statement timeout + 1 s) is taken as lost too. The server keeps such a
   * session's lock until its own TCP gives up, later than that, so the pass stops before another may begin.
   */
  async withSessionLock<T>(key: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T | null> {
    // The pool's own settings (server, role, search_path, timeouts, keep-alive), for one more connection.
    const client = new pg.Client(this.pool.options);
    const held = new AbortController();
    let locked = false;
    let closing = false;
    const lost = (err?: Error) => {
      if (!locked || closing || held.signal.aborted) return;
      const reason = new SessionLockLost(key, err);
      held.abort(reason);
      this.sessionLocksLost.inc();
      // A warning: the connection ended under an outage (terminated, restarted, cut), not a bug; the pass stops cleanly.
      this.opts.logger?.warn({ lockKey: key, code: errorCode(err), detail: err ? loggedMessage(err) : undefined }, reason.message);
    };
    client.on('error', (err) => {
      if (locked) lost(err);
      else this.opts.logger?.warn({ code: errorCode(err), detail: loggedMessage(err) }, 'database connection lost');
    });
    client.on('end', () => lost());
    try {
      await client.connect().catch(rejectedConnection);
      await this.keepWhileIdle(client);
      const lock = await this.run<{ got: boolean }>(client, 'kit_session_lock', 'SELECT pg_try_advisory_lock($1) AS got', [key]);
      if (!lock.rows[0]?.got) return null;
      locked = true;
      let checking = false;
      const check = setInterval(() => {
        if (checking || held.signal.aborted) return;
        checking = true;
        this.run(client, 'kit_session_lock_check', 'SELECT 1 AS alive', [])
          .catch((err: Error) => lost(err))
          .finally(() => (checking = false));
      }, this.opts.sessionLockCheckMs ?? DEFAULT_SESSION_LOCK_CHECK_MS);
      check.unref();
      try {
        return await fn(held.signal);
      } finally {
        clearInterval(check);
        if (!held.signal.aborted) await this.run(client, 'kit_session_unlock', 'SELECT pg_advisory_unlock($1)', [key]).catch(() => undefined);
      }
    } finally {
      closing = true;
      // Not awaited (as the pool does on release): ending waits for the server's goodbye, which a hung one never sends.
      client.end().catch(() => undefined);
    }
  }

  /**
   * The lock's connection runs nothing while fn works on the pool: an idle_session_timeout set on the role or database
   * (PostgreSQL 14+, a DBA's reaper of idle sessions) ended it mid-pass, the lock with it, and another replica took the
   * lock while this one was still in its pass. Off for this session only; a server without the setting (13 and older)
   * answers 42704 and has no such reaper.
   */
  private async keepWhileIdle(client: pg.Client): Promise<void> {
    try {
      await this.run(client, 'kit_session_lock_keep', 'SET idle_session_timeout = 0', []);
    } catch (err) {
      if (errorCode(err) !== '42704') throw err;
    }
  }

  /**
   * A connection from the pool; a database closed to new connections is a rejected connection (rejectedConnection).
   * A new one refused for the role's or server's connection limit (53300: replicas x DB_POOL_MAX above the role's
   * CONNECTION LIMIT or max_connections) while the pool holds others caps the pool at what it holds (capPool) and waits
   * for one of those, as for a full pool (at most twice more): before, each query that asked for one more failed at once (503), most of a
   * burst, although the connections held would have served it in milliseconds. A pool holding none still fails at once.
   */
  private async connect(): Promise<pg.PoolClient> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pool.connect();
      } catch (err) {
        if (errorCode(err) !== PgCode.tooManyConnections || this.connected === 0 || attempt >= 3) {
          // Noted as thrown: a closed database's 55000 is the server refusing (serverGone), as at a ping.
          return rejectedConnection(err, (thrown) => this.noteFailure(thrown));
        }
        this.capPool(this.connected);
      }
    }
  }

  /**
   * Lowers the pool's size to `size` for POOL_CAP_MS, then gives it back its own (DB_POOL_MAX): a connection limit
   * lifted is used again, one still there caps it again at the next refusal. pg-pool reads options.max on every
   * checkout (its _isFull()).
   */
  private capPool(size: number): void {
    this.pool.options.max = Math.min(this.opts.poolMax, Math.max(1, size));
    if (this.poolCapTimer) clearTimeout(this.poolCapTimer);
    this.poolCapTimer = setTimeout(() => {
      this.pool.options.max = this.opts.poolMax;
      this.poolCapTimer = undefined;
    }, POOL_CAP_MS);
    this.poolCapTimer.unref();
  }

  /**
   * A pooled connection. When tracing is on, a wait of POOL_WAIT_EVENT_MS or more for one (none was idle: every
   * connection busy, or a new one being opened) is an event on the active span: cheaper than a pool-connect span
   * per query (the pg instrumentation's are off, see telemetry). An idle connection is handed out at once; the
   * time until this code runs again is the event loop's, not the pool's (a loaded CI machine took over 1 ms).
   */
  private async checkout(): Promise<pg.PoolClient> {
    const started = performance.now();
    const waited = this.pool.idleCount === 0;
    let client = await this.connect();
    // Open since before a stale statement was met (noteStale): its own prepared statements may be stale too.
    while ((this.connectionNumbers.get(client) ?? Infinity) < this.retiredBelow) {
      client.release(true);
      client = await this.connect();
    }
    const waitedMs = performance.now() - started;
    if (waited && waitedMs >= POOL_WAIT_EVENT_MS) trace.getActiveSpan()?.addEvent('db.client.connection.wait', { 'db.client.connection.wait_ms': Math.round(waitedMs * 10) / 10 });
    return client;
  }

  async ping(): Promise<void> {
    await this.run(this.pool, 'ping', 'SELECT 1', []);
  }

  /**
   * Resolves when the database answers this replica (its readiness, /readyz), rejects when it does not. A ping through
   * the pool waits in its queue behind the requests: with every connection busy (a burst of slow queries, the pool
   * capped by the role's CONNECTION LIMIT) it waited past the readiness timeout and a replica was taken out of its
   * Service while it served, its load moved onto the others. So: with a connection idle, the ping runs on it at once;
   * with none, a statement answered within answerEvidenceMs (and no failure saying the server is gone since: serverGone)
   * is the evidence; without that either, an empty pool opens a connection for the ping, and a pool whose every
   * connection has been busy longer than that without an answer (slow statements, or stuck: waiting for a lock another
   * session holds, or a server that stopped answering) is asked on a connection of its own, outside the pool and its
   * queue: a lock wait is the database answering (ready: moving traffic to the other replicas, which share that lock,
   * frees nothing), a hung server or a cut network is not (its connection never comes: not ready).
   */
  async ready(): Promise<void> {
    // An idle connection left over once those already waiting have theirs (pg-pool hands idle ones out on the next tick).
    if (this.pool.idleCount > this.pool.waitingCount) return this.ping();
    if (this.answeredAt > this.goneAt && performance.now() - this.answeredAt < this.answerEvidenceMs) return;
    if (this.pool.totalCount === 0) return this.ping();
    return this.pingAside();
  }

  /**
   * SELECT 1 on a connection of its own, closed after. Refused for a connection limit (53300) it fails: the server may
   * have no slot left for anyone (max_connections), and a pool stuck past the window at its role's limit serves nothing.
   */
  private async pingAside(): Promise<void> {
    const client = new pg.Client(this.pool.options);
    client.on('error', (err) => this.noteFailure(err));
    try {
      await client.connect().catch(rejectedConnection);
      await this.run(client, 'ping', 'SELECT 1', []);
    } catch (err) {
      this.noteFailure(err);
      throw err;
    } finally {
      // Not awaited: ending waits for the server's goodbye, which a hung one never sends.
      client.end().catch(() => undefined);
    }
  }

  /** A failure of a statement or a connection: one saying the server is gone ends the evidence of earlier answers. */
  private noteFailure(err: unknown): void {
    if (serverGone(err)) this.goneAt = performance.now();
  }

  /**
   * Forward-only SQL migrations under an advisory lock keyed by schema, in "wait" mode,
   * so replicas that start together run them once, one after another.
   */
  async migrate(dir: string): Promise<string[]> {
    const started = performance.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.migrateOnce(dir);
      } catch (err) {
        // 55P03: a statement of a migration waited MIGRATION_LOCK_TIMEOUT_MS for a table lock that requests hold (its
        // transaction was rolled back, nothing applied): it gives way to them and tries again.
        if (errorCode(err) !== PgCode.lockNotAvailable || performance.now() - started > MIGRATION_LOCK_RETRY_BUDGET_MS) throw err;
        const delay = Math.min(5_000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
        this.opts.logger?.warn({ code: PgCode.lockNotAvailable, detail: loggedMessage(err), retryInMs: Math.round(delay) }, 'migration waits for a lock that requests hold; trying again');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async migrateOnce(dir: string): Promise<string[]> {
    // A database closed to connections is waited out at start-up like a server still starting (whenAvailable).
    const client = await this.connect();
    try {
      await client.query(`SET statement_timeout = '${MIGRATION_STATEMENT_TIMEOUT}'`);
      const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.schema]);
      if (exists.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      const lockValue = createHash('sha256').update(`migrate:${this.schema}`).digest().readUInt32BE(0);
      // The runner's own advisory lock, taken here so that waiting for another replica's migrations is not bound by
      // the lock timeout below (same key and call as node-pg-migrate's "wait" mode: a replica of an older release
      // still excludes this one). Released when the session ends (the client is destroyed in finally).
      await client.query(`SELECT pg_advisory_lock(${lockValue})`);
      await client.query(`SET lock_timeout = ${MIGRATION_LOCK_TIMEOUT_MS}`);
      const log = this.opts.logger;
      const applied = await runner({
        dbClient: client,
        dir,
        direction: 'up',
        migrationsTable: 'schema_migrations',
        schema: this.schema,
        createSchema: false,
        checkOrder: true,
        noLock: true,
        log: (msg: string) => log?.debug({ migration: msg }, 'migration'),
        logger: {
          debug: (m: string) => log?.debug(m),
          info: (m: string) => log?.info(m),
          warn: (m: string) => log?.warn(m),
          error: (m: string) => log?.error(m),
        },
      }).catch((err: unknown) => this.migrationFailure(client, err));
      await client.query('RESET statement_timeout; RESET lock_timeout');
      return applied.map((m) => m.name);
    } finally {
      // A client whose RESET did not run (a migration failed) is not handed to requests with the long timeout.
      client.release(true);
    }
  }

  /**
   * Throws what a failed migration run means. node-pg-migrate rethrows a failure of its own bookkeeping statements (the
   * schema_migrations table's check) as a plain Error of the message alone, without the code: a connection the server
   * ended there (57P01, a restart, a terminated backend) then failed the start instead of being waited out like one
   * ended anywhere else (whenAvailable). So a code-less failure asks the connection: one that no longer answers throws
   * why (a connection failure, waited out); one that answers throws the failure as it was.
   */
  private async migrationFailure(client: pg.PoolClient, err: unknown): Promise<never> {
    if (errorCode(err) !== undefined) throw err;
    const probe = await client.query({ text: 'SELECT 1', query_timeout: this.readTimeoutMs } as pg.QueryConfig).then(
      () => undefined,
      (probeErr: unknown) => probeErr,
    );
    if (probe !== undefined && isUnavailableError(probe)) {
      this.opts.logger?.warn({ code: errorCode(probe), detail: loggedMessage(err) }, 'a migration run lost its connection');
      throw probe;
    }
    throw err;
  }

  /**
   * Runs `step` (typically the migrations) until the database lets this service in: while the server is
   * down or starting (ECONNREFUSED, 57P03), its database or role does not exist yet (3D000, 28P01,
   * 28000: the provisioning job has not run) or its role has no rights there yet (42501), it waits with backoff and logs one line each time the
   * reason changes. Any other error, or still waiting after timeoutMs, throws (the process exits non-zero).
   */
  async whenAvailable<T>(step: () => Promise<T>, timeoutMs: number): Promise<T> {
    const log = this.opts.logger;
    // On the monotonic clock: a wall clock stepped forward (NTP at boot) would end the wait at once, stepped back stretch it.
    const deadline = performance.now() + timeoutMs;
    let delay = 200;
    let lastReason: string | undefined;
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        const result = await step();
        if (lastReason) log?.info({ attempts }, 'database available');
        return result;
      } catch (err) {
        const reason = startupWaitReason(err);
        if (!reason) throw err;
        if (performance.now() + delay > deadline) {
          throw new Error(`database not available after ${Math.round(timeoutMs / 1000)} s (DB_STARTUP_TIMEOUT_MS): ${reason}`, { cause: err });
        }
        if (reason !== lastReason) {
          log?.warn({ reason, code: errorCode(err), attempt: attempts, retryInMs: delay }, `waiting for the database: ${reason}`);
          lastReason = reason;
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  async close(): Promise<void> {
    if (this.poolCapTimer) clearTimeout(this.poolCapTimer);
    await this.pool.end();
  }

  private async run<R extends Row>(
    client: pg.Pool | pg.ClientBase,
    name: string,
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    // query_timeout: statement_timeout is the server's, and a server that hangs (stopped, partitioned away)
    // never sends it; the query then fails here a second after the server would have cancelled it ('Query read
    // timeout': 503), and its connection is discarded by the caller. (pg reads it from the query's config; its
    // types do not list it.)
    // A name doubles as the prepared-statement name: one name must always mean one SQL text. Unnamed ('') is
    // for the transaction's own BEGIN, COMMIT and ROLLBACK: sent unprepared and not measured (as before).
    let end: ((labels: { error_type: string }) => void) | undefined;
    if (name !== '') {
      const known = this.statements.get(name);
      if (known === undefined) this.statements.set(name, text);
      else if (known !== text) throw new Error(`query name ${name} is used for two different statements`);
      end = this.metrics.dbOperationDuration.startTimer({ db_query_name: name, db_operation_name: operationOf(text) });
    }
    // One object per query (a hot path): unnamed, it is sent unprepared.
    const query_timeout = this.readTimeoutMs;
    const config: pg.QueryConfig & { query_timeout: number } = name === '' ? { text, values, query_timeout } : { name, text, values, query_timeout };
    try {
      const res = await client.query<R>(config);
      end?.({ error_type: '' });
      this.answeredAt = performance.now();
      return res;
    } catch (err) {
      this.noteFailure(err);
      const code = (err as { code?: string }).code;
      end?.({ error_type: typeof code === 'string' ? code.slice(0, 2) : 'client' });
      throw err;
    }
  }
}
