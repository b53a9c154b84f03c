import { createHash, timingSafeEqual } from 'node:crypto';
import { BadRequest, ProblemError, UnprocessableEntity, uuidv7 } from '@ecommerce/kit';
import type { RegistrationKeyRepository, RegistrationKeyRow } from '../data/registration-key-repository.js';
import type { UserRepository } from '../data/user-repository.js';
import { guessablePassword, shortPassword } from '../model/password-policy.js';
import { hashPassword, verifyPassword } from '../model/passwords.js';
import { newUserColumns, toUser, type User } from '../model/user.js';
import type { AccountMetrics } from '../plugins/account-metrics.js';

interface Deps {
  userRepository: UserRepository;
  registrationKeyRepository: RegistrationKeyRepository;
  accountMetrics: AccountMetrics;
}

interface Registration {
  email: string;
  password: string;
  name: string;
}

/** 400 on /password when it is too short once normalized or too easy to guess for this email (model/password-policy.ts). */
export function refuseGuessablePassword(input: { email: string; password: string }): void {
  const weak = shortPassword(input.password) ?? guessablePassword(input.password, input.email);
  if (weak) throw new BadRequest(`The password ${weak}`, [{ path: '/password', message: weak }]);
}

/**
 * A customer account; 400 when the password is too easy to guess, 409 email-taken when the email has one.
 *
 * Named by an Idempotency-Key (`key`), it is made once: the same registration sent again (a retry after a lost answer:
 * a timeout, a gateway 504, a connection cut after the COMMIT) answers the account the key made, and creates nothing;
 * the key with another email, name or password is a 422. The same body is its email and name as sent (their SHA-256
 * is kept with the key) and a password the account's argon2 hash verifies: neither the password nor the body is kept.
 * Copies racing each other make one account: the one whose transaction commits first keeps the key, and the others
 * (refused by the key's row, or by the email's, once it commits) find the key and answer alike.
 */
export async function register(deps: Deps, input: Registration, key?: string): Promise<User> {
  refuseGuessablePassword(input);
  if (key === undefined) {
    const row = await deps.userRepository.insert(newUserColumns(uuidv7(), input, await hashPassword(input.password), 'customer'));
    deps.accountMetrics.registered.inc();
    return toUser(row);
  }
  const keys = deps.registrationKeyRepository;
  const digest = requestDigest(input);
  let passwordHash: string | undefined;
  // A key taken and then gone before it was read (pruned in between: past its retention) is free again: tried anew,
  // a bounded number of times.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const earlier = await keys.find(key);
    if (earlier) return replay(earlier, input, digest);
    passwordHash ??= await hashPassword(input.password);
    let row;
    try {
      row = await keys.insertOnce(newUserColumns(uuidv7(), input, passwordHash, 'customer'), key, digest);
    } catch (err) {
      // The email has an account: this key's own (a copy of this request committed first) is answered as made;
      // another's is the 409, and no key is kept.
      if (!(err instanceof ProblemError && err.status === 409)) throw err;
      const made = await keys.find(key);
      if (made) return replay(made, input, digest);
      throw err;
    }
    if (row) {
      deps.accountMetrics.registered.inc();
      return toUser(row);
    }
  }
  throw new Error('the Idempotency-Key of a registration was taken and gone 3 times in a row');
}

/** The registration the key made, sent again: its account, when the body is the same; 422 otherwise. */
async function replay(earlier: RegistrationKeyRow, input: Registration, digest: Buffer): Promise<User> {
  const same = earlier.requestDigest.length === digest.length && timingSafeEqual(earlier.requestDigest, digest) && (await verifyPassword(earlier.user.password_hash, input.password));
  if (!same) throw new UnprocessableEntity('idempotency-key-reused', 'This Idempotency-Key was used with another registration');
  return toUser(earlier.user);
}

/** SHA-256 of the email and name as sent (not the password): what a retry must send again alike. */
function requestDigest(input: Registration): Buffer {
  return createHash('sha256').update(JSON.stringify([input.email, input.name])).digest();
}
