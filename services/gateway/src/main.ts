import { runMain } from '@ecommerce/kit';
import { buildApp } from './app.js';
import { loadGatewayConfig } from './config.js';

await runMain('gateway service', () => loadGatewayConfig(), buildApp);
