import { uuidv7 } from '@ecommerce/kit';
import type { SessionRepository } from '../data/session-repository.js';
import { newRefreshToken, refreshTokenDigest, type RefreshTokenIssued } from '../model/session.js';
import type { Role } from '../model/user.js';

/** A new refresh token in the family (a new family: a new session, at login; the same one on rotation). */
export async function issueRefreshToken(sessions: SessionRepository, userId: string, role: Role, ttlSeconds: number, familyId: string = uuidv7()): Promise<RefreshTokenIssued> {
  const token = newRefreshToken();
  await sessions.insert(refreshTokenDigest(token), familyId, userId, role, ttlSeconds);
  return { token, familyId };
}
