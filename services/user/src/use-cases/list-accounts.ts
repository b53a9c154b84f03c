import { pageOf } from '@ecommerce/kit';
import type { UserRepository, UserRow } from '../data/user-repository.js';
import { normalizeEmail, toUser, type User } from '../model/user.js';

/** What an admin may narrow the list to: accounts by id (a page of orders' customers), or the one with an email. */
export interface AccountFilter {
  ids?: readonly string[];
  email?: string;
}

/**
 * One keyset page of the accounts, in creation order: every account, or those the filter names (both filters: the
 * accounts that match both). An id or email that names no account is simply not in the page, as a filter's answer.
 */
export async function listAccounts(deps: { userRepository: UserRepository }, limit: number, afterId: string | null, filter: AccountFilter = {}): Promise<{ items: User[]; nextCursor: string | null }> {
  const rows = await matchingRows(deps.userRepository, limit, afterId, filter);
  return pageOf(rows, limit, (r) => [r.id], toUser);
}

async function matchingRows(users: UserRepository, limit: number, afterId: string | null, { ids, email }: AccountFilter): Promise<UserRow[]> {
  if (email !== undefined) {
    // Emails are unique (as normalized): at most one row, then narrowed by the ids and the cursor like any page.
    const row = await users.findByEmail(normalizeEmail(email));
    const wanted = row && (ids === undefined || ids.some((id) => id.toLowerCase() === row.id)) && (afterId === null || row.id > afterId.toLowerCase());
    return wanted ? [row] : [];
  }
  if (ids !== undefined) return users.listByIds(ids, limit, afterId);
  return users.list(limit, afterId);
}
