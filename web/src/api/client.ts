// Typed clients for the three services (types generated from their OpenAPI documents: npm run api -w web).
// Same origin as the page, so no CORS; the access token is added from memory, never from storage.
import { queryOptions } from '@tanstack/react-query';
import type { Client } from 'openapi-fetch';
import { countOf } from '../count.js';
import type { paths as OrderPaths } from './order.js';
import type { paths as ProductPaths } from './product.js';
import type { paths as UserPaths } from './user.js';

let accessToken: string | null = null;

/** The access token lives in this module only (memory): a reload gets a new one from the refresh cookie. */
export function setAccessToken(token: string | null): void {
  accessToken = token;
}

/** Whether this tab holds an access token (a refused refresh drops it). */
export function hasAccessToken(): boolean {
  return accessToken !== null;
}

/** Says 'ended' when a refused refresh ended the session, 'restored' when a session the page could not renew on load was renewed (session.ts). */
export const sessionEvents = new EventTarget();

/** What asking for a new access token came to: a new one, the session is over, or no answer (tried again later). */
export type Renewal = 'renewed' | 'ended' | 'unavailable';
let renew: () => Promise<Renewal> = () => Promise.resolve('ended');

/** How to renew the access token (session.ts owns the refresh cookie's flow). */
export function renewTokenWith(fn: () => Promise<Renewal>): void {
  renew = fn;
}

// The session's own calls are never sent again with a renewed token.
const SESSION_PATHS = new Set(['/user/token/refresh', '/user/logout', '/user/login']);

/** Sends a call with our token; a 401 to it renews the token and sends the call once more. */
async function send(request: Request): Promise<Response> {
  let copy: Request | undefined;
  if (accessToken && !request.headers.has('authorization') && !SESSION_PATHS.has(new URL(request.url).pathname)) {
    request.headers.set('authorization', `Bearer ${accessToken}`);
    // The call as it was before sending (a body is read once).
    copy = request.clone();
  }
  const response = await timedFetch(request);
  if (response.status !== 401 || !copy) return response;
  // Refused with our token (expired, or rejected): a new one (unless another call got it meanwhile), then the
  // same request once more, headers and all: POST /order keeps its Idempotency-Key, so it never makes two orders.
  // Only a refused refresh ends the session; the 401 then reaches the page.
  if (copy.headers.get('authorization') === `Bearer ${accessToken}` && (await renew()) !== 'renewed') return response;
  if (!accessToken) return response;
  copy.headers.set('authorization', `Bearer ${accessToken}`);
  return timedFetch(copy);
}

const baseUrl = typeof location === 'undefined' ? 'http://127.0.0.1' : location.origin;

/**
 * A read that has not answered in this long fails, so a page shows its error and a "Try again" instead of a
 * spinner (the gateway's own upstream deadline is 10 s).
 */
export const READ_TIMEOUT_MS = 8000;
/**
 * A write gets longer, twice the gateway's deadline, then fails too: one that was never answered (a network that
 * swallowed the reply, a stuck proxy) kept "Placing order…", "Signing in…" or a disabled Adjust stock for good,
 * and a session refresh held the cross-tab refresh lock for good. Each caller says that it may have been done
 * (an order, a stock change) or simply that no answer came.
 */
export const WRITE_TIMEOUT_MS = 20_000;

function timedFetch(request: Request): Promise<Response> {
  const timeout = AbortSignal.timeout(request.method === 'GET' ? READ_TIMEOUT_MS : WRITE_TIMEOUT_MS);
  const signal = typeof AbortSignal.any === 'function' ? AbortSignal.any([request.signal, timeout]) : timeout;
  return fetch(new Request(request, { signal }));
}

/** Whether a failure is a read that ran out of time (not worth retrying at once: the shop is slow, not flaky). */
export function isTimeout(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'TimeoutError';
}

/** A 502, 503 or 504: a proxy's or the service's "not now", after which the same keyed write may be sent again. */
export const notNow = (status: number): boolean => status === 502 || status === 503 || status === 504;

/**
 * Every read's retry rule (the query client's default; pages must not set their own): one retry for a dropped
 * connection or a 502/503; none for a timeout or a 504 (a slow shop: the page says so after one wait of
 * READ_TIMEOUT_MS, not two) nor for a 4xx (asking again gets the same answer).
 */
export function retryRead(failures: number, error: unknown): boolean {
  return failures < 1 && !isTimeout(error) && !(error instanceof ApiError && (error.status < 500 || error.status === 504));
}

interface CallInit {
  params?: { path?: Record<string, unknown>; query?: Record<string, unknown>; header?: Record<string, string> };
  body?: unknown;
  signal?: AbortSignal;
}

/**
 * openapi-fetch's typed calls (its types check each path, parameter, body and answer against the generated ones),
 * sent by the little of its runtime this app uses (3 KB of the first visit's gzip): path parameters and a
 * query's scalars and arrays encoded as it does, a JSON body, and its answer: `data` for a 2xx, `error` (the problem) for
 * the rest, `response` always. Same origin, so the refresh cookie goes with the user service's calls (a
 * Request's default credentials).
 */
