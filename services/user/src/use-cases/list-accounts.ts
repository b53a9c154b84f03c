import { pageOf } from '@ecommerce/kit';
import type { UserRepository } from '../data/user-repository.js';
import { toUser, type User } from '../model/user.js';

/** One keyset page of every account, in creation order. */
export async function listAccounts(deps: { userRepository: UserRepository }, limit: number, afterId: string | null): Promise<{ items: User[]; nextCursor: string | null }> {
  const rows = await deps.userRepository.list(limit, afterId);
  return pageOf(rows, limit, (r) => [r.id], toUser);
}
