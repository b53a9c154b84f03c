import { Metrics, createServer, proxyTrust, type App } from '@ecommerce/kit';
import type { GatewayConfig } from './config.js';
import { bufferedBodies } from './plugins/buffered-bodies.js';
import { metricsListener } from './plugins/metrics-listener.js';
import { streamedBodyLimit } from './plugins/streamed-body-limit.js';
import { upstreamProxy } from './plugins/upstream-proxy.js';
import { storefront } from './storefront.js';
import { UpstreamReadiness, upstreamsOf } from './upstreams.js';

/** Local stand-in for the ingress: same three prefixes, no rewrite, request ids and trace context forwarded. */
export async function buildApp(config: GatewayConfig): Promise<App> {
  const upstreams = upstreamsOf(config);
  const readiness = new UpstreamReadiness(upstreams);
  const app = await createServer({
    name: 'gateway',
    prefix: '',
    version: config.SERVICE_VERSION,
    description: 'Local gateway',
    logLevel: config.LOG_LEVEL,
    metrics: new Metrics('gateway', config.SERVICE_VERSION),
    // Prometheus reads the metrics listener's port, not the public one.
    metricsRoute: false,
    docs: false,
    faultInjection: config.FAULT_INJECTION === 'enabled',
    trustProxy: proxyTrust(config.TRUST_PROXY),
    // The proxy streams bodies to the services, which check them.
    bodiesStreamed: true,
    // The services evaluate If-Match and If-None-Match against their own ETags.
    preconditionsForwarded: true,
    // Ready only when every upstream says it is ready.
    readiness: () => readiness.check(),
  });
  app.addHook('onClose', () => readiness.close());
  await app.register(metricsListener, { host: config.HOST, port: config.METRICS_PORT });
  await app.register(streamedBodyLimit);
  await app.register(bufferedBodies, { maxBytes: config.BUFFERED_BODIES_MAX_BYTES });
  await app.register(upstreamProxy, { upstreams, timeoutMs: config.UPSTREAM_TIMEOUT_MS });
  await storefront(app, { dir: config.STOREFRONT_DIR });
  return app;
}
