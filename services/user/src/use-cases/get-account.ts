import { Forbidden, Unauthorized } from '@ecommerce/kit';
import type { UserRepository } from '../data/user-repository.js';
import { toUser, type User } from '../model/user.js';

/**
 * The caller's own account. A valid token whose account is gone (deleted since) is refused: 401. A database that
 * cannot answer is not that: its error goes on to the error handler (503 with Retry-After), since a client takes a
 * 401 as "signed out" and would drop the customer's session during an outage.
 */
export async function getAccount(deps: { userRepository: UserRepository }, userId: string): Promise<User> {
  const row = await deps.userRepository.findById(userId);
  if (!row) throw new Unauthorized('Account no longer exists', true);
  return toUser(row);
}

/**
 * An admin's access token is taken at its word elsewhere until it expires (up to 15 minutes); here, where accounts
 * are kept, the account behind it is read on each request: deleted since is 401 (as for /user/me), no longer an
 * admin (demoted) is 403, at once. A database that cannot answer is a 503, as above.
 */
export async function confirmAdmin(deps: { userRepository: UserRepository }, userId: string): Promise<void> {
  if ((await getAccount(deps, userId)).role !== 'admin') throw new Forbidden('This account is no longer an admin');
}
