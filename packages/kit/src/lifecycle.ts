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
  return app;
}
