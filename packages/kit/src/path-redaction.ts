// A request's path as a log line or a span may hold it: a client puts what it likes in a path (`/user/<token>`,
// `/product/<email>`, a reset link pasted into the wrong URL, a path parameter of 150 characters), and neither a log
// nor a trace is a place for a secret. The one rule for both: the kit's request log line (plugins/request-log.ts) and
// the tracing preload's spans (packages/telemetry: a server span's url.path, a client span's url.full and url.path).

/** At most this many segments of a path are kept (a request line may hold thousands): then `...`. */
const MAX_SEGMENTS = 16;

/** A parameter a routed request's path keeps: a name (letters, `.`, `_`, `-`, at most 32), a UUID (the platform's ids) or a number. */
const NAME_UUID_OR_NUMBER = /^(?:[A-Za-z.][A-Za-z._-]{0,31}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\d{1,20})$/;

/**
 * The static segments of the routes this process serves (`/order/:id/cancel`: `order`, `cancel`), whichever app or
 * Fastify instance they are on: the kit's server notes its apps' routes, the tracing preload every instance's.
 */
const routeSegments = new Set<string>();

/** Notes the static segments of a route's URL template (an onRoute hook's `route.url`). */
export function noteRouteSegments(url: string): void {
  for (const segment of url.split('/')) if (segment && !segment.includes(':') && !segment.includes('*')) routeSegments.add(segment);
}

/**
 * The path with every segment REDACTED but a static segment of some route (`known`) and, in a routed request (a
 * route answered it), a name, a UUID or a number (its parameters); at most 16 segments. A request no route answered
 * (a 404, a router refusal) keeps only the known segments: the path a client typed is no route's, so nothing says
 * which of its segments are names and which are values (`/user/REDACTED` for `/user/<token>`, `/REDACTED` for
 * `/.env`). Every token and email this platform makes has a digit or an `@`: no name.
 */
export function redactedPath(path: string, routed: boolean, known: ReadonlySet<string> = routeSegments): string {
  const segments = path.split('/');
  const kept = segments
    .slice(0, MAX_SEGMENTS + 1)
    .map((segment) => (segment === '' || known.has(segment) || (routed && NAME_UUID_OR_NUMBER.test(segment)) ? segment : 'REDACTED'));
  return segments.length > MAX_SEGMENTS + 1 ? `${kept.join('/')}/...` : kept.join('/');
}
