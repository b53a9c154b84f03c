import { PgCode, errorCode, type Queryable } from '@ecommerce/kit';
import { emailTaken, type Role } from '../model/user.js';

export interface UserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  created_at: Date;
  password_hash: string;
  [k: string]: unknown;
}

/** The columns of a new account, already normalized and hashed. */
export interface UserInsert {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  role: Role;
}

const USER = 'id, email, name, role, created_at, password_hash';
const INSERT_USER = `INSERT INTO users (id, email, name, password_hash, role) VALUES ($1, $2, $3, $4, $5)
  RETURNING ${USER}`;

/** The users table. Emails are looked up as given: callers pass them normalized (normalizeEmail). */
export class UserRepository {
  constructor(private readonly db: Queryable) {}

  /** Throws 409 email-taken when the email has an account. */
  async insert(u: UserInsert): Promise<UserRow> {
    try {
      const res = await this.db.query<UserRow>('user_insert', INSERT_USER, [u.id, u.email, u.name, u.passwordHash, u.role]);
      return res.rows[0]!;
    } catch (err) {
      if (errorCode(err) === PgCode.uniqueViolation) throw emailTaken();
      throw err;
    }
  }

  async findByEmail(email: string): Promise<UserRow | undefined> {
    return (await this.db.query<UserRow>('user_by_email', `SELECT ${USER} FROM users WHERE email = $1`, [email])).rows[0];
  }

  async findById(id: string): Promise<UserRow | undefined> {
    return (await this.db.query<UserRow>('user_by_id', `SELECT ${USER} FROM users WHERE id = $1`, [id])).rows[0];
  }

  /** Keyset page in id (creation) order; returns limit+1 rows for pageOf. */
  async list(limit: number, afterId: string | null): Promise<UserRow[]> {
    const res = await this.db.query<UserRow>(
      'user_list',
      `SELECT ${USER} FROM users
     WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`,
      [afterId, limit + 1],
    );
    return res.rows;
  }

  /**
   * The accounts of `ids` (at most a page's worth), in id order after `afterId`: up to limit+1 rows for pageOf. Its own
   * statement, driven by the primary key (ANY of the ids), not the list's with an OR that a generic plan reads whole.
   */
  async listByIds(ids: readonly string[], limit: number, afterId: string | null): Promise<UserRow[]> {
    const res = await this.db.query<UserRow>(
      'user_list_by_ids',
      `SELECT ${USER} FROM users
     WHERE id = ANY($1::uuid[]) AND ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT $3`,
      [ids, afterId, limit + 1],
    );
    return res.rows;
  }

  async makeAdmin(id: string, passwordHash: string): Promise<UserRow> {
    const res = await this.db.query<UserRow>('user_make_admin', `UPDATE users SET role = 'admin', password_hash = $2 WHERE id = $1 RETURNING ${USER}`, [id, passwordHash]);
    return res.rows[0]!;
  }
}
