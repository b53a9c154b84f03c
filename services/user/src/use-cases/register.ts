import { BadRequest, uuidv7 } from '@ecommerce/kit';
import type { UserRepository } from '../data/user-repository.js';
import { guessablePassword, shortPassword } from '../model/password-policy.js';
import { hashPassword } from '../model/passwords.js';
import { newUserColumns, toUser, type User } from '../model/user.js';
import type { AccountMetrics } from '../plugins/account-metrics.js';

interface Deps {
  userRepository: UserRepository;
  accountMetrics: AccountMetrics;
}

/** 400 on /password when it is too short once normalized or too easy to guess for this email (model/password-policy.ts). */
export function refuseGuessablePassword(input: { email: string; password: string }): void {
  const weak = shortPassword(input.password) ?? guessablePassword(input.password, input.email);
  if (weak) throw new BadRequest(`The password ${weak}`, [{ path: '/password', message: weak }]);
}

/** A customer account; 400 when the password is too easy to guess, 409 email-taken when the email has one. */
export async function register(deps: Deps, input: { email: string; password: string; name: string }): Promise<User> {
  refuseGuessablePassword(input);
  const row = await deps.userRepository.insert(newUserColumns(uuidv7(), input, await hashPassword(input.password), 'customer'));
  deps.accountMetrics.registered.inc();
  return toUser(row);
}
