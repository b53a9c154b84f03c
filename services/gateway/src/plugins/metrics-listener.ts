// The gateway's own /metrics on METRICS_PORT, off the public port (like the ingress controller's metrics
// port): the public port routes the three API prefixes (and the storefront) only.
import { createServer as createHttpServer, type Server } from 'node:http';
import fp from 'fastify-plugin';
import { KIT_PLUGINS, SERVER_LIMITS, closeSilentConnections, metricsExposition } from '@ecommerce/kit';

declare module 'fastify' {
  interface FastifyInstance {
    /** The gateway's metrics listener (METRICS_PORT), started with the app. */
    metricsServer?: Server;
  }
}

export const metricsListener = fp<{ host: string; port: number }>(
  async (app, { host, port }) => {
    const { registry } = app.metrics;
    const metricsServer = createHttpServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      metricsExposition(registry, req.headers.accept).then(
        ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType, vary: 'accept' }).end(body),
        () => res.writeHead(500).end(),
      );
    });
    // The same socket limits as the public port: a scraper sends its request at once.
    metricsServer.headersTimeout = SERVER_LIMITS.headersTimeoutMs;
    metricsServer.requestTimeout = SERVER_LIMITS.requestTimeoutMs;
    closeSilentConnections(metricsServer, SERVER_LIMITS.headersTimeoutMs);
    app.decorate('metricsServer', metricsServer);
    // Bound before the public port (onReady runs inside listen, before its bind), and its failure fails the start naming
    // METRICS_PORT. On onListen, whose errors Fastify logs and ignores, a taken port left the gateway serving without
    // its metrics while Prometheus scraped whatever held the port (another service's series labelled gateway).
    app.addHook('onReady', () =>
      new Promise<void>((resolve, reject) =>
        metricsServer
          .once('error', (err: NodeJS.ErrnoException) => {
            // A port taken or not allowed is METRICS_PORT's; any other failure (a HOST that resolves nowhere) is HOST's.
            const variable = err.code === 'EADDRINUSE' || err.code === 'EACCES' ? 'METRICS_PORT' : 'HOST';
            reject(Object.assign(new Error(`${variable} (the metrics listener on ${JSON.stringify(host)} port ${port}): ${err.message}`), { code: err.code, variable }));
          })
          .listen(port, host, () => resolve()),
      ),
    );
    app.addHook('onClose', async () => {
      if (metricsServer.listening) await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
    });
  },
  { name: 'gateway-metrics-listener', fastify: '5.x', dependencies: [KIT_PLUGINS.httpMetrics] },
);
