// What the instrumentations would record verbatim and we record scrubbed: query-string values (a token or
// an email can ride in one), URL user info, and a traceparent a caller set by hand (the span's own wins).
import { redactedPath } from '@ecommerce/kit/path-redaction';

/** The headers the propagators (W3C Trace Context and Baggage, the SDK's default) write on every outgoing call. */
const TRACE_HEADERS = new Set(['traceparent', 'tracestate', 'baggage']);

/**
 * A query key kept as it is: the shape of a parameter's name (letters, `_` and `-`, at most 32). Any other key is
 * REDACTED like a value: a client sends `?<token>` or `?<email>` (no `=`), and the gateway's proxy call carried it
 * verbatim in url.full. A key with a digit, `@`, `.`, `%`... is never a name this platform uses.
 */
const NAME_LIKE_KEY = /^[A-Za-z][A-Za-z_-]{0,31}$/;
/**
 * At most this many query parameters are kept (then `&...`), as a path keeps 16 segments: each parameter became
 * `<key>=REDACTED` in both url.full and url.query, so a 12 KB query of 6,000 one-letter keys (`?a&a&a...`) made a
 * 132 KB client span on the gateway, eleven times the request, for any client to send to the trace store.
 */
const MAX_QUERY_KEYS = 16;

/**
 * An outgoing call's path as its client span holds it: the kit's rule for a routed request's path (path-redaction.ts;
 * the request log's too), for its segments are another service's route parameters. The gateway's proxy calls carry the
 * client's whole path (`/user/<token>` of a 404) in their url.full.
 */
function redactedCallPath(path: string): string {
  return redactedPath(path, true);
}

/** Whether redactedUrl would change anything (the instrumentation's own url.full is then kept: no parse per call). */
export function needsRedaction(path: string, origin: string): boolean {
  return path.includes('?') || origin.includes('@') || redactedCallPath(path) !== path;
}

/**
 * The URL without user info, its path redacted (redactedCallPath), each query value replaced by REDACTED (the keys
 * that are names stay: they say what was asked); at most 16 query parameters, then `&...`.
 */
export function redactedUrl(url: URL): { full: string; query: string } {
  const copy = new URL(url);
  copy.username = '';
  copy.password = '';
  copy.pathname = redactedCallPath(copy.pathname);
  const keys = [...copy.searchParams.keys()];
  const kept = new URLSearchParams();
  for (const key of keys.slice(0, MAX_QUERY_KEYS)) kept.append(NAME_LIKE_KEY.test(key) ? key : 'REDACTED', 'REDACTED');
  copy.search = keys.length > MAX_QUERY_KEYS ? `${kept.toString()}&...` : kept.toString();
  return { full: copy.toString(), query: copy.search };
}

/**
 * Removes traceparent, tracestate and baggage from an outgoing undici request's header list ([name, value, ...]) in
 * place, so the instrumentation's own (the client span as parent, the request's baggage within W3C Baggage's limits)
 * are the only ones sent: a copied or hand-made one beside it would make the receiver see two values and start a new
 * trace, and the gateway's proxy, which copies a client's headers, sent the client's baggage twice, unbounded.
 */
export function dropTraceHeaders(headers: unknown): void {
  if (!Array.isArray(headers)) return;
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    const name: unknown = headers[i];
    if (typeof name === 'string' && TRACE_HEADERS.has(name.toLowerCase())) headers.splice(i, 2);
  }
}

/**
 * A User-Agent product token kept as it is: a name (letters, `.`, `_`, `-`, at most 32) with a version of digits and
 * dots, or none (`curl/8.5.0`, `Chrome/120.0.0.0`, `undici`).
 */
const KEPT_PRODUCT = /^[A-Za-z][A-Za-z._-]{0,31}(?:\/\d[\d.]{0,15})?$/;
/** At most this many product tokens are kept: then `...`. */
const MAX_PRODUCTS = 8;

/**
 * user_agent.original as a client span records it: the instrumentation copies the User-Agent of an outgoing call, and
 * the gateway's proxy calls carry the client's, which a client fills as it likes (a crawler's contact email in a
 * comment, a key or a token, 16 KB). Comments (`(...)`) are dropped, each product token that is not a name with a
 * version is REDACTED, at most 8 are kept: what the client is stays readable, nothing it put there does.
 */
export function redactedUserAgent(userAgent: string): string {
  const tokens = userAgent.replace(/\([^)]*\)?/g, ' ').split(/\s+/).filter((token) => token !== '');
  // Only a comment: that something was sent is kept.
  if (tokens.length === 0) return userAgent.trim() === '' ? '' : 'REDACTED';
  const kept = tokens.slice(0, MAX_PRODUCTS).map((token) => (KEPT_PRODUCT.test(token) ? token : 'REDACTED'));
  return (tokens.length > MAX_PRODUCTS ? [...kept, '...'] : kept).join(' ');
}

/**
 * The User-Agent of an outgoing undici request (the last, as the instrumentation takes it), from its header list
 * ([name, value, ...]) or its header block (`name: value\r\n...`); undefined when it has none.
 */
export function userAgentOf(headers: unknown): string | undefined {
  let found: string | undefined;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name: unknown = headers[i];
      const value: unknown = headers[i + 1];
      if (typeof name === 'string' && name.toLowerCase() === 'user-agent') found = Array.isArray(value) ? String(value.at(-1)) : String(value);
    }
  } else if (typeof headers === 'string') {
    for (const line of headers.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === 'user-agent') found = line.slice(colon + 1).trim();
    }
  }
  return found;
}

/** db.operation.name: the statement's first keyword (SELECT, INSERT, UPDATE, WITH, BEGIN...). */
export function sqlOperationName(text: string): string {
  const match = /^\s*([A-Za-z]+)/.exec(text);
  return match?.[1] ? match[1].toUpperCase() : 'UNKNOWN';
}
