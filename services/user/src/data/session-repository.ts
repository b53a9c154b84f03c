import { createHash, randomBytes } from 'node:crypto';
import { Unauthorized, uuidv7, type Database, type Queryable } from '@ecommerce/kit';

export interface RefreshTokenIssued {
  token: string;
  familyId: string;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** A new random refresh token (256 bits); only its SHA-256 is stored. */
export async function issueRefreshToken(db: Queryable, userId: string, ttlSeconds: number, familyId: string = uuidv7()): Promise<RefreshTokenIssued> {
  const token = randomBytes(32).toString('base64url');
  await db.query(
    'refresh_insert',
    `INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
    [digest(token), familyId, userId, ttlSeconds],
  );
  return { token, familyId };
}

interface TokenRow {
  family_id: string;
  user_id: string;
  expired: boolean;
  spent_at: Date | null;
  revoked_at: Date | null;
  [k: string]: unknown;
}

const LOCK_TOKEN = `SELECT family_id, user_id, expires_at <= now() AS expired, spent_at, revoked_at
  FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`;
const REVOKE_FAMILY = `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`;

/**
 * Rotation with reuse detection: a live token is spent and replaced in the same family;
 * presenting a spent token revokes the whole family (someone else may hold a copy).
 */
export async function rotateRefreshToken(db: Database, token: string, ttlSeconds: number): Promise<{ userId: string; next: RefreshTokenIssued }> {
  const outcome = await db.tx(async (q) => {
    const row = (await q.query<TokenRow>('refresh_lock', LOCK_TOKEN, [digest(token)])).rows[0];
    if (!row || row.revoked_at || row.expired) return { ok: false as const };
    if (row.spent_at) {
      await q.query('refresh_revoke_family', REVOKE_FAMILY, [row.family_id]);
      return { ok: false as const, reuse: true };
    }
    await q.query('refresh_spend', 'UPDATE refresh_tokens SET spent_at = now() WHERE token_hash = $1', [digest(token)]);
    const next = await issueRefreshToken(q, row.user_id, ttlSeconds, row.family_id);
    return { ok: true as const, userId: row.user_id, next };
  });
  if (!outcome.ok) throw new Unauthorized(outcome.reuse ? 'Refresh token was already used; the session has been revoked' : 'Invalid or expired refresh token');
  return { userId: outcome.userId, next: outcome.next };
}

/** Logout: revokes the session (the token's family). */
export async function revokeRefreshToken(db: Database, token: string): Promise<void> {
  const revoked = await db.tx(async (q) => {
    const row = (await q.query<TokenRow>('refresh_lock', LOCK_TOKEN, [digest(token)])).rows[0];
    if (!row || row.revoked_at || row.expired || row.spent_at) return false;
    await q.query('refresh_revoke_family', REVOKE_FAMILY, [row.family_id]);
    return true;
  });
  if (!revoked) throw new Unauthorized('Invalid or expired refresh token');
}
