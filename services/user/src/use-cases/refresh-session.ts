import { Unauthorized } from '@ecommerce/kit';
import type { SessionRepository } from '../data/session-repository.js';
import { refreshTokenDigest, type RefreshTokenIssued, type TokenPair } from '../model/session.js';
import type { TokenIssuer } from '../model/token-issuer.js';
import { issueRefreshToken } from './issue-refresh-token.js';

const REFUSED = {
  invalid: 'Invalid or expired refresh token',
  reuse: 'Refresh token was already used; the session has been revoked',
  role: "The account's role changed since this session began; sign in again",
} as const;

/**
 * Refresh: rotation with reuse detection. A live token is spent and replaced in the same family; presenting a
 * spent token revokes the whole family (someone else may hold a copy). A session keeps the role it began with:
 * when the account's role is another now (an account promoted to admin, an admin demoted), the session ends, so
 * nobody holding an old session of an account inherits a role that was given to whoever signs in with it now.
 */
export async function refreshSession(deps: { sessionRepository: SessionRepository; tokenIssuer: TokenIssuer }, token: string): Promise<TokenPair> {
  const hash = refreshTokenDigest(token);
  const outcome = await deps.sessionRepository.transaction(async (sessions) => {
    const row = await sessions.lock(hash);
    if (!row || row.revoked_at || row.expired) return { refused: REFUSED.invalid };
    if (row.spent_at) {
      await sessions.revokeFamily(row.family_id);
      return { refused: REFUSED.reuse };
    }
    if ((row.role ?? 'customer') !== row.current_role) {
      await sessions.revokeFamily(row.family_id);
      return { refused: REFUSED.role };
    }
    await sessions.spend(hash);
    const next: RefreshTokenIssued = await issueRefreshToken(sessions, row.user_id, row.current_role, deps.tokenIssuer.lifetimes.refreshSeconds, row.family_id);
    return { userId: row.user_id, role: row.current_role, next };
  });
  if ('refused' in outcome) throw new Unauthorized(outcome.refused);
  return deps.tokenIssuer.pair(outcome.userId, outcome.role, outcome.next.token);
}
