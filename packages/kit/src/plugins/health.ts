// Liveness, readiness and draining: /livez answers while the process runs; /readyz only while the service
// can serve (its readiness check passes and it is not shutting down); an overloaded event loop answers 503
// (under-pressure); while draining, new requests get 503 + Retry-After and every answer closes its connection.
import fp from 'fastify-plugin';
import underPressure from '@fastify/under-pressure';
import { ProblemError } from '../errors.js';
import { OPERATIONAL_PATHS } from '../operational-paths.js';
import { KIT_PLUGINS } from './names.js';

export interface HealthOptions {
  /** Throws when the service cannot serve (e.g. its database does not answer). */
  readiness: () => Promise<void>;
}

const READINESS_TIMEOUT_MS = 2000;

/**
 * The readiness check shared by the /readyz requests that arrive while it runs: one check answers them all. Each
 * request ran its own before, so a burst of anonymous /readyz was as many checks at once (the gateway's, three
 * upstream probes each over two connections per upstream, queued past their 1.5 s: 150 at once were 125 "not
 * ready" with every upstream up), and the answer said how many asked, not whether the dependencies answer. A check
 * is shared for at most READINESS_TIMEOUT_MS: one that hangs longer is not waited on by every later request.
 */
function sharedCheck(check: () => Promise<void>, maxShareMs = READINESS_TIMEOUT_MS): () => Promise<void> {
  let running: { promise: Promise<void>; startedAt: number } | undefined;
  return () => {
    const now = performance.now();
    if (running === undefined || now - running.startedAt >= maxShareMs) {
      const promise: Promise<void> = Promise.resolve()
        .then(check)
        .finally(() => {
          if (running?.promise === promise) running = undefined;
        });
      running = { promise, startedAt: now };
    }
    return running.promise;
  };
}

export const health = fp<HealthOptions>(
  async (app, opts) => {
    const readiness = sharedCheck(opts.readiness);
    await app.register(underPressure, { maxEventLoopDelay: 2000, exposeStatusRoute: false, retryAfter: 5 });

    let draining = false;
    app.addHook('preClose', async () => {
      draining = true;
    });
    // Plain (not async) hooks: they run on every request, and a promise each is avoidable cost.
    app.addHook('onRequest', (request, _reply, done) => {
      if (draining && !OPERATIONAL_PATHS.has(request.url)) {
        done(new ProblemError(503, 'service-unavailable', 'Service unavailable', 'The service is shutting down; retry', {}, { 'retry-after': '1' }));
      } else done();
    });
    // While draining, responses close their connection: a keep-alive socket would otherwise hold the
    // server open until its idle timeout, long after the last in-flight request finished.
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (draining) reply.header('connection', 'close');
      done(null, payload);
    });

    app.get('/livez', { schema: { hide: true } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { schema: { hide: true } }, async () => {
      if (draining) throw new ProblemError(503, 'not-ready', 'Not ready', 'Shutting down');
      try {
        await withTimeout(readiness(), READINESS_TIMEOUT_MS);
      } catch (err) {
        app.log.warn({ err }, 'readiness check failed');
        throw new ProblemError(503, 'not-ready', 'Not ready', 'A dependency is not ready');
      }
      return { status: 'ready' };
    });
  },
  { name: KIT_PLUGINS.health, fastify: '5.x', dependencies: [KIT_PLUGINS.problemErrors] },
);

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
