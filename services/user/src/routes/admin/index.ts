import type { App } from '@ecommerce/kit';
import { confirmAdmin } from '../../use-cases/get-account.js';
import users from './users.js';

/**
 * Account administration: an admin's access token, checked onRequest (before any body is read), and its account
 * still an admin's: the list holds every customer's email, not to be read for 15 minutes more by a demoted admin.
 */
export default async function adminRoutes(app: App): Promise<void> {
  app.addHook('onRequest', app.auth.user('admin'));
  app.addHook('onRequest', async (request) => confirmAdmin(app, request.user!.id));
  await app.register(users);
}
