// What PostgreSQL's errors, and a failed connection to it, mean to a service: one table (DB_FAILURES) of every SQLSTATE,
// class of SQLSTATEs, Node error code and pg message the kit knows, with what each means, and the questions the kit
// asks of it: is the server gone (serverGone: readiness stops trusting earlier answers), does a request answer 503 +
// Retry-After (isUnavailableError), does start-up wait it out and why (startupWaitReason, Database.whenAvailable). A
// code the table does not know is none of these; the codes mapped to domain answers are PgCode's.
import pg from 'pg';
import { ProblemError, errorCode } from './errors.js';
import { POOL_SHARE_FULL } from './pool-share.js';

/** PostgreSQL error codes we map to domain answers, or that the kit asks about by name. */
export const PgCode = {
  uniqueViolation: '23505',
  /** The role's or the server's connection limit reached: 'too many connections'. */
  tooManyConnections: '53300',
  /** A server that takes no writes (a standby, the old primary during a failover). */
  readOnlyServer: '25006',
  /** A lock not had within lock_timeout. */
  lockNotAvailable: '55P03',
} as const;

/**
 * What a failure means; each meaning answers the three questions the same way (ANSWERS):
 * - gone: the server, or the way to it, is gone or refusing: no connection, the connection lost, no answer in time,
 *   the server shutting down, crashed, starting or short of resources, the database dropped under the session. A
 *   request's 503; start-up waits it out.
 * - missing: the database or the role is not there (yet): the connection refused for good. A request meeting it is a
 *   misconfiguration (a 500), not a 503; start-up waits it out (the provisioning job has not run yet).
 * - no-rights: the role has no rights there (yet). As missing, but the server answered: not gone.
 * - busy: the server or the pool has no connection to give now. A 503; start-up waits; not gone.
 * - timeout: a statement or transaction ran out of time, rolled back. A 503, but start-up does not wait: a migration
 *   would run again into the same limit.
 * - conflict: rolled back to end a conflict with another session; the same request sent again succeeds. A 503.
 * - read-only: a server that takes no writes. A 503; its connection is discarded (db.ts), a later one may reach the
 *   primary.
 * - stale: a statement this connection prepared no longer stands (isStaleStatement). A 503; its retry runs on a new
 *   connection.
 * Every failure the server answered (a pg.DatabaseError) changed nothing, but one that ended the session (sessionEnded):
 * statementNotRun (db.ts).
 */
type Meaning = 'gone' | 'missing' | 'no-rights' | 'busy' | 'timeout' | 'conflict' | 'read-only' | 'stale';

const ANSWERS: Record<Meaning, { gone: boolean; unavailable: boolean; waited: boolean }> = {
  gone: { gone: true, unavailable: true, waited: true },
  missing: { gone: true, unavailable: false, waited: true },
  'no-rights': { gone: false, unavailable: false, waited: true },
  busy: { gone: false, unavailable: true, waited: true },
  timeout: { gone: false, unavailable: true, waited: false },
  conflict: { gone: false, unavailable: true, waited: true },
  'read-only': { gone: false, unavailable: true, waited: true },
  stale: { gone: false, unavailable: true, waited: true },
};

interface KnownFailure {
  readonly means: Meaning;
  /**
   * The server ends the session with it (a FATAL): it may come after the statement in flight ran, even after its
   * CommandComplete (a backend terminated while it finished a COMMIT, its termination processed at the next interrupt
   * check), so it says nothing of whether that statement ran (sessionEnded).
   */
  readonly endsSession?: true;
  /** Why start-up waits, in its log line; without it, `the server does not accept connections (<code>)`. */
  readonly why?: string;
  /** The code means this only when the error says so too (0A000 is a stale plan only for RevalidateCachedQuery). */
  readonly when?: (err: object) => boolean;
}

/**
 * Every code the kit knows. A five-character key is a SQLSTATE, a two-character one the SQLSTATE class of that name
 * (a code not listed of its own takes its class's entry), a longer one a Node error code of the connection.
 */
