import type { App } from '@ecommerce/kit';
import products from './products.js';

/**
 * Catalog management: an admin's access token. The check runs onRequest, before the body is parsed and
 * validated: an anonymous caller learns 401, not the schema.
 */
export default async function adminRoutes(app: App): Promise<void> {
  app.addHook('onRequest', app.auth.user('admin'));
  await app.register(products);
}
