import { TooManyRequests, Unauthorized, uuidv7 } from '@ecommerce/kit';
import type { SessionRepository } from '../data/session-repository.js';
import type { UserRepository } from '../data/user-repository.js';
import type { LoginThrottle } from '../model/login-throttle.js';
import { burnPasswordCheck, verifyPassword } from '../model/passwords.js';
import type { AddressRateLimiter } from '../model/rate-limits.js';
import { newRefreshToken, refreshTokenDigest, type IssuedTokens } from '../model/session.js';
import type { TokenIssuer } from '../model/token-issuer.js';
import { normalizeEmail, toUser, type Role } from '../model/user.js';
import type { AccountMetrics } from '../plugins/account-metrics.js';

interface Deps {
  userRepository: UserRepository;
  loginThrottle: LoginThrottle;
  rateLimiter: AddressRateLimiter;
  accountMetrics: AccountMetrics;
}

/** Who signed in, and the stored password hash their password was checked against. */
export interface SignedIn {
  id: string;
  role: Role;
  passwordHash: string;
}

function wrongCredentials(): Unauthorized {
  return new Unauthorized('Email or password is wrong');
}

/**
 * Login, step 1: who is this? Every attempt, right or wrong, costs an argon2 hash, so the address's request
 * budget is taken first, then the failed-login locks are checked. Counts every result but a right password, which
 * startSession counts once it has its session (or not: the password changed meanwhile).
 */
export async function checkCredentials(deps: Deps, input: { email: string; password: string; address: string }): Promise<SignedIn> {
  const { logins } = deps.accountMetrics;
  const email = normalizeEmail(input.email);
  try {
    await deps.rateLimiter.hit('login', input.address);
  } catch (err) {
    logins.inc({ result: 'rate_limited' });
    throw err;
  }
  // Counted until its password is checked, so guesses sent at once cannot all pass this check.
  const { wait, attempt } = await deps.loginThrottle.claimAttempt(email, input.address);
  if (!attempt) {
    logins.inc({ result: 'rate_limited' });
    throw new TooManyRequests(wait, 'Too many failed logins for this account from this address, or from this address; try again later');
  }
  let user: SignedIn | undefined;
  try {
    const row = await deps.userRepository.findByEmail(email);
    // Unknown email and wrong password take the same path, time and answer.
    const ok = row ? await verifyPassword(row.password_hash, input.password) : (await burnPasswordCheck(input.password), false);
    if (row && ok) user = { id: row.id, role: toUser(row).role, passwordHash: row.password_hash };
  } catch (err) {
    // No verdict (the database or the hash failed): the attempt is taken back, so it does not hold a place in the
    // budget; when the database is away this is tried again once it is back (the throttle keeps it), and one left
    // anyway (the process dies) stops counting after 30 s.
    await deps.loginThrottle.abandon(attempt).catch(() => undefined);
    throw err;
  }
  if (!user) {
    await deps.loginThrottle.recordFailure(attempt);
    logins.inc({ result: 'invalid_credentials' });
    throw wrongCredentials();
  }
  await deps.loginThrottle.recordSuccess(attempt);
  // Counted a success once its session is written (startSession).
  return user;
}

/**
 * Login, step 2: a new session (refresh token family) and its first token pair. Written only while the password
 * checked in step 1 is still the account's (SessionRepository.start, one statement): checking it takes tens of milliseconds,
 * and a password reset (ensureAdmin) that committed in between, and ended every session it found, left this one
 * alive, begun with the old password. Then it is the wrong password (401), as for a login sent a moment later; an
 * account gone meanwhile too. The session takes the role the account has now.
 */
export async function startSession(
  deps: { sessionRepository: SessionRepository; tokenIssuer: TokenIssuer; accountMetrics: AccountMetrics },
  user: SignedIn,
): Promise<IssuedTokens> {
  const token = newRefreshToken();
  const started = await deps.sessionRepository.start(refreshTokenDigest(token), uuidv7(), user.id, user.passwordHash, deps.tokenIssuer.lifetimes.refreshSeconds);
  deps.accountMetrics.logins.inc({ result: started ? 'success' : 'invalid_credentials' });
  if (!started) throw wrongCredentials();
  return { pair: await deps.tokenIssuer.pair(user.id, started.role, token, started.secondsLeft), refreshExpiresIn: started.secondsLeft };
}
