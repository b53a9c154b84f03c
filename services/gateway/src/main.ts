import { runService } from '@ecommerce/kit';
import { buildApp } from './app.js';
import { loadGatewayConfig } from './config.js';

const config = (() => {
  try {
    return loadGatewayConfig();
  } catch (err) {
    process.stderr.write(`gateway: ${(err as Error).message}\n`);
    process.exit(78);
  }
})();
await runService(() => buildApp(config), () => ({ host: config.HOST, port: config.PORT, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS }));
