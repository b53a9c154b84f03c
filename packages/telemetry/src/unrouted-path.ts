// `url.path` of a request no route took (a 404, or one the router refused: a badly encoded path, a parameter
// too long), as recorded on its server span: the path a client typed is no route's, so nothing says which of its
// segments are names and which are values, and a client may put anything in it (a token, an email, a reset
// link pasted into the wrong URL; a path parameter of 150 characters). Such a span keeps only the segments that
// are a static segment of some route this process serves (`/user/REDACTED` for `/user/<token>`, `/REDACTED` for
// `/.env`), at most 16 of them: what was asked stays readable (which service, which resource), no value does. A
// routed request's url.path keeps its parameters only when they are names, UUIDs or numbers (redaction.ts
// redactedPath): `/product/<token>` is routed, and answered 400.
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { pathOf, redactedPath } from './redaction.js';

const MAX_SEGMENTS = 16;
const knownSegments = new Set<string>();

/** Records the static segments of a route's URL template (`/order/:id/cancel`: `order`, `cancel`). */
export function addRouteSegments(url: string): void {
  for (const segment of url.split('/')) if (segment && !segment.includes(':') && !segment.includes('*')) knownSegments.add(segment);
}

/** The path with every segment that is no route's static segment replaced by REDACTED (see the file's head). */
export function unroutedPath(path: string, known: ReadonlySet<string> = knownSegments): string {
  const segments = path.split('/');
  const kept = segments.slice(0, MAX_SEGMENTS + 1).map((segment) => (segment === '' || known.has(segment) ? segment : 'REDACTED'));
  return segments.length > MAX_SEGMENTS + 1 ? `${kept.join('/')}/...` : kept.join('/');
}

export class UnroutedPathSpanProcessor implements SpanProcessor {
  onStart(): void {}

  onEnding(span: Span): void {
    rewrite(span);
  }

  onEnd(): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
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
  const path = pathOf(target);
  // A routed request: its parameters are kept when they are names, UUIDs or numbers (redaction.ts).
  span.setAttribute('url.path', span.attributes['http.route'] === undefined ? unroutedPath(path) : redactedPath(path));
}
