import type { SessionRepository } from '../data/session-repository.js';
import { newRefreshToken, refreshTokenDigest, type RefreshTokenIssued } from '../model/session.js';
import type { Role } from '../model/user.js';

/**
 * A new refresh token in the session, on rotation: the same family and the time it began, so the new token lives
 * `ttlSeconds` but never past the session's maximum age, and the digest of the token it replaces (`rotatedFrom`).
 * A login's first token is SessionRepository.start.
 */
export async function issueRefreshToken(
  sessions: SessionRepository,
  userId: string,
  role: Role,
  ttlSeconds: number,
  session: { familyId: string; startedAt: string; rotatedFrom: Buffer },
): Promise<RefreshTokenIssued> {
  const token = newRefreshToken();
  const expiresIn = await sessions.insert(refreshTokenDigest(token), session.familyId, userId, role, ttlSeconds, session.startedAt, session.rotatedFrom);
  return { token, familyId: session.familyId, expiresIn };
}
