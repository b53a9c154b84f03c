import { runMain } from '@ecommerce/kit';
import { buildApp } from './app.js';
import { loadProductConfig } from './config.js';

await runMain('product service', () => loadProductConfig(), buildApp);
