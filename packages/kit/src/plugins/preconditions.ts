// If-Match and If-None-Match on a route that sends no ETag (RFC 9110 13.1.1, 13.1.2): an origin server MUST evaluate
// them before performing the method, and a resource with no entity tag matches no listed tag. Ignored, they let
// `POST /order/:id/cancel` with `If-Match: "7"` cancel an order whose state the client never saw. So here:
// - If-Match with entity tags: never holds: 412 (`*` holds for any resource that exists: the route answers as usual);
// - If-None-Match `*`: the resource exists: 304 on GET and HEAD, 412 on the other methods (13.1.2); with tags it holds;
// - a field that is not entity tags: 400, as the routes with ETags answer it (a GET's If-None-Match is read leniently).
// A failed condition is answered only where the request without it would have been answered 2xx (13.2.1: a server
// MUST ignore the preconditions otherwise): an unknown order with `If-Match: "7"` is the route's 404, not a 412. On a
// safe method the route's own answer tells (it runs, and its 2xx becomes the 304 or 412); a method that changes
// something must not run, so a route whose resource may be missing names its lookup in `config.preconditionTarget`,
// awaited before the 412. A 401, 403, 400 or 429 comes first anyhow: this runs as the route's handler starts, after
// authentication (onRequest), validation and every preHandler. Routes that evaluate them against their own ETags say so with `config.entityTags` (the
// product API); a proxy, whose services evaluate them, registers none of this (`preconditionsForwarded`).
import { Readable } from 'node:stream';
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { readEntityTags, readIfMatch } from '../entity-tags.js';
import { BadRequest, PreconditionFailed, type ProblemError } from '../errors.js';
import { OPERATIONAL_PATHS } from '../operational-paths.js';
import { KIT_PLUGINS } from './names.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route evaluates If-Match and If-None-Match against its own ETags: the kit's check leaves them to it. */
    entityTags?: boolean;
    /**
     * The route's own lookup of the resource it acts on, for the caller (an unknown or another customer's order: its
     * 404). Awaited before a failed precondition on a method that changes something is answered 412 (RFC 9110 13.2.1).
     */
    preconditionTarget?: (request: FastifyRequest) => Promise<unknown>;
  }
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

const notEntityTags = (field: 'If-Match' | 'If-None-Match') =>
  new BadRequest(`${field} must be entity tags ("...", W/"...") or *`, [{ path: `headers/${field.toLowerCase()}`, message: 'must be entity tags or *' }]);

/** A failed condition on a resource without entity tags: a 412, or on GET and HEAD (If-None-Match) a 304. */
type FailedCondition = ProblemError | 304;

/** The 400, 412 or 304 that If-Match and If-None-Match call for on a resource without entity tags; undefined when they hold. */
function untaggedPreconditionOutcome(method: string, ifMatch: string | undefined, ifNoneMatch: string | undefined): FailedCondition | undefined {
  const match = ifMatch === undefined ? undefined : readIfMatch(ifMatch);
  if (ifMatch !== undefined && !match) return notEntityTags('If-Match');
  const unsafe = !SAFE.has(method);
  const noneMatch = ifNoneMatch === undefined ? undefined : readEntityTags(ifNoneMatch);
  if (ifNoneMatch !== undefined && unsafe && !noneMatch) return notEntityTags('If-None-Match');
  if (match && !match.any) return new PreconditionFailed('This resource has no entity tag, so If-Match can hold only as *: nothing was done');
  if (noneMatch?.any) {
    if (method === 'GET' || method === 'HEAD') return 304;
    return new PreconditionFailed('If-None-Match: * holds only where nothing exists yet, and this resource exists: nothing was done');
  }
  return undefined;
}

/** Safe requests whose route runs with a failed condition: its 2xx is answered as this instead. */
const failedOnSafe = new WeakMap<FastifyRequest, FailedCondition>();

/**
 * What a route's handler meets first: undefined when the conditions hold or fall to the route's answer (a safe
 * method: noted for onSend), else the refusal of a method that changes something, after the route's lookup.
 */
function judge(request: FastifyRequest): Promise<never> | undefined {
  const { 'if-match': ifMatch, 'if-none-match': ifNoneMatch } = request.headers;
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  if (request.routeOptions.config?.entityTags === true || OPERATIONAL_PATHS.has(request.routeOptions.url ?? '')) return undefined;
  const outcome = untaggedPreconditionOutcome(request.method, ifMatch, ifNoneMatch);
  if (outcome === undefined) return undefined;
  if (outcome !== 304 && outcome.status === 400) return Promise.reject(outcome);
  if (SAFE.has(request.method)) {
    failedOnSafe.set(request, outcome);
    return undefined;
  }
  const target = request.routeOptions.config?.preconditionTarget;
  return (target ? target(request) : Promise.resolve()).then(() => Promise.reject(outcome as ProblemError));
}

export const preconditions = fp<{ forwarded: boolean }>(
  async (app, { forwarded }) => {
    if (forwarded) return;
    // Judged as the handler starts, after every hook of the route (a route's own preHandler, such as a rate limit's
    // 429, comes first too), just before the method is performed (13.2.2).
    const wrapped = new WeakSet<object>();
    app.addHook('onRoute', (route) => {
      if (wrapped.has(route.handler)) return;
      const handler = route.handler;
      const judged: typeof handler = function (this: unknown, request, reply) {
        return judge(request) ?? handler.call(this as never, request, reply);
      };
      wrapped.add(judged);
      route.handler = judged;
    });
    // A callback hook, not an async one: it runs on every answer of every service, and almost always hands the
    // payload on untouched (no promise per request for that).
    app.addHook('onSend', (request, reply, payload, done) => {
      const outcome = failedOnSafe.get(request);
      if (outcome === undefined || reply.statusCode < 200 || reply.statusCode > 299) return done(null, payload);
      failedOnSafe.delete(request);
      // The route's answer is not sent: a stream it opened is closed.
      if (payload instanceof Readable) payload.destroy();
      if (outcome !== 304) return done(outcome);
      // No body and no length (RFC 9110 8.6, 15.4.5): an empty stream, which Fastify's HEAD route drains without
      // writing `Content-Length: 0` as it does for an absent payload. Cache-Control and Vary stay, as 15.4.5 asks.
      reply.code(304).removeHeader('content-type').removeHeader('content-length');
      done(null, Readable.from([]));
    });
  },
  { name: KIT_PLUGINS.preconditions, fastify: '5.x', dependencies: [KIT_PLUGINS.problemErrors] },
);
