import { Unauthorized } from '@ecommerce/kit';
import type { SessionRepository } from '../data/session-repository.js';
import { refreshTokenDigest } from '../model/session.js';

/**
 * Revokes the session (the token's family); 401 when the token belongs to no live session. A spent token ends its
 * session too: its holder is signing out, and the newer token of that session may be a thief's (who refreshed
 * first), which is the case reuse detection exists for.
 */
export async function logout(deps: { sessionRepository: SessionRepository }, token: string): Promise<void> {
  const hash = refreshTokenDigest(token);
  const revoked = await deps.sessionRepository.transaction(async (sessions) => {
    const row = await sessions.lock(hash);
    if (!row || row.revoked_at || row.expired) return false;
    await sessions.revokeFamily(row.family_id);
    return true;
  }, hash);
  if (!revoked) throw new Unauthorized('Invalid or expired refresh token');
}
