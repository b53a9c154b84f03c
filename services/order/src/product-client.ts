import { ClientCredentialsToken, DependencyError, ServiceClient, type CallContext, type Metrics } from '@ecommerce/kit';
import type { OrderConfig } from './config.js';

export interface ReservedLine {
  productId: string;
  quantity: number;
  unitPriceCents: number;
  currency: string;
}
export interface ShortLine {
  productId: string;
  requested: number;
  available: number;
}

export type ReserveOutcome =
  | { kind: 'reserved'; items: ReservedLine[] }
  | { kind: 'insufficient'; items: ShortLine[] }
  | { kind: 'not_found'; detail: string }
  /** The product service refused the request as it stands (422, e.g. items in different currencies). */
  | { kind: 'refused'; slug: string; detail: string }
  | { kind: 'unavailable'; reason: string };

export type ReservationState = { kind: 'reserved'; items: ReservedLine[] } | { kind: 'released' } | { kind: 'absent' } | { kind: 'unavailable'; reason: string };

interface ReservationBody {
  orderId: string;
  status: 'reserved' | 'released';
  items: ReservedLine[];
}

/** The product service's internal reservation API, called with the order service's own service token. */
export class ProductClient {
  private readonly http: ServiceClient;

  constructor(config: OrderConfig, metrics: Metrics) {
    const token = new ClientCredentialsToken({
      tokenUrl: new URL('/user/oauth/token', config.USER_SERVICE_URL).toString(),
      clientId: config.SERVICE_CLIENT_ID,
      clientSecret: config.SERVICE_CLIENT_SECRET,
    });
    this.http = new ServiceClient({
      peer: 'product',
      baseUrl: config.PRODUCT_SERVICE_URL,
      metrics,
      token,
      timeoutMs: config.RESERVATION_TIMEOUT_MS,
      connections: config.PRODUCT_CONNECTIONS,
    });
  }

  /** Idempotent by orderId, so connection failures are retried (twice, with backoff). */
  async reserve(orderId: string, items: { productId: string; quantity: number }[], notAfter: Date, context?: CallContext): Promise<ReserveOutcome> {
    try {
      const res = await this.http.request<ReservationBody & { items: ShortLine[] & ReservedLine[]; detail?: string }>({
        method: 'POST',
        path: '/internal/reservations',
        route: '/internal/reservations',
        body: { orderId, items, notAfter: notAfter.toISOString() },
        context,
        retries: 2,
      });
      if (res.status === 201 || res.status === 200) return { kind: 'reserved', items: res.body.items };
      if (res.status === 409 && Array.isArray(res.body?.items)) return { kind: 'insufficient', items: res.body.items };
      if (res.status === 404) return { kind: 'not_found', detail: res.body?.detail ?? 'Unknown product' };
      if (res.status === 422) {
        const problem = res.body as unknown as { type?: string; detail?: string };
        return { kind: 'refused', slug: String(problem?.type ?? '').split('/').pop() || 'unprocessable', detail: problem?.detail ?? 'The order cannot be reserved' };
      }
      return { kind: 'unavailable', reason: `product answered ${res.status}` };
    } catch (err) {
      return { kind: 'unavailable', reason: describe(err) };
    }
  }

  async get(orderId: string, context?: CallContext): Promise<ReservationState> {
    try {
      const res = await this.http.request<ReservationBody>({
        method: 'GET',
        path: `/internal/reservations/${encodeURIComponent(orderId)}`,
        route: '/internal/reservations/:orderId',
        context,
        retries: 2,
      });
      if (res.status === 200) return res.body.status === 'reserved' ? { kind: 'reserved', items: res.body.items } : { kind: 'released' };
      if (res.status === 404) return { kind: 'absent' };
      return { kind: 'unavailable', reason: `product answered ${res.status}` };
    } catch (err) {
      return { kind: 'unavailable', reason: describe(err) };
    }
  }

  /** Returns the stock of a reservation; idempotent on the product side. */
  async release(orderId: string, context?: CallContext): Promise<'released' | 'absent' | 'unavailable'> {
    try {
      const res = await this.http.request({
        method: 'DELETE',
        path: `/internal/reservations/${encodeURIComponent(orderId)}`,
        route: '/internal/reservations/:orderId',
        context,
        retries: 2,
      });
      if (res.status === 200) return 'released';
      if (res.status === 404) return 'absent';
      return 'unavailable';
    } catch {
      return 'unavailable';
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

function describe(err: unknown): string {
  if (err instanceof DependencyError) return err.kind;
  return (err as Error)?.message ?? 'error';
}
