import { uuidv7 } from '@ecommerce/kit';
import type { UserRepository } from '../data/user-repository.js';
import { hashPassword } from '../model/passwords.js';
import { newUserColumns, toUser, type User } from '../model/user.js';
import type { AccountMetrics } from '../plugins/account-metrics.js';

interface Deps {
  userRepository: UserRepository;
  accountMetrics: AccountMetrics;
}

/** A customer account; 409 email-taken when the email has one. */
export async function register(deps: Deps, input: { email: string; password: string; name: string }): Promise<User> {
  const row = await deps.userRepository.insert(newUserColumns(uuidv7(), input, await hashPassword(input.password), 'customer'));
  deps.accountMetrics.registered.inc();
  return toUser(row);
}
