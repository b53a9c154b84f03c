import type { App } from '@ecommerce/kit';
import orderRoutes from './orders.js';

/** Signed-in users' routes (customers their own orders, admins every order): a valid access token first. */
export default async function customerRoutes(app: App): Promise<void> {
  // onRequest, before the body is parsed and validated: an anonymous caller learns 401, not the schema.
  app.addHook('onRequest', app.auth.user());
  await app.register(orderRoutes);
}
