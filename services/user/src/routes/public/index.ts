import type { App } from '@ecommerce/kit';
import accounts from './accounts.js';
import sessions from './sessions.js';

/** Anyone, no token: each route proves who is calling its own way (a password, a refresh token). */
export default async function publicRoutes(app: App): Promise<void> {
  await app.register(accounts);
  await app.register(sessions);
}
