import { runMain } from '@ecommerce/kit';
import { buildApp } from './app.js';
import { loadUserConfig } from './config.js';

await runMain('user service', () => loadUserConfig(), buildApp);
