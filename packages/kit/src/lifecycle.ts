import closeWithGrace from 'close-with-grace';
import type { App } from './server.js';
import { ConfigError } from './config.js';

export interface RunOptions {
  host: string;
  port: number;
  shutdownTimeoutMs: number;
}

/**
 * Listens, then on SIGTERM/SIGINT stops accepting, drains in-flight requests
 * (Fastify answers new ones 503 while closing) and runs onClose hooks (pools).
 */
export async function runService(build: () => Promise<App>, opts: () => RunOptions): Promise<App> {
  let app: App;
  let run: RunOptions;
  try {
    run = opts();
    app = await build();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  closeWithGrace({ delay: run.shutdownTimeoutMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'fatal error, shutting down');
    else app.log.info({ signal }, 'shutting down, draining requests');
    await app.close();
  });
  await app.listen({ host: run.host, port: run.port });
  // Under a supervisor (scripts/stack.js spawns with an IPC channel): proof that this very process owns
  // the port, so the supervisor never takes another server's /readyz for ours. Unref'd: it holds nothing open.
  if (process.send) {
    const address = app.server.address();
    process.send({ type: 'listening', port: typeof address === 'object' && address ? address.port : run.port });
    process.channel?.unref();
  }
  return app;
}

/** A service's main.ts: validate the configuration (exit 78 with the problems), build, listen, drain on SIGTERM. */
export async function runMain<C extends { HOST: string; PORT: number; SHUTDOWN_TIMEOUT_MS: number }>(
  name: string,
  loadConfig: () => C,
  build: (config: C) => Promise<App>,
): Promise<App> {
  let config: C;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`${name}: ${(err as Error).message}\n`);
    process.exit(78); // EX_CONFIG
  }
  return runService(() => build(config), () => ({ host: config.HOST, port: config.PORT, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS }));
}
