import { Conflict, uuidv7 } from '@ecommerce/kit';
import type { UserRepository } from '../data/user-repository.js';
import { hashPassword, verifyPassword } from '../model/passwords.js';
import { newUserColumns, normalizeEmail, toUser, type User } from '../model/user.js';

/** Ensures the configured admin exists with the admin role and the configured password. */
export async function ensureAdmin(deps: { userRepository: UserRepository }, email: string, password: string): Promise<User> {
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
  return toUser(await users.makeAdmin(row.id, passwordHash));
}
