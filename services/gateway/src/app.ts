import { createServer as createHttpServer, type Server } from 'node:http';
import { Transform } from 'node:stream';
import proxy from '@fastify/http-proxy';
import { Pool } from 'undici';
import { BODY_LIMIT, Metrics, ProblemError, ServiceUnavailable, createServer, proxyTrust, traceparentOf, type App } from '@ecommerce/kit';
import type { GatewayConfig } from './config.js';
import { storefront } from './storefront.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The gateway's metrics listener (METRICS_PORT), started with the app. */
    metricsServer?: Server;
  }
}

/** The routes the Kubernetes ingress serves; nothing else (no /internal, no /metrics of the services). */
export function upstreamsOf(config: GatewayConfig): { prefix: string; url: string }[] {
  return [
    { prefix: '/user', url: config.USER_SERVICE_URL },
    { prefix: '/product', url: config.PRODUCT_SERVICE_URL },
    { prefix: '/order', url: config.ORDER_SERVICE_URL },
  ];
}

/** Local stand-in for the ingress: same three prefixes, no rewrite, request ids and trace context forwarded. */
export async function buildApp(config: GatewayConfig): Promise<App> {
  const upstreams = upstreamsOf(config);
  const probes = upstreams.map((u) => ({ ...u, pool: new Pool(u.url, { connections: 2 }) }));
  const metrics = new Metrics('gateway', config.SERVICE_VERSION);
  const app = await createServer({
    name: 'gateway',
    metrics,
    // The public port routes /user, /product and /order only; Prometheus reads METRICS_PORT.
    metricsRoute: false,
    prefix: '',
    version: config.SERVICE_VERSION,
    description: 'Local gateway',
    logLevel: config.LOG_LEVEL,
    docs: false,
    faultInjection: config.FAULT_INJECTION === 'enabled',
    trustProxy: proxyTrust(config.TRUST_PROXY),
    // Ready only when every upstream says it is ready.
    readiness: async () => {
      await Promise.all(
        probes.map(async (p) => {
          const res = await p.pool.request({ method: 'GET', path: '/readyz', signal: AbortSignal.timeout(1500) });
          await res.body.dump();
          if (res.statusCode !== 200) throw new Error(`${p.prefix} upstream not ready (${res.statusCode})`);
        }),
      );
    },
  });
  const metricsServer = createHttpServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  app.decorate('metricsServer', metricsServer);
  app.addHook('onListen', () => new Promise<void>((resolve, reject) => metricsServer.once('error', reject).listen(config.METRICS_PORT, config.HOST, () => resolve())));
  app.addHook('onClose', async () => {
    if (metricsServer.listening) await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
    await Promise.all(probes.map((p) => p.pool.close()));
  });

  // The proxy streams bodies through without parsing them, so Fastify's bodyLimit does not apply: a body
  // announced larger than the services accept is refused before it is read (413, connection closed), and a
  // chunked one is counted as it streams and cut at the same limit.
  app.addHook('onRequest', async (request) => {
    if (Number(request.headers['content-length'] ?? 0) > BODY_LIMIT) throw payloadTooLarge();
  });
  app.addHook('preParsing', async (_request, _reply, payload) => {
    let seen = 0;
    return payload.pipe(
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          seen += chunk.length;
          done(seen > BODY_LIMIT ? payloadTooLarge() : null, chunk);
        },
      }),
    );
  });

  for (const u of upstreams) {
    await app.register(proxy, {
      upstream: u.url,
      prefix: u.prefix,
      rewritePrefix: u.prefix,
      // undici (keep-alive pool) rather than node:http: the profile showed http.Agent as the gateway's main cost.
      undici: { connections: 128, pipelining: 1, headersTimeout: config.UPSTREAM_TIMEOUT_MS, bodyTimeout: config.UPSTREAM_TIMEOUT_MS },
      replyOptions: {
        // An upstream that is down or slow is a 503/504 problem, like the ingress would answer.
        onError: (reply, { error }) => {
          // The body counter (preParsing) cut the upload: reply-from wraps that error as its cause.
          const tooLarge = [error, (error as { cause?: unknown }).cause].find((e) => e instanceof ProblemError && e.status === 413);
          if (tooLarge) return void reply.send(tooLarge);
          const code = (error as { code?: string }).code ?? '';
          const timedOut = /TIMEOUT/i.test(code) || (error as { statusCode?: number }).statusCode === 504;
          reply.log.warn({ upstream: u.prefix, code }, 'upstream error');
          reply.send(
            timedOut
              ? new ProblemError(504, 'upstream-timeout', 'Gateway timeout', `The ${u.prefix.slice(1)} service did not answer in time`)
              : new ServiceUnavailable(`The ${u.prefix.slice(1)} service is unavailable`),
          );
        },
        rewriteRequestHeaders: (request, headers) => {
          // `Expect: 100-continue` was answered by this server already (Node sends the 100 before the
          // request is routed); undici refuses to send it upstream, which made every such request a 503.
          const { expect: _expect, ...rest } = headers;
          return {
            ...rest,
            'x-request-id': request.id,
            traceparent: traceparentOf(request.trace),
            // Set, never appended: the client address this gateway sees (request.ip is the peer unless
            // TRUST_PROXY names a proxy in front of us). A client-sent X-Forwarded-For would otherwise
            // choose the address the user service throttles.
            'x-forwarded-for': request.ip,
            'x-forwarded-proto': request.protocol,
          };
        },
      },
    });
  }
  await storefront(app, { dir: config.STOREFRONT_DIR });
  return app;
}

function payloadTooLarge(): ProblemError {
  return new ProblemError(413, 'payload-too-large', 'Payload too large', `Bodies over ${BODY_LIMIT / 1024 / 1024} MiB are refused`);
}
