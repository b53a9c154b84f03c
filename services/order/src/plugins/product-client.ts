import fp from 'fastify-plugin';
import type { App } from '@ecommerce/kit';
import { ProductClient } from '../clients/product-client.js';
import type { OrderConfig } from '../config.js';

declare module 'fastify' {
  interface FastifyInstance {
    products: ProductClient;
  }
}

/** The product service's reservation API (its connection pool closes with the app). */
export default fp(
  async (app: App, { config }: { config: OrderConfig }) => {
    const products = new ProductClient(config, app.metrics, app.log);
    app.decorate('products', products);
    app.addHook('onClose', () => products.close());
  },
  { name: 'product-client', decorators: { fastify: ['metrics'] } },
);
