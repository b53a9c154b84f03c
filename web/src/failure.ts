// A failure said as what it was: no answer came (the network, a timeout), or the shop answered with an error of its
// own (a 5xx), quoted with the id its problem gives, so "never came" or "could not be reached" is not said of an answer.
import { ApiError, isTimeout } from './api/client.js';

/**
 * The id a problem+json gives to quote, in words: its requestId or traceId member, an instance that is a urn:uuid (the
 * kit's for a request it could not route), or the "request id <id>" its detail names (the kit's 500); else the answer's
 * X-Request-Id (`requestId`: the gateway's 503 and 504 name none in their body, only in that header).
 */
export function problemRef(problem: unknown, requestId?: string | null): string | undefined {
  const header = requestId ? `request id ${requestId}` : undefined;
  if (typeof problem !== 'object' || problem === null) return header;
  const p = problem as Record<string, unknown>;
  const named = (key: string, words: string) => (typeof p[key] === 'string' && p[key] ? `${words} ${p[key] as string}` : undefined);
  const urn = typeof p.instance === 'string' && p.instance.startsWith('urn:uuid:') ? `request id ${p.instance.slice(9)}` : undefined;
  const told = typeof p.detail === 'string' ? /\brequest id ([\w-]+)/i.exec(p.detail)?.[1] : undefined;
  return named('requestId', 'request id') ?? named('traceId', 'trace id') ?? urn ?? (told && `request id ${told}`) ?? header;
}

/** What a 504 and a request's own timeout both say. */
const NOT_IN_TIME = 'the shop did not answer in time';

/**
 * A 5xx answer in words, one rule at the time and after a reload (checkout.ts, the cart's notice): a 504 (the gateway's
 * upstream-timeout, an ingress's deadline) is "the shop did not answer in time", as a request's own timeout is; any
 * other (a 500, a 502 or 503: down, or a bug) "the shop had a problem (error 503, ...)". Its id to quote with either.
 */
export function answeredWithError(status: number, ref?: string): string {
  if (status === 504) return `${NOT_IN_TIME}${ref ? ` (${ref})` : ''}`;
  return `the shop had a problem (error ${status}${ref ? `, ${ref}` : ''})`;
}

/** A failure's words opening a sentence of their own: "The shop had a problem (...)". */
export function asSentence(why: string): string {
  return `${why.charAt(0).toUpperCase()}${why.slice(1)}`;
}

/**
 * Why a call failed, in words: a 5xx answered (answeredWithError), no answer in time, or none at all; undefined for
 * a 4xx (its problem says why).
 */
export function failureWhy(err: unknown): string | undefined {
  if (err instanceof ApiError) return err.status >= 500 ? answeredWithError(err.status, problemRef(err.problem, err.requestId)) : undefined;
  return isTimeout(err) ? NOT_IN_TIME : 'the shop could not be reached, no answer came';
}

/** Why a read failed, after `what` ("Your orders cannot be loaded right now"), and `then` (to try again). */
export function failureText(err: unknown, what: string, then = 'Please try again in a moment.'): string {
  const why = failureWhy(err);
  return `${what}${why ? `: ${why}` : ''}. ${then}`;
}
