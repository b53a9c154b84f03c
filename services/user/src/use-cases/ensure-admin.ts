import { Conflict, uuidv7 } from '@ecommerce/kit';
import type { SessionRepository } from '../data/session-repository.js';
import { UserRepository } from '../data/user-repository.js';
import { hashPassword, verifyPassword } from '../model/passwords.js';
import { newUserColumns, normalizeEmail, toUser, type User } from '../model/user.js';

/**
 * Ensures the configured admin exists with the admin role and the configured password. An existing account
 * that is promoted, or whose password is reset, keeps none of its sessions: whoever held them (the customer who
 * registered that address first, say) must sign in with the configured password. (A session that began as a
 * customer's is refused on refresh anyway: refresh-session.ts.)
 */
export async function ensureAdmin(deps: { userRepository: UserRepository; sessionRepository: SessionRepository }, email: string, password: string): Promise<User> {
  const users = deps.userRepository;
  const existing = await users.findByEmail(normalizeEmail(email));
  if (!existing) {
    try {
      return toUser(await users.insert(newUserColumns(uuidv7(), { email, name: 'Administrator' }, await hashPassword(password), 'admin')));
    } catch (err) {
      // Another replica created it at the same moment: fall through to the update path.
      if (!(err instanceof Conflict)) throw err;
    }
  }
  const row = (await users.findByEmail(normalizeEmail(email)))!;
  const passwordHash = (await verifyPassword(row.password_hash, password)) ? row.password_hash : await hashPassword(password);
  // One transaction: a process that died between the two writes left the new password set and the sessions alive,
  // and started again it found nothing left to change, so it never ended them.
  return deps.sessionRepository.transaction(async (sessions, tx) => {
    const admin = toUser(await new UserRepository(tx).makeAdmin(row.id, passwordHash));
    if (row.role !== 'admin' || passwordHash !== row.password_hash) await sessions.revokeUser(row.id);
    return admin;
  });
}
