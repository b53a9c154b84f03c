import { Database, type Queryable } from '@ecommerce/kit';
import type { Role } from '../model/user.js';

/** A refresh token's row, locked for the rest of the transaction. */
export interface RefreshTokenRow {
  family_id: string;
  user_id: string;
  /** The role the session began with (null: a session from before it was stored, taken as a customer's). */
  role: Role | null;
  /** The account's role now. */
  current_role: Role;
  expired: boolean;
  spent_at: Date | null;
  revoked_at: Date | null;
  [k: string]: unknown;
}

// Every rotation and revocation of a session takes its family's lock first: a revocation's UPDATE sees only tokens
// committed before it began, so a rotation still in flight would otherwise add a token that outlives the revocation.
// One key for every statement that takes it: the family id's hash, held to the end of the transaction.
const FAMILY_LOCK = 'pg_advisory_xact_lock(hashtextextended(family_id::text, 0))';
const LOCK_FAMILY = `SELECT ${FAMILY_LOCK} FROM refresh_tokens WHERE token_hash = $1`;
const LOCK_TOKEN = `SELECT t.family_id, t.user_id, t.role, u.role AS current_role, t.expires_at <= now() AS expired, t.spent_at, t.revoked_at
  FROM refresh_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 FOR UPDATE OF t`;
const REVOKE_FAMILY = `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`;
// All of an account's live sessions, in one order (two of these never wait on each other in a cycle).
const LOCK_USER_FAMILIES = `SELECT ${FAMILY_LOCK}
  FROM (SELECT DISTINCT family_id FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY family_id) f`;

/** Login sessions: refresh tokens (only their SHA-256 is stored), grouped in families, one per login. */
export class SessionRepository {
  /** db: the pool, or inside transaction() the transaction's client. */
  constructor(private readonly db: Queryable) {}

  /**
   * Runs fn with a repository whose statements share one transaction (the FOR UPDATE lock holds to its end); `tx`
   * is that transaction, for another repository's statements to share it too.
   */
  transaction<T>(fn: (sessions: SessionRepository, tx: Queryable) => Promise<T>): Promise<T> {
    if (!(this.db instanceof Database)) throw new Error('SessionRepository.transaction: already in a transaction');
    return this.db.tx((tx) => fn(new SessionRepository(tx), tx));
  }

  async insert(tokenHash: Buffer, familyId: string, userId: string, role: Role, ttlSeconds: number): Promise<void> {
    await this.db.query(
      'refresh_insert',
      `INSERT INTO refresh_tokens (token_hash, family_id, user_id, role, expires_at) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
      [tokenHash, familyId, userId, role, ttlSeconds],
    );
  }

  /** Locks the token's session (its family) and row for the rest of the transaction, and reads its state. */
  async lock(tokenHash: Buffer): Promise<RefreshTokenRow | undefined> {
    await this.db.query('refresh_lock_family', LOCK_FAMILY, [tokenHash]);
    return (await this.db.query<RefreshTokenRow>('refresh_lock', LOCK_TOKEN, [tokenHash])).rows[0];
  }

  async spend(tokenHash: Buffer): Promise<void> {
    await this.db.query('refresh_spend', 'UPDATE refresh_tokens SET spent_at = now() WHERE token_hash = $1', [tokenHash]);
  }

  /**
   * Ends every session of the account (its role or password changed). Each session's lock is taken first, as a
   * rotation takes it: the UPDATE then sees the token of a rotation that was in flight, which it would have missed.
   */
  async revokeUser(userId: string): Promise<void> {
    if (this.db instanceof Database) return this.transaction((sessions) => sessions.revokeUser(userId));
    await this.db.query('refresh_lock_user_families', LOCK_USER_FAMILIES, [userId]);
    await this.db.query('refresh_revoke_user', 'UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
  }

  /** Revokes every token of the family: the whole session ends. */
  async revokeFamily(familyId: string): Promise<void> {
    await this.db.query('refresh_revoke_family', REVOKE_FAMILY, [familyId]);
  }
}
