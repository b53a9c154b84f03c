// What PostgreSQL's errors mean to a service: the codes mapped to domain answers, and which failures at
// start-up are worth waiting out (Database.whenAvailable). Errors that make a request 503 are in errors.ts.
import { errorCode } from './errors.js';

/** PostgreSQL error codes we map to domain answers. */
export const PgCode = {
  uniqueViolation: '23505',
} as const;

/** Why the database cannot be used *yet* at start-up, or undefined when the error is not one to wait out. */
export function startupWaitReason(err: unknown): string | undefined {
  const code = errorCode(err);
  switch (code) {
    case '57P03':
      return 'the server is starting up or recovering';
    case '3D000':
      return 'the database does not exist yet';
    case '28P01':
    case '28000':
      return 'the role does not exist yet or cannot log in yet';
    case '53300':
      return 'the server has no free connection slot';
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the server does not accept connections (${code})`;
    default:
      break;
  }
  if (code && /^(08...|57P0[12])$/.test(code)) return `the connection failed (${code})`;
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && /^(Connection terminated|timeout exceeded when trying to connect)/.test(message)) return 'the connection failed';
  return undefined;
}
