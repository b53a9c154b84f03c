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
  /**
   * When the session began (its login): a family ends `maxAgeSeconds` after it however often it rotates. As
   * PostgreSQL writes it, to be copied back to the next token exactly (a Date would drop the microseconds).
   */
  session_started_at: string;
  /** The token's own TTL is over, or its session's maximum age. */
  expired: boolean;
  spent_at: Date | null;
  revoked_at: Date | null;
  /** SHA-256 of the Idempotency-Key of the refresh that spent this token (null: none was sent, or not spent). */
  rotation_key: Buffer | null;
  /** Spent no longer ago than the retry window: the refresh that spent it may still be sent again with its key. */
  retry_window_open: boolean;
  [k: string]: unknown;
}

// Every rotation and revocation of a session takes its family's lock first: a revocation's UPDATE sees only tokens
// committed before it began, so a rotation still in flight would otherwise add a token that outlives the revocation.
// One key for every statement that takes it: the family id's hash, held to the end of the transaction.
const FAMILY_LOCK = 'pg_advisory_xact_lock(hashtextextended(family_id::text, 0))';
const LOCK_FAMILY = `SELECT ${FAMILY_LOCK} FROM refresh_tokens WHERE token_hash = $1`;
// A row without session_started_at (a family from before it was stored, or written by the old code during a rolling
// update) began with its family's first token: the prune (PRUNE_EXPIRED) keeps every token of such a family while it lives.
const LOCK_TOKEN = `SELECT t.family_id, t.user_id, t.role, u.role AS current_role, s.started_at::text AS session_started_at,
    t.expires_at <= now() OR s.started_at + make_interval(secs => $2) <= now() AS expired, t.spent_at, t.revoked_at,
    t.rotation_key, t.spent_at > now() - make_interval(secs => $3) AS retry_window_open
  FROM refresh_tokens t JOIN users u ON u.id = t.user_id
  CROSS JOIN LATERAL (SELECT COALESCE(t.session_started_at, (SELECT min(f.created_at) FROM refresh_tokens f WHERE f.family_id = t.family_id)) AS started_at) s
  WHERE t.token_hash = $1 FOR UPDATE OF t`;
// A token lives its TTL, but never past its session's end; answers its lifetime in whole seconds (the cookie's Max-Age).
const INSERT_TOKEN = `INSERT INTO refresh_tokens (token_hash, family_id, user_id, role, session_started_at, expires_at, rotated_from)
  SELECT $1, $2, $3, $4, s.started_at, LEAST(now() + make_interval(secs => $5), s.started_at + make_interval(secs => $6)), $8
  FROM (SELECT COALESCE($7::timestamptz, now()) AS started_at) s
  RETURNING ceil(extract(epoch FROM expires_at - now()))::int AS seconds_left`;
// A login's session: its first token, written only while the password the login checked ($6, the hash it verified) is
// still the account's, with the account's role now. FOR SHARE: a password reset's UPDATE of the row (ensureAdmin)
// waits for this to commit and then ends this session with the others; one that went first makes this find no row.
const START_SESSION = `INSERT INTO refresh_tokens (token_hash, family_id, user_id, role, session_started_at, expires_at)
  SELECT $1, $2, u.id, u.role, now(), now() + LEAST(make_interval(secs => $4), make_interval(secs => $5))
  FROM users u WHERE u.id = $3 AND u.password_hash = $6 FOR SHARE OF u
  RETURNING role, ceil(extract(epoch FROM expires_at - now()))::int AS seconds_left`;
// The token a rotation issued in place of $2, if nobody has used it yet: spent now, so that presenting it later is a
// reuse (whoever holds it forked the session). Its family's lock is held (lock()).
const SPEND_UNUSED_SUCCESSOR = `UPDATE refresh_tokens SET spent_at = now()
  WHERE family_id = $1 AND rotated_from = $2 AND spent_at IS NULL AND revoked_at IS NULL`;
