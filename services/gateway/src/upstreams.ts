import { Pool } from 'undici';
import type { GatewayConfig } from './config.js';

export interface Upstream {
  /** Public path prefix, forwarded as is (no rewrite). */
  prefix: string;
  url: string;
}

/** The routes the Kubernetes ingress serves; nothing else (no /internal, no /metrics of the services). */
export function upstreamsOf(config: GatewayConfig): Upstream[] {
  return [
    { prefix: '/user', url: config.USER_SERVICE_URL },
    { prefix: '/product', url: config.PRODUCT_SERVICE_URL },
    { prefix: '/order', url: config.ORDER_SERVICE_URL },
  ];
}

/** The gateway's readiness: every upstream answers its own /readyz with 200 (small pools of their own). */
export class UpstreamReadiness {
  private readonly probes: (Upstream & { pool: Pool })[];

  constructor(upstreams: Upstream[]) {
    this.probes = upstreams.map((u) => ({ ...u, pool: new Pool(u.url, { connections: 2 }) }));
  }

  async check(): Promise<void> {
    await Promise.all(
      this.probes.map(async (p) => {
        const res = await p.pool.request({ method: 'GET', path: '/readyz', signal: AbortSignal.timeout(1500) });
        await res.body.dump();
        if (res.statusCode !== 200) throw new Error(`${p.prefix} upstream not ready (${res.statusCode})`);
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.probes.map((p) => p.pool.close()));
  }
}
