import type { App } from '@ecommerce/kit';
import users from './users.js';

/** Account administration: an admin's access token, checked onRequest (before any body is read). */
export default async function adminRoutes(app: App): Promise<void> {
  app.addHook('onRequest', app.auth.user('admin'));
  await app.register(users);
}