const REVOKE_FAMILY = `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`;
// All of an account's live sessions, in one order (two of these never wait on each other in a cycle).
const LOCK_USER_FAMILIES = `SELECT ${FAMILY_LOCK}
  FROM (SELECT DISTINCT family_id FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY family_id) f`;

// Tokens past their expires_at, a batch at a time, oldest first: such a token answers 401 exactly as an unknown one
// (refresh and logout check `expired` before `spent_at`, so reuse detection never needs it). Kept: every token of a
// family that still has a live token without session_started_at (LOCK_TOKEN reads its start from the family's first
// token). Index scans only (expires_idx, unstarted_idx, then the primary key: ANY(ARRAY()) keeps the outer DELETE off a
// seq scan). SKIP LOCKED: a token a refresh or logout holds is left for the next batch; nobody waits on the prune.
const PRUNE_EXPIRED = `DELETE FROM refresh_tokens WHERE token_hash = ANY(ARRAY(
  SELECT t.token_hash FROM refresh_tokens t
  WHERE t.expires_at < now()
    AND NOT EXISTS (SELECT 1 FROM refresh_tokens n WHERE n.family_id = t.family_id AND n.session_started_at IS NULL AND n.expires_at >= now())
  ORDER BY t.expires_at LIMIT $1 FOR UPDATE OF t SKIP LOCKED))`;

/**
 * How long after a refresh the same refresh may be sent again (same token, same Idempotency-Key) and be answered, as
 * long as the token it issued is unused: the client's retry of an answer it lost. Two minutes hold the web app's
 * retries (the next page's load, its 2, 4, 8... s backoff), and bound what a copy of a request is worth.
 */
const REFRESH_RETRY_WINDOW_SECONDS = 120;

/** Login sessions: refresh tokens (only their SHA-256 is stored), grouped in families, one per login. */
export class SessionRepository {
  /**
   * db: the pool, or inside transaction() the transaction's client. maxAgeSeconds: the absolute lifetime of a session
   * (SESSION_MAX_AGE_SECONDS; OWASP Session Management: an absolute timeout besides the idle one, the refresh TTL).
   */
  constructor(
    private readonly db: Queryable,
    private readonly maxAgeSeconds: number,
  ) {}

  /**
   * Runs fn with a repository whose statements share one transaction (the FOR UPDATE lock holds to its end); `tx`
   * is that transaction, for another repository's statements to share it too. It waits for its session's lock (a
   * refresh, a logout), for up to the statement timeout when another session holds it: on the share of the pool lock
   * waits may hold (Database.lockWaiting). A client's refreshes sent again and again behind one held session held
   * every connection, and /user/me and the logins of everyone else waited out the pool's 5 s queue and answered 503.
   *
   * `tokenHash`: the token whose session fn locks (a refresh, a logout). Its session's transactions then take a turn
   * in the process, one at a time (lockWaiting's `row`, the family's): with the share alone, one held session still
   * took all 8 of its connections, and every other customer's refresh and logout waited behind them for the share and
   * answered 503. Now one of them waits in PostgreSQL, the rest 503 + Retry-After when their turn does not come within
   * the pool's wait. Rotations and revocations of one session take its lock one after the other anyway.
   */
  async transaction<T>(fn: (sessions: SessionRepository, tx: Queryable) => Promise<T>, tokenHash?: Buffer): Promise<T> {
    const db = this.db;
    if (!(db instanceof Database)) throw new Error('SessionRepository.transaction: already in a transaction');
    const turn = tokenHash && (await this.turnOf(tokenHash));
    return db.lockWaiting(() => db.tx((tx) => fn(new SessionRepository(tx, this.maxAgeSeconds), tx)), turn);
  }

  /**
   * The name of the turn of the token's session (transaction): its family, which every token of the session shares (a
   * tab that missed a rotation still sends the one before), read without a lock (a plain SELECT waits on no row lock
   * or advisory lock); a token that is not stored (pruned, never issued) has a turn of its own, and finds no row.
   */
  private async turnOf(tokenHash: Buffer): Promise<string> {
    const { rows } = await this.db.query<{ family_id: string }>('refresh_session_of', 'SELECT family_id FROM refresh_tokens WHERE token_hash = $1', [tokenHash]);
    return rows[0] ? `refresh_tokens:family:${rows[0].family_id}` : `refresh_tokens:token:${tokenHash.toString('hex')}`;
  }

