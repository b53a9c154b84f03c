import { writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import closeWithGrace from 'close-with-grace';
import { capDrainIdle, type App } from './server.js';
import { ConfigError } from './config.js';
import { loggedError, loggedMessage } from './error-log.js';

interface RunOptions {
  host: string;
  port: number;
  shutdownTimeoutMs: number;
}

/**
 * One pino-compatible JSON line on stdout, written synchronously (the process may exit right after),
 * for events before the app's logger exists or after it can no longer be trusted: a start-up failure,
 * an invalid configuration, a crash. A stack trace is a field of that line, never raw text.
 */
function logLine(level: 'info' | 'warn' | 'error' | 'fatal', service: string, msg: string, fields: Record<string, unknown> = {}): void {
  const levels = { info: 30, warn: 40, error: 50, fatal: 60 };
  const line = { level: levels[level], time: Date.now(), pid: process.pid, hostname: hostname(), service, ...fields, msg };
  try {
    writeSync(1, `${JSON.stringify(line)}\n`);
  } catch {
    // stdout closed: nothing left to tell
  }
}

/** As the app's logger writes an error (error-log.ts): its type, code, names and words, never a value it quoted. */
function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err, message: loggedMessage(err) };
  return { ...loggedError(err) };
}

/**
 * Listens, then on SIGTERM/SIGINT stops accepting, drains in-flight requests
 * (Fastify answers new ones 503 while closing) and runs onClose hooks (pools).
 * A failure to start (or a crash before the app's logger exists) is logged as one JSON line and exits 1.
 */
async function runService(build: () => Promise<App>, opts: () => RunOptions, name = 'service'): Promise<App> {
  // Until closeWithGrace takes over, an uncaught error during start-up is a JSON line too.
  const early = (err: unknown) => {
    logLine('fatal', name, 'uncaught error during start-up', { err: serializeError(err) });
    process.exit(1);
  };
  process.on('uncaughtException', early);
  process.on('unhandledRejection', early);
  // Under a supervisor (scripts/stack.js spawns with an IPC channel), the channel closes when the supervisor is gone.
  // A supervisor killed outright (SIGKILL, the OOM killer) left every service running, an orphan holding its port and
  // its database connections: the next `npm start` was refused ("127.0.0.1:8080 (GATEWAY_PORT) ... is already in use")
  // until they were found and killed by hand. Its end is a SIGTERM here: drained like any stop (before the listener
  // below exists, the default action ends the process), and nothing more when a stop is already under way.
  let stopping = false;
  if (process.send) process.once('disconnect', () => void (stopping || process.kill(process.pid, 'SIGTERM')));
  let app: App;
  let run: RunOptions;
  try {
    run = opts();
    app = await build();
  } catch (err) {
    if (err instanceof ConfigError) {
      logLine('fatal', name, 'invalid configuration', { problems: err.problems });
      process.exit(78); // EX_CONFIG
    }
    logLine('fatal', name, 'start-up failed', { err: serializeError(err) });
    process.exit(1);
  } finally {
    process.removeListener('uncaughtException', early);
    process.removeListener('unhandledRejection', early);
  }
  // Idle connections kept open for a request on its way (server.ts) leave the other half for the requests in flight.
  capDrainIdle(app.server, run.shutdownTimeoutMs / 2);
  closeWithGrace(
    {
      delay: run.shutdownTimeoutMs,
      // Its own messages (a second signal or error while draining) go through the app's JSON logger.
      logger: { error: (m: unknown) => app.log.error(m instanceof Error ? { err: m } : {}, m instanceof Error ? 'second error while shutting down' : String(m)) },
    },
    async ({ signal, err }) => {
      stopping = true;
      if (err) app.log.fatal({ err }, 'fatal error, shutting down');
      else app.log.info({ signal }, 'shutting down, draining requests');
      await app.close();
    },
  );
  try {
    await app.listen({ host: run.host, port: run.port });
  } catch (err) {
    // One line naming the settings to change, no stack: HOST=é or a taken port is the operator's to fix, not a crash.
    // An error that names its own setting (the gateway's METRICS_PORT) is said as it is.
    const { code, message, variable } = err as NodeJS.ErrnoException & { variable?: string };
    if (variable) app.log.fatal({ code, variable }, `cannot listen: ${message}`);
    else app.log.fatal({ host: run.host, port: run.port, code }, `cannot listen on ${JSON.stringify(run.host)} port ${run.port} (HOST, PORT): ${message}`);
    await app.close().catch(() => undefined);
    process.exit(1);
  }
  // Under a supervisor (scripts/stack.js spawns with an IPC channel): proof that this very process owns
  // the port, so the supervisor never takes another server's /readyz for ours. Unref'd: it holds nothing open.
  if (process.send) {
    const address = app.server.address();
    process.send({ type: 'listening', port: typeof address === 'object' && address ? address.port : run.port });
    process.channel?.unref();
  }
  return app;
}

/**
 * HTTP clients parse responses with llhttp compiled to WebAssembly: undici's Pool (service-client.ts, the gateway's
 * proxy) and Node's own fetch (the JWKS) each carry a copy. V8 first compiles it with its baseline compiler
 * (Liftoff), then, a moment after the first response, recompiles the parser's large function with TurboFan on a
 * background thread, whose compiler zone is tens of MiB for about a second: one client request made a bare
 * process's resident set peak 35 MiB (undici) or 27 MiB (fetch) above where it settles, and under the bench's
 * order load that blip was the order, product and gateway services' peak (about 140 -> 115 MiB for the order
 * service without it; docs/benchmarks.md). An undici request loop showed no CPU difference above the noise.
 * Only WebAssembly is concerned (JavaScript keeps TurboFan). Called by runMain before anything is built; it must
 * run before the first WebAssembly compile, which both clients make lazily, on their first connection.
 */
function keepWebAssemblyOnBaselineCompiler(): void {
  setFlagsFromString('--liftoff-only');
}

/** A service's main.ts: validate the configuration (exit 78 with the problems), build, listen, drain on SIGTERM. */
export async function runMain<C extends { HOST: string; PORT: number; SHUTDOWN_TIMEOUT_MS: number }>(
  name: string,
  loadConfig: () => C,
  build: (config: C) => Promise<App>,
): Promise<App> {
  // The `service` field of the JSON lines, as the app's logger writes it ("<name> service" -> "<name>").
  const service = name.replace(/ service$/, '');
  keepWebAssemblyOnBaselineCompiler();
  let config: C;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) logLine('fatal', service, 'invalid configuration', { problems: err.problems });
    else logLine('fatal', service, 'invalid configuration', { err: serializeError(err) });
    process.exit(78); // EX_CONFIG
  }
  return runService(() => build(config), () => ({ host: config.HOST, port: config.PORT, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS }), service);
}
