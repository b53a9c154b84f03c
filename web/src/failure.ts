// A failure said as what it was: no answer came (the network, a timeout), or the shop answered with an error of its
// own (a 5xx), quoted with the id its problem gives, so "never came" or "could not be reached" is not said of an answer.
import { ApiError, isTimeout } from './api/client.js';

/**
 * The id a problem+json gives to quote, in words: its requestId or traceId member, an instance that is a urn:uuid (the
 * kit's for a request it could not route), or the "request id <id>" its detail names (the kit's 500).
 */
export function problemRef(problem: unknown): string | undefined {
  if (typeof problem !== 'object' || problem === null) return undefined;
  const p = problem as Record<string, unknown>;
  const named = (key: string, words: string) => (typeof p[key] === 'string' && p[key] ? `${words} ${p[key] as string}` : undefined);
  const urn = typeof p.instance === 'string' && p.instance.startsWith('urn:uuid:') ? `request id ${p.instance.slice(9)}` : undefined;
  const told = typeof p.detail === 'string' ? /\brequest id ([\w-]+)/i.exec(p.detail)?.[1] : undefined;
  return named('requestId', 'request id') ?? named('traceId', 'trace id') ?? urn ?? (told && `request id ${told}`);
}

/** "the shop had a problem (error 500, request id …)": an answer with a 5xx status, and its id to quote. */
export function answeredWithError(status: number, problem?: unknown, ref = problemRef(problem)): string {
  return `the shop had a problem (error ${status}${ref ? `, ${ref}` : ''})`;
}

/** Why a read failed, after `what` ("Your orders cannot be loaded right now"), and to try again. */
export function failureText(err: unknown, what: string): string {
  const why =
    err instanceof ApiError
      ? err.status >= 500
        ? `: ${answeredWithError(err.status, err.problem)}`
        : ''
      : isTimeout(err)
        ? ': the shop did not answer in time'
        : ': the shop could not be reached, no answer came';
  return `${what}${why}. Please try again in a moment.`;
}
