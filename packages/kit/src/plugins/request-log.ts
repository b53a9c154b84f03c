// One log line per request, written when it is answered or its connection closes first (Fastify's own two request
// lines are off).
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { abandonedStatus } from '../client-connection.js';
import { OPERATIONAL_PATHS } from '../operational-paths.js';
import { redactedPath } from '../path-redaction.js';
import { pathOf } from '../request-target.js';
import { KIT_PLUGINS } from './names.js';
import { abandonedReply, onAbandoned } from './request-context.js';

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

export const requestLog = fp(
  async (app) => {
    // A request whose connection closed before its answer gets no onResponse: it left no line at all, so a client
    // could have any amount of work done (a search, a login's password hash) and leave nothing in the log. Its line is
    // written here, status 499 (it went away first) or the kit's own (408: its body did not arrive in time).
    onAbandoned(app, (request, reply) => logRequest(request, abandonedStatus(request), reply.elapsedTime));
    app.addHook('onResponse', (request, reply, done) => {
      if (!abandonedReply(request)) logRequest(request, reply.statusCode, reply.elapsedTime);
      done();
    });
  },
  { name: KIT_PLUGINS.requestLog, fastify: '5.x', dependencies: [KIT_PLUGINS.requestContext] },
);

function logRequest(request: FastifyRequest, status: number, elapsedMs: number): void {
  // Built only when its level is enabled (it is the hottest allocation here). A 503 is expected (a
  // dependency is down, the service is draining) and says so to the client: warn. A 501 or 505 answers what
  // the client sent (a Transfer-Encoding, an HTTP version this server does not do), as a 4xx does: info; any
  // client could write error lines at will, each printed by `npm start`. Only a 500 (a bug), a 502 or a 504
  // is an error. request.log already carries reqId.
  const routed = request.routeOptions.url;
  const route = routed ?? 'unmatched';
  const serverFault = status >= 500 && status !== 501 && status !== 505;
  const level = serverFault ? (status === 503 ? 'warn' : 'error') : OPERATIONAL_PATHS.has(route) ? 'debug' : 'info';
  if ((LEVELS[level] ?? 30) >= (LEVELS[request.log.level] ?? 30)) {
    request.log[level](
      {
        traceId: request.trace?.traceId,
        spanId: request.trace?.spanId,
        method: request.method,
        route,
        // Never the path as sent (nor its query string): a token or an email in it is REDACTED, as in the
        // request's span (path-redaction.ts).
        path: redactedPath(pathOf(request.url), routed !== undefined),
        status,
        durationMs: Math.round(elapsedMs * 100) / 100,
        userId: request.user?.id,
        clientId: request.serviceClient?.clientId,
      },
      'request',
    );
  }
}
