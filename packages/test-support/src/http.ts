// HTTP as the tests speak it: JSON in, JSON (or text) out, on loopback only.
import { connect } from 'node:net';
import { freePort as kitFreePort } from '@ecommerce/kit';

export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Small fetch wrapper for HTTP-level tests: JSON in, JSON (or text) out. */
export async function http<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string | Buffer; token?: string; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Buffer | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** A loopback port free at the time of asking (for a server a test stops and starts again at one address). */
export const freePort = (): Promise<number> => kitFreePort('127.0.0.1');

/** Writes `text` on a new loopback connection to the server at `base` and answers all it reads until the server closes it (latin1). */
export function rawExchange(base: string, text: string): Promise<string> {
  return new Promise<string>((resolve) => {
    let data = '';
    const s = connect(Number(new URL(base).port), '127.0.0.1', () => s.write(text));
    s.setEncoding('latin1');
    s.on('data', (d: string) => (data += d));
    s.on('error', () => undefined);
    s.on('close', () => resolve(data));
  });
}

/**
 * A JSON `POST path` whose Idempotency-Key line holds `key` as written, control characters too (fetch refuses to send
 * them), on a connection of its own; answers the raw response (latin1). `token`: sent as a Bearer token.
 */
export function rawKeyedPost(base: string, path: string, key: string, body: unknown, token?: string): Promise<string> {
  const json = JSON.stringify(body);
  const auth = token === undefined ? '' : `Authorization: Bearer ${token}\r\n`;
  return rawExchange(base, `POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nIdempotency-Key: ${key}\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
}

/** Keys no header line may hold (RFC 9110 5.5: no control character), each refused with a 400 problem before any route runs. */
export const CONTROL_CHARACTER_KEYS = ['k\u0001k', 'k\u007fk', 'k\u001bk'];

/**
 * A raw HTTP/1.1 exchange on one loopback socket: the request is written in parts (`write` resolves once a part is
 * sent), and `ended` is the whole answer as read until the server closes the connection. For what fetch cannot do:
 * a request begun before a server starts draining and finished after, a body that arrives late.
 */
export function rawExchangeInParts(port: number): { write(part: string): Promise<void>; ended: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (text += d));
  const ended = new Promise<string>((resolve) => socket.on('close', () => resolve(text)));
  return { write: (part: string) => new Promise<void>((resolve) => socket.write(part, () => resolve())), ended };
}
