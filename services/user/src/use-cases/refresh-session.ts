import { Unauthorized } from '@ecommerce/kit';
import type { SessionRepository } from '../data/session-repository.js';
import type { UserRepository } from '../data/user-repository.js';
import { refreshTokenDigest, type RefreshTokenIssued, type TokenPair } from '../model/session.js';
import type { TokenIssuer } from '../model/token-issuer.js';
import { issueRefreshToken } from './issue-refresh-token.js';

/**
 * Refresh, step 1: rotation with reuse detection. A live token is spent and replaced in the same family;
 * presenting a spent token revokes the whole family (someone else may hold a copy).
 */
export async function rotateRefreshToken(
  deps: { sessionRepository: SessionRepository; tokenIssuer: TokenIssuer },
  token: string,
): Promise<{ userId: string; next: RefreshTokenIssued }> {
  const hash = refreshTokenDigest(token);
  const outcome = await deps.sessionRepository.transaction(async (sessions) => {
    const row = await sessions.lock(hash);
    if (!row || row.revoked_at || row.expired) return { ok: false as const };
    if (row.spent_at) {
      await sessions.revokeFamily(row.family_id);
      return { ok: false as const, reuse: true };
    }
    await sessions.spend(hash);
    const next = await issueRefreshToken(sessions, row.user_id, deps.tokenIssuer.lifetimes.refreshSeconds, row.family_id);
    return { ok: true as const, userId: row.user_id, next };
  });
  if (!outcome.ok) throw new Unauthorized(outcome.reuse ? 'Refresh token was already used; the session has been revoked' : 'Invalid or expired refresh token');
  return { userId: outcome.userId, next: outcome.next };
}

/** Refresh, step 2: a new access token for the account as it is now (its role may have changed), with the next refresh token. */
export async function continueSession(
  deps: { userRepository: UserRepository; tokenIssuer: TokenIssuer },
  rotated: { userId: string; next: RefreshTokenIssued },
): Promise<TokenPair> {
  const role = await deps.userRepository.roleOf(rotated.userId);
  if (!role) throw new Unauthorized('Account no longer exists');
  return deps.tokenIssuer.pair(rotated.userId, role, rotated.next.token);
}
