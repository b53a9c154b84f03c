import { runMain } from '@ecommerce/kit';
import { buildApp } from './app.js';
import { loadOrderConfig } from './config.js';

await runMain('order service', () => loadOrderConfig(), buildApp);
