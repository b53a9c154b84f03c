// The storefront Deployment's process (deploy/k8s/base/storefront.yaml): static files only, no upstreams.
import { runMain } from '@ecommerce/kit';
import { buildStorefrontServer, loadStorefrontConfig } from './storefront.js';

await runMain('storefront', () => loadStorefrontConfig(), buildStorefrontServer);
