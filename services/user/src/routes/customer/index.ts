import type { App } from '@ecommerce/kit';
import account from './account.js';

/** A signed-in user, any role: a valid access token, checked onRequest (before any body is read). */
export default async function customerRoutes(app: App): Promise<void> {
  app.addHook('onRequest', app.auth.user());
  await app.register(account);
}