  /**
   * A token of the session that began at `sessionStartedAt` (null: a new session, now), issued in place of the token
   * whose digest is `rotatedFrom` (null at login); answers how many seconds it lives: `ttlSeconds`, or less when the
   * session's maximum age comes first.
   */
  async insert(tokenHash: Buffer, familyId: string, userId: string, role: Role, ttlSeconds: number, sessionStartedAt: string | null, rotatedFrom: Buffer | null): Promise<number> {
    const { rows } = await this.db.query<{ seconds_left: number }>(
      'refresh_insert',
      INSERT_TOKEN,
      [tokenHash, familyId, userId, role, ttlSeconds, this.maxAgeSeconds, sessionStartedAt, rotatedFrom],
    );
    return rows[0]!.seconds_left;
  }

  /**
   * A new session (family) of the account and its first token, while `passwordHash` is still the account's password:
   * the role it began with and the seconds the token lives (`ttlSeconds`, or the session's maximum age if shorter);
   * undefined, and nothing written, once the password was changed or the account is gone (START_SESSION).
   */
  async start(tokenHash: Buffer, familyId: string, userId: string, passwordHash: string, ttlSeconds: number): Promise<{ role: Role; secondsLeft: number } | undefined> {
    const { rows } = await this.db.query<{ role: Role; seconds_left: number }>(
      'refresh_start_session',
      START_SESSION,
      [tokenHash, familyId, userId, ttlSeconds, this.maxAgeSeconds, passwordHash],
    );
    return rows[0] && { role: rows[0].role, secondsLeft: rows[0].seconds_left };
  }

  /** Whether a token with this digest is stored (committed, when asked outside the transaction that wrote it). */
  async holds(tokenHash: Buffer): Promise<boolean> {
    return (await this.db.query('refresh_token_stored', 'SELECT 1 FROM refresh_tokens WHERE token_hash = $1', [tokenHash])).rowCount === 1;
  }

  /** Locks the token's session (its family) and row for the rest of the transaction, and reads its state. */
  async lock(tokenHash: Buffer): Promise<RefreshTokenRow | undefined> {
    await this.db.query('refresh_lock_family', LOCK_FAMILY, [tokenHash]);
    return (await this.db.query<RefreshTokenRow>('refresh_lock', LOCK_TOKEN, [tokenHash, this.maxAgeSeconds, REFRESH_RETRY_WINDOW_SECONDS])).rows[0];
  }

  /** Spends the token; `keyDigest`: the SHA-256 of the refresh's Idempotency-Key, kept so that refresh can be sent again. */
  async spend(tokenHash: Buffer, keyDigest: Buffer | null): Promise<void> {
    await this.db.query('refresh_spend', 'UPDATE refresh_tokens SET spent_at = now(), rotation_key = $2 WHERE token_hash = $1', [tokenHash, keyDigest]);
  }

  /**
   * Spends the token issued in place of `tokenHash` if it was never used, and says whether it did: false when that
   * token was used (spent by a refresh of its own) or revoked, so the session went on without this token.
   */
  async spendUnusedSuccessor(familyId: string, tokenHash: Buffer): Promise<boolean> {
    return (await this.db.query('refresh_spend_successor', SPEND_UNUSED_SUCCESSOR, [familyId, tokenHash])).rowCount === 1;
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

  /** Deletes up to `limit` expired refresh tokens (PRUNE_EXPIRED); answers how many. */
  async pruneExpired(limit: number): Promise<number> {
    return (await this.db.query('refresh_prune_expired', PRUNE_EXPIRED, [limit])).rowCount ?? 0;
  }

  /** Revokes every token of the family: the whole session ends. */
  async revokeFamily(familyId: string): Promise<void> {
    await this.db.query('refresh_revoke_family', REVOKE_FAMILY, [familyId]);
  }
}
