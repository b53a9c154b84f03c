// What the instrumentations would record verbatim and we record scrubbed: query-string values (a token or
// an email can ride in one), URL user info, and a traceparent a caller set by hand (the span's own wins).

const TRACE_HEADERS = new Set(['traceparent', 'tracestate']);

/** The URL without user info, each query value replaced by REDACTED (the keys stay: they say what was asked). */
export function redactedUrl(url: URL): { full: string; query: string } {
  const copy = new URL(url);
  copy.username = '';
  copy.password = '';
  const keys = [...copy.searchParams.keys()];
  copy.search = '';
  for (const key of keys) copy.searchParams.append(key, 'REDACTED');
  return { full: copy.toString(), query: copy.search };
}

/** The path of a request target, without its query string. */
export function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

/**
 * Removes traceparent/tracestate from an outgoing undici request's header list ([name, value, ...]) in place,
 * so the instrumentation's own (the client span as parent) is the only one sent: a copied or hand-made one
 * beside it would make the receiver see two values and start a new trace.
 */
export function dropTraceHeaders(headers: unknown): void {
  if (!Array.isArray(headers)) return;
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    const name: unknown = headers[i];
    if (typeof name === 'string' && TRACE_HEADERS.has(name.toLowerCase())) headers.splice(i, 2);
  }
}

/** db.operation.name: the statement's first keyword (SELECT, INSERT, UPDATE, WITH, BEGIN...). */
export function sqlOperationName(text: string): string {
  const match = /^\s*([A-Za-z]+)/.exec(text);
  return match?.[1] ? match[1].toUpperCase() : 'UNKNOWN';
}
