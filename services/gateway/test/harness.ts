// The gateway started in-process for tests, silent, with its metrics on a port of their own.
import { startService } from '@ecommerce/test-support';
import { buildApp } from '../src/app.js';
import { loadGatewayConfig } from '../src/config.js';

/** The gateway in front of the upstreams `env` names (USER_SERVICE_URL, ...), on a random loopback port. */
export async function startGateway(env: Record<string, string>) {
  return startService(buildApp, loadGatewayConfig({ LOG_LEVEL: 'silent', PORT: '0', METRICS_PORT: '0', ...env }));
}
