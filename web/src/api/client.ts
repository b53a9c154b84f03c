// Typed clients for the three services (types generated from their OpenAPI documents: npm run api -w web).
// Same origin as the page, so no CORS; the access token is added from memory, never from storage.
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths as OrderPaths } from './order.js';
import type { paths as ProductPaths } from './product.js';
import type { paths as UserPaths } from './user.js';

let accessToken: string | null = null;

/** The access token lives in this module only (memory): a reload gets a new one from the refresh cookie. */
export function setAccessToken(token: string | null): void {
  accessToken = token;
}

const bearer: Middleware = {
  onRequest({ request }) {
    if (accessToken && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${accessToken}`);
    return request;
  },
};

const baseUrl = typeof location === 'undefined' ? 'http://127.0.0.1' : location.origin;

export const userApi = createClient<UserPaths>({ baseUrl, credentials: 'same-origin' });
export const productApi = createClient<ProductPaths>({ baseUrl });
export const orderApi = createClient<OrderPaths>({ baseUrl });
for (const c of [userApi, productApi, orderApi] as const) (c as { use(m: Middleware): void }).use(bearer);

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
  const fields = p.errors?.map((e) => `${e.path.replace(/^\//, '') || 'request'} ${e.message}`).join('; ');
  return [p.detail ?? p.title, fields].filter(Boolean).join(': ') || fallback;
}

/** Thrown by query functions so TanStack Query sees failures (openapi-fetch returns them). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(problemText(problem, `HTTP ${status}`));
  }
}

/** Unwraps an openapi-fetch result: the data, or an ApiError. */
export function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) throw new ApiError(result.response.status, result.error as Problem | undefined);
  return result.data;
}
