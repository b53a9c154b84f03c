import { runService } from '@ecommerce/kit';
import { buildApp } from './app.js';
import { loadOrderConfig } from './config.js';

const config = (() => {
  try {
    return loadOrderConfig();
  } catch (err) {
    process.stderr.write(`order service: ${(err as Error).message}\n`);
    process.exit(78);
  }
})();
await runService(() => buildApp(config), () => ({ host: config.HOST, port: config.PORT, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS }));
