// What PostgreSQL's errors mean to a service: the codes mapped to domain answers, and which failures at
// start-up are worth waiting out (Database.whenAvailable). Errors that make a request 503 are in errors.ts.
import { errorCode, isUnavailableError } from './errors.js';

/** PostgreSQL error codes we map to domain answers. */
export const PgCode = {
  uniqueViolation: '23505',
} as const;

/** Failures at start-up that only start-up waits out (a request meeting them is a bug or a misconfiguration). */
const STARTUP_REASONS: Record<string, string> = {
  '57P03': 'the server is starting up or recovering',
  '3D000': 'the database does not exist yet',
  '28P01': 'the role does not exist yet or cannot log in yet',
  '28000': 'the role does not exist yet or cannot log in yet',
  // A provisioner that lets the role log in before it hands over the schema (ours does not; a hand-written script
  // may): the migration is refused until it has. A role that never gets its rights gives up after the timeout.
  '42501': 'the role has no rights on its database or schema yet',
  '53300': 'the server has no free connection slot',
  '53000': 'the server is short of resources',
  '53100': 'the server has no disk space left',
  '53200': 'the server is out of memory',
  // Rolled back to end a conflict with another session (a replica migrating too, an operator's script): run again.
  '40P01': 'a deadlock with another session',
  '40001': 'a conflict with another session',
  '55P03': 'a lock another session holds (lock_timeout)',
};

/**
 * Why the database cannot be used *yet* at start-up, or undefined when the error is not one to wait out:
 * the start-up ones above, and every failure a request would answer 503 for (isUnavailableError: the
 * server or the network to it is down, restarting or full).
 */
export function startupWaitReason(err: unknown): string | undefined {
  const code = errorCode(err);
  if (code !== undefined && Object.hasOwn(STARTUP_REASONS, code)) return STARTUP_REASONS[code];
  // A statement that ran out of time (a migration past its 300 s, or past the role's transaction_timeout): a 503 for
  // a request, but not a server that is not there yet; waiting would run it again.
  if (code === '57014' || code === '25P04') return undefined;
  if (isUnavailableError(err)) return code ? `the server does not accept connections (${code})` : 'the connection failed';
  return undefined;
}