export const DB_FAILURES: Readonly<Record<string, KnownFailure>> = {
  // Class 08, connection exceptions; 08004 is also a database closed to new connections (55000 at connect, reported
  // as 08004 by db.ts's ConnectionRejected).
  '08': { means: 'gone', endsSession: true },
  '57P01': { means: 'gone', endsSession: true }, // admin shutdown, or the backend terminated
  '57P02': { means: 'gone', endsSession: true }, // crash shutdown
  '57P03': { means: 'gone', why: 'the server is starting up or recovering' },
  // The database was dropped under the session: on a standby, replaying the primary's DROP DATABASE ends every
  // connection to it ('terminating connection due to conflict with recovery'). The connection ended, the statement did
  // not run; a new connection meets 3D000 until the database is back (a restore drops and creates it again).
  '57P04': { means: 'gone', why: 'the database was dropped (its connections ended)', endsSession: true },
  // A session ended by idle_session_timeout (the server's notice read as the answer to a statement sent on the pooled
  // connection it ended: a 500 before).
  '57P05': { means: 'gone', endsSession: true },
  // Short of resources, its disk full or out of memory: passing, unlike 53400, a limit of its configuration
  // (temp_file_limit, max_locks_per_transaction) that the same statement meets again.
  '53000': { means: 'gone', why: 'the server is short of resources' },
  '53100': { means: 'gone', why: 'the server has no disk space left' },
  '53200': { means: 'gone', why: 'the server is out of memory' },
  ECONNREFUSED: { means: 'gone' },
  ECONNRESET: { means: 'gone' },
  EPIPE: { means: 'gone' },
  ETIMEDOUT: { means: 'gone' },
  EHOSTUNREACH: { means: 'gone' },
  ENETUNREACH: { means: 'gone' },
  ENOTFOUND: { means: 'gone' },
  EAI_AGAIN: { means: 'gone' },
  '3D000': { means: 'missing', why: 'the database does not exist yet' },
  // Class 28: 28000, 28P01.
  '28': { means: 'missing', why: 'the role does not exist yet or cannot log in yet' },
  // A provisioner that lets the role log in before it hands over the schema (ours does not; a hand-written script
  // may): the migration is refused until it has. A role that never gets its rights gives up after the timeout.
  '42501': { means: 'no-rights', why: 'the role has no rights on its database or schema yet' },
  [PgCode.tooManyConnections]: { means: 'busy', why: 'the server has no free connection slot' },
  // statement_timeout (the server too slow to answer in time), and transaction_timeout (PostgreSQL 17, set by the
  // administrator: the session ended, its transaction rolled back).
  '57014': { means: 'timeout' },
  '25P04': { means: 'timeout' },
  // The server rolled the transaction back to end a conflict with another session (a replica migrating too, an
  // operator's script; on a standby, with recovery): they were a 500, a bug, for what another session did. 40002 (a
  // deferred constraint failing at COMMIT) is the request's own data, not one of them.
  '40P01': { means: 'conflict', why: 'a deadlock with another session' },
  '40001': { means: 'conflict', why: 'a conflict with another session' },
  // lock_timeout, set on the role or database by its administrator (no service asks for NOWAIT), or the migration's.
  [PgCode.lockNotAvailable]: { means: 'conflict', why: 'a lock another session holds (lock_timeout)' },
  // No service asks for a read-only transaction itself: a standby, the old primary during a failover.
  [PgCode.readOnlyServer]: { means: 'read-only', why: 'the server takes no writes (a standby, or a primary being failed over)' },
  // No such prepared statement any more (e.g. after DISCARD ALL); a migration changed the type of a column a prepared
  // statement returns ('cached plan must not change result type': the server's message may be in another language).
  '26000': { means: 'stale', why: 'a statement prepared on a connection no longer exists there' },
  '0A000': { means: 'stale', why: 'a statement prepared on a connection returns other types since a migration', when: staleSays },
};

// pg and pg-pool report these without a code; the message starts so.
const MESSAGE_FAILURES: readonly (readonly [prefix: string, means: Meaning])[] = [
  ['Connection terminated', 'gone'], // and 'Connection terminated unexpectedly'
  ['Client has encountered a connection error and is not queryable', 'gone'],
  ['Client was closed and is not queryable', 'gone'],
  ['Query read timeout', 'gone'], // the query_timeout of Database.run: a server that stopped answering
  // A pg.Client's own connect timeout (connectionTimeoutMillis) on a connection opened beside the pool (a session lock,
  // a ping aside): the server did not answer the connection in time. Unknown, the reconciler logged a stopped server
  // as a bug ('reconciler pass failed' at error level; the pool's own reports it as 'Connection terminated due to ...').
  ['timeout expired', 'gone'],
  ['timeout exceeded when trying to connect', 'busy'], // the pool's own queue (connectionTimeoutMillis)
  [POOL_SHARE_FULL, 'busy'], // the turn of a lock wait (Database.lockWaiting), as the pool's own queue
];