function createClient<Paths extends object>(): Pick<Client<Paths>, 'GET' | 'POST' | 'PATCH' | 'DELETE'> {
  const call =
    (method: string) =>
    async (path: string, { params = {}, body, signal }: CallInit = {}) => {
      let url = baseUrl + path.replace(/\{(\w+)\}/g, (name, key: string) => (params.path?.[key] == null ? name : encodeURIComponent(String(params.path[key]))));
      // An array is its key repeated (openapi-fetch's default, form and explode: ?id=a&id=b), as the services read one;
      // String() of it sent ?id=a%2Cb, one id that is none.
      const query = Object.entries(params.query ?? {})
        .filter(([, value]) => value != null)
        .flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${key}=${encodeURIComponent(String(v))}`))
        .join('&');
      if (query) url += `?${query}`;
      const headers = new Headers(params.header);
      if (body !== undefined) headers.set('content-type', 'application/json');
      const response = await send(new Request(url, { method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body) }));
      if (response.status === 204 || response.headers.get('content-length') === '0') return response.ok ? { data: undefined, response } : { error: undefined, response };
      const text = await response.text();
      if (response.ok) return { data: text ? (JSON.parse(text) as unknown) : undefined, response };
      try {
        return { error: JSON.parse(text) as unknown, response };
      } catch {
        return { error: text, response };
      }
    };
  return { GET: call('GET'), POST: call('POST'), PATCH: call('PATCH'), DELETE: call('DELETE') } as never;
}

export const userApi = createClient<UserPaths>();
export const productApi = createClient<ProductPaths>();

/**
 * One product read by id (GET /product/{id}) under the key ['product', id], shared by the product page, the admin's
 * editor, an order's line names and a failed order's Put back, so that each finds what another read; each reader sets
 * its own freshness and retries.
 */
export const productQuery = (id: string) =>
  queryOptions({
    queryKey: ['product', id],
    queryFn: async () => ok(await productApi.GET('/product/{id}', { params: { path: { id } } })),
  });
export const orderApi = createClient<OrderPaths>();

type ProductList = ProductPaths['/product']['get']['responses'][200]['content']['application/json'];
export type Product = ProductList['items'][number];
type OrderList = OrderPaths['/order']['get']['responses'][200]['content']['application/json'];
export type Order = OrderList['items'][number];
type UserList = UserPaths['/user/users']['get']['responses'][200]['content']['application/json'];
export type User = UserList['items'][number];

/** An RFC 9457 problem body, as far as the UI needs it. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: { path: string; message: string }[];
}

/** Something a person can read from a failed call. */
export function problemText(error: unknown, fallback = 'Something went wrong; please try again.'): string {
  const p = error as Problem | undefined;
  if (!p || typeof p !== 'object') return fallback;
  const errors = p.errors ?? [];
  if (errors.length === 0) return counted(p.detail ?? p.title ?? fallback);
  // A detail that already says each field's message in words ("The password is one of the most common
  // passwords...") is said once; else the fields are, in words, not the service's summary ("1 field(s) failed").
  if (p.detail && errors.every((e) => p.detail!.includes(e.message))) return counted(p.detail);
  const text = counted(errors.map((e) => `${fieldLabel(e.path)} ${e.message}`).join('; '));
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${text.endsWith('.') ? '' : '.'}`;
}

/**
 * The services write a count for any number ("1 field(s) failed validation", "must have at least 1 item(s)",
 * "Only 1 unit(s) are in stock"): said here for the number it has, its "are" too ("Only 1 unit is in stock").
 */
function counted(text: string): string {
  return text.replace(/\b(\d+) ([A-Za-z]+)\(s\)( are\b)?/g, (_, n: string, noun: string, are?: string) => {
    const count = Number(n);
    return countOf(count, noun) + (are ? (count === 1 ? ' is' : ' are') : '');
  });
}

/** "/name" -> "name", "querystring/userId" -> "user ID", "/items/0/quantity" -> "quantity": the field's own name, in words. */
function fieldLabel(path: string): string {
  const last = path.split('/').filter((part) => part !== '' && !/^\d+$/.test(part)).at(-1) ?? 'request';
  return last.replace(/Id$/, ' ID').replace(/([a-z])([A-Z])/g, (_, a: string, b: string) => `${a} ${b.toLowerCase()}`);
}

/** Thrown by query functions so TanStack Query sees failures (the clients return them). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
    /** The answer's X-Request-Id, to quote (failure.ts): the gateway's 503 and 504 name it nowhere else. */
    readonly requestId?: string | null,
  ) {
    super(problemText(problem, `HTTP ${status}`));
  }
}

/**
 * A read of one resource by the id in the page's address that names nothing: 404, or 400 for an address the platform
 * refuses before any service looks (a `..` segment, a broken % escape). Asking again gets the same answer, so a page
 * says "not found" with a way back, not "try again".
 */
export function namesNothing(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || err.status === 400);
}

/** Unwraps a client's result: the data, or an ApiError. */
export function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) throw new ApiError(result.response.status, result.error as Problem | undefined, result.response.headers.get('x-request-id'));
  return result.data;
}
