import type { App } from '@ecommerce/kit';
import products from './products.js';

/** Catalog reads: anyone, no token. */
export default async function publicRoutes(app: App): Promise<void> {
  await app.register(products);
}
