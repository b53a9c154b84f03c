// A request target as the server received it (origin form: /path?query).

/** The path of a request target, without its query string. */
export function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

/** At most this many segments of a path are logged (a request line may hold thousands): then `...`. */
const MAX_LOGGED_SEGMENTS = 16;

/**
 * A segment a routed request's logged path keeps: a name (letters, `.`, `_`, `-`, at most 32), a UUID (the platform's
 * ids) or a number; the rule the server spans' url.path follows (packages/telemetry/src/redaction.ts).
 */
const NAME_UUID_OR_NUMBER = /^(?:[A-Za-z.][A-Za-z._-]{0,31}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\d{1,20})$/;

/** Records the static segments of a route's URL template (`/order/:id/cancel`: `order`, `cancel`) in `known`. */
export function addStaticSegments(known: Set<string>, url: string): void {
  for (const segment of url.split('/')) if (segment && !segment.includes(':') && !segment.includes('*')) known.add(segment);
}

/**
 * The path as a log line may hold it: a client puts what it likes in a path (`/user/<token>`, `/product/<email>`, a
 * reset link pasted into the wrong URL), and a log is no place for a secret. A segment that is a static segment of
 * some route (`known`) is kept; in a routed request, so is one that is a name, a UUID or a number (its parameters);
 * every other one is REDACTED, and at most 16 segments are kept. A request no route took keeps only the known
 * segments, as its server span does (packages/telemetry/src/unrouted-path.ts).
 */
export function loggedPath(path: string, routed: boolean, known: ReadonlySet<string>): string {
  const segments = path.split('/');
  const kept = segments
    .slice(0, MAX_LOGGED_SEGMENTS + 1)
    .map((segment) => (segment === '' || known.has(segment) || (routed && NAME_UUID_OR_NUMBER.test(segment)) ? segment : 'REDACTED'));
  return segments.length > MAX_LOGGED_SEGMENTS + 1 ? `${kept.join('/')}/...` : kept.join('/');
}
