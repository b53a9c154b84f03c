import { Unauthorized } from '@ecommerce/kit';
import type { UserRepository } from '../data/user-repository.js';
import { toUser, type User } from '../model/user.js';

/** The caller's own account. A valid token whose account cannot be read (deleted since) is refused: 401. */
export async function getAccount(deps: { userRepository: UserRepository }, userId: string): Promise<User> {
  let row;
  try {
    row = await deps.userRepository.findById(userId);
  } catch {
    throw new Unauthorized('Account no longer exists');
  }
  if (!row) throw new Unauthorized('Account no longer exists');
  return toUser(row);
}