function staleSays(err: object): boolean {
  const { routine, message } = err as { routine?: unknown; message?: unknown };
  return routine === 'RevalidateCachedQuery' || (typeof message === 'string' && /cached plan must not change result type/.test(message));
}

function entry(key: string): KnownFailure | undefined {
  return Object.hasOwn(DB_FAILURES, key) ? DB_FAILURES[key] : undefined;
}

/** The table's entry for err's code (its own, else its class's), undefined when it has none. */
function byCode(err: unknown): KnownFailure | undefined {
  const code = errorCode(err);
  // A two-character key is a class, not a code.
  if (code === undefined || code.length === 2) return undefined;
  const known = entry(code) ?? (code.length === 5 ? entry(code.slice(0, 2)) : undefined);
  return known && (known.when === undefined || known.when(err as object)) ? known : undefined;
}

function byMessage(err: unknown): Meaning | undefined {
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return undefined;
  return MESSAGE_FAILURES.find(([prefix]) => message.startsWith(prefix))?.[1];
}

/**
 * The server ended the session with `err` (a FATAL: its code is one the table says so of, or its severity says so, in
 * the server's English): whatever statement was in flight may have run, a COMMIT committed. statementNotRun (db.ts)
 * is false for it; the connection is discarded.
 */
export function sessionEnded(err: unknown): boolean {
  if (byCode(err)?.endsSession) return true;
  const severity = (err as { severity?: unknown } | null)?.severity;
  return err instanceof pg.DatabaseError && (severity === 'FATAL' || severity === 'PANIC');
}

/**
 * A statement this connection prepared before that no longer stands (the table's stale codes). Every later call of it
 * on that connection fails the same way; on a new connection it is prepared again and runs. The statement was not
 * run. Database discards such connections (db.ts); a request that still meets it answers 503 + Retry-After, its retry
 * runs on a new connection.
 */
export function isStaleStatement(err: unknown): boolean {
  return byCode(err)?.means === 'stale';
}

/** True for errors that mean "a dependency is unavailable right now" (answered 503 + Retry-After), not a bug. */
export function isUnavailableError(err: unknown): boolean {
  if (err instanceof ProblemError || err === null || typeof err !== 'object') return false;
  const known = byCode(err);
  if (known && ANSWERS[known.means].unavailable) return true;
  if (err instanceof AggregateError) return err.errors.some(isUnavailableError);
  const means = byMessage(err);
  return means !== undefined && ANSWERS[means].unavailable;
}

/**
 * True when `err` says the server, or the way to it, is gone or refusing, as opposed to a server that answered a
 * statement with an error or is only busy. Such a failure ends the evidence of earlier answers (Database.ready). A
 * failure the table does not know is gone unless the server answered it (a pg.DatabaseError): no answer came.
 */
export function serverGone(err: unknown): boolean {
  const known = byCode(err);
  if (known) return ANSWERS[known.means].gone;
  if (err instanceof pg.DatabaseError) return false;
  const means = byMessage(err);
  return means === undefined || ANSWERS[means].gone;
}

/**
 * Why the database cannot be used *yet* at start-up, or undefined when the error is not one to wait out: the table's
 * failures that start-up waits for, with their reason, and every other failure a request would answer 503 for
 * (isUnavailableError) but a statement that ran out of time (a migration past its 300 s, or past the role's
 * transaction_timeout: waiting would run it again).
 */
export function startupWaitReason(err: unknown): string | undefined {
  const known = byCode(err);
  if (known?.why !== undefined) return known.why;
  if (known && !ANSWERS[known.means].waited) return undefined;
  if (!isUnavailableError(err)) return undefined;
  const code = errorCode(err);
  return code ? `the server does not accept connections (${code})` : 'the connection failed';
}
