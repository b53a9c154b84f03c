// If-Match and If-None-Match on a route that sends no ETag (RFC 9110 13.1.1, 13.1.2): an origin server MUST evaluate
// them before performing the method, and a resource with no entity tag matches no listed tag. Ignored, they let
// `POST /order/:id/cancel` with `If-Match: "7"` cancel an order whose state the client never saw. So here:
// - If-Match with entity tags: never holds: 412 (`*` holds for any resource that exists: the route answers as usual);
// - If-None-Match `*` on a method that changes something: the resource exists: 412 (on GET and HEAD, a route without
//   an ETag sends its full answer, as a cache would get it without a validator);
// - a field that is not entity tags: 400, as the routes with ETags answer it.
// Routes that evaluate them against their own ETags say so with `config.entityTags` (the product API); a proxy, whose
// services evaluate them, registers none of this (`preconditionsForwarded`). Runs as a preHandler, after the route's
// authentication and validation (a 401 or 400 comes first); a route's 404 for an unknown id comes after it.
import fp from 'fastify-plugin';
import { readEntityTags, readIfMatch } from '../entity-tags.js';
import { BadRequest, PreconditionFailed, type ProblemError } from '../errors.js';
import { OPERATIONAL_PATHS } from '../operational-paths.js';
import { KIT_PLUGINS } from './names.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

const notEntityTags = (field: 'If-Match' | 'If-None-Match') =>
  new BadRequest(`${field} must be entity tags ("...", W/"...") or *`, [{ path: `headers/${field.toLowerCase()}`, message: 'must be entity tags or *' }]);

/** The 400 or 412 that If-Match and If-None-Match call for on a resource without entity tags; undefined when they hold. */
function untaggedPreconditionProblem(method: string, ifMatch: string | undefined, ifNoneMatch: string | undefined): ProblemError | undefined {
  const match = ifMatch === undefined ? undefined : readIfMatch(ifMatch);
  if (ifMatch !== undefined && !match) return notEntityTags('If-Match');
  const unsafe = !SAFE.has(method);
  const noneMatch = ifNoneMatch === undefined || !unsafe ? undefined : readEntityTags(ifNoneMatch);
  if (ifNoneMatch !== undefined && unsafe && !noneMatch) return notEntityTags('If-None-Match');
  if (match && !match.any) return new PreconditionFailed('This resource has no entity tag, so If-Match can hold only as *: nothing was done');
  if (noneMatch?.any) return new PreconditionFailed('If-None-Match: * holds only where nothing exists yet, and this resource exists: nothing was done');
  return undefined;
}

export const preconditions = fp<{ forwarded: boolean }>(
  async (app, { forwarded }) => {
    if (forwarded) return;
    app.addHook('preHandler', (request, _reply, done) => {
      const { 'if-match': ifMatch, 'if-none-match': ifNoneMatch } = request.headers;
      if (ifMatch === undefined && ifNoneMatch === undefined) return done();
      if ((request.routeOptions.config as { entityTags?: unknown } | undefined)?.entityTags === true) return done();
      if (OPERATIONAL_PATHS.has(request.routeOptions.url ?? '')) return done();
      done(untaggedPreconditionProblem(request.method, ifMatch, ifNoneMatch));
    });
  },
  { name: KIT_PLUGINS.preconditions, fastify: '5.x', dependencies: [KIT_PLUGINS.problemErrors] },
);
