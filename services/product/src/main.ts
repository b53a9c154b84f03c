import { runService } from '@ecommerce/kit';
import { buildApp } from './app.js';
import { loadProductConfig } from './config.js';

const config = (() => {
  try {
    return loadProductConfig();
  } catch (err) {
    process.stderr.write(`product service: ${(err as Error).message}\n`);
    process.exit(78);
  }
})();
await runService(() => buildApp(config), () => ({ host: config.HOST, port: config.PORT, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS }));
