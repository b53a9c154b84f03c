// `url.path` of a server span: the path a client sent, redacted by the kit's rule (packages/kit/src/path-redaction.ts),
// the one the request's log line holds too. A request no route answered (a 404, one the router refused: a badly encoded
// path, a parameter too long) keeps only the segments that are a static segment of some route this process serves
// (`/user/REDACTED` for `/user/<token>`, `/REDACTED` for `/.env`): nothing says which of its segments are names and
// which are values, and a client may put anything there. A routed request's keeps its parameters when they are names,
// UUIDs or numbers: `/product/<token>` is routed, and answered 400. At most 16 segments either way.
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan, Span } from '@opentelemetry/sdk-trace-node';
import { redactedPath } from '@ecommerce/kit/path-redaction';
import { pathOf } from '@ecommerce/kit/request-target';
import { SpanRewrite } from './span-rewrite.js';

/**
 * Server spans whose request a route handed to the not-found handler (reply.callNotFound: the gateway's storefront
 * wildcard for what is no page): @fastify/otel set their http.route when the request came in, but no route answered
 * them, and their log line says `unmatched`.
 */
const answeredUnrouted = new WeakSet<object>();

/** Notes that no route answered the request of this server span (its http.route notwithstanding). */
export function noteAnsweredUnrouted(span: object): void {
  answeredUnrouted.add(span);
}

export class UnroutedPathSpanProcessor extends SpanRewrite {
  onEnding(span: Span): void {
    rewrite(span);
  }
}

/**
 * A server span's url.path as it is exported: the request target @fastify/otel recorded (request.url, with its query
 * string) cut to its path, then redacted. The one place a server span's url.path is rewritten: the instrumentation's
 * requestHook set it a second time, to the same path without the query string, on every request.
 */
function rewrite(span: Span & Pick<ReadableSpan, 'attributes' | 'kind'>): void {
  const target = span.attributes['url.path'];
  if (span.kind !== SpanKind.SERVER || typeof target !== 'string') return;
  const routed = span.attributes['http.route'] !== undefined && !answeredUnrouted.has(span);
  span.setAttribute('url.path', redactedPath(pathOf(target), routed));
}
