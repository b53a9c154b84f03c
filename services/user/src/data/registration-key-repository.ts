import { Database, type Queryable } from '@ecommerce/kit';
import { UserRepository, type UserInsert, type UserRow } from './user-repository.js';

/** A registration an Idempotency-Key named: the account it made, and the digest of its email and name as sent. */
export interface RegistrationKeyRow {
  requestDigest: Buffer;
  user: UserRow;
}

const FIND = `SELECT k.request_digest, u.id, u.email, u.name, u.role, u.created_at, u.password_hash
  FROM registration_keys k JOIN users u ON u.id = k.user_id WHERE k.idempotency_key = $1`;

const CLAIM = `INSERT INTO registration_keys (idempotency_key, user_id, request_digest) VALUES ($1, $2, $3)
  ON CONFLICT (idempotency_key) DO NOTHING`;

// A batch of the keys past their retention (background/prune-registration-keys.ts): by the created_at index, then by
// row address (keys are never updated, and the rows are locked from their pick to their delete); SKIP LOCKED: rows
// another replica's prune holds are left to it.
const PRUNE = `DELETE FROM registration_keys WHERE ctid = ANY(ARRAY(
  SELECT ctid FROM registration_keys WHERE created_at < now() - make_interval(hours => $1)
  ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED))`;

/** The Idempotency-Keys of registrations (migrations/009): a registration sent again after a lost answer is made once. */
export class RegistrationKeyRepository {
  constructor(private readonly db: Database) {}

  /** The registration the key named, with its account as it is now; undefined when the key names none (or was pruned). */
  async find(key: string): Promise<RegistrationKeyRow | undefined> {
    const row = (await this.db.query<UserRow & { request_digest: Buffer }>('registration_key_find', FIND, [key])).rows[0];
    if (!row) return undefined;
    const { request_digest: requestDigest, ...user } = row;
    return { requestDigest, user: user as UserRow };
  }

  /**
   * Inserts the account and its key in one transaction. Throws 409 email-taken (nothing kept, the key neither) when
   * the email has an account; answers undefined, nothing kept, when the key is taken: by a copy of this request that
   * committed first (a concurrent copy's insert waits on the key's row, or on the email's, until the first commits),
   * or by another registration. The caller then reads the key (find).
   */
  async insertOnce(u: UserInsert, key: string, requestDigest: Buffer): Promise<UserRow | undefined> {
    const taken = Symbol('taken');
    try {
      return await this.db.tx(async (tx: Queryable) => {
        const row = await new UserRepository(tx).insert(u);
        const claimed = await tx.query('registration_key_claim', CLAIM, [key, row.id, requestDigest]);
        if (claimed.rowCount === 0) throw taken;
        return row;
      });
    } catch (err) {
      if (err === taken) return undefined;
      throw err;
    }
  }

  /** Deletes up to `limit` keys older than the retention, oldest first; answers how many. */
  async prune(retentionHours: number, limit: number): Promise<number> {
    return (await this.db.query('registration_key_prune', PRUNE, [retentionHours, limit])).rowCount ?? 0;
  }
}
