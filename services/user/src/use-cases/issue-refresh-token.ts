import { uuidv7 } from '@ecommerce/kit';
import type { SessionRepository } from '../data/session-repository.js';
import { newRefreshToken, refreshTokenDigest, type RefreshTokenIssued } from '../model/session.js';
import type { Role } from '../model/user.js';

/**
 * A new refresh token in the session: a new family, begun now, at login; on rotation the same family and the time it
 * began, so the new token lives `ttlSeconds` but never past the session's maximum age, and the digest of the token it
 * replaces (`rotatedFrom`).
 */
export async function issueRefreshToken(
  sessions: SessionRepository,
  userId: string,
  role: Role,
  ttlSeconds: number,
  session: { familyId: string; startedAt: string; rotatedFrom: Buffer } | null = null,
): Promise<RefreshTokenIssued> {
  const token = newRefreshToken();
  const familyId = session?.familyId ?? uuidv7();
  const expiresIn = await sessions.insert(refreshTokenDigest(token), familyId, userId, role, ttlSeconds, session?.startedAt ?? null, session?.rotatedFrom ?? null);
  return { token, familyId, expiresIn };
}
