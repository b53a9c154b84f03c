import { Conflict, NotFound, PgCode, pgErrorCode, uuidv7, type Database, type Queryable } from '@ecommerce/kit';
import { hashPassword, verifyPassword } from './passwords.js';

export type Role = 'customer' | 'admin';
export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: string;
}
interface UserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  created_at: Date;
  password_hash: string;
  [k: string]: unknown;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, name: row.name, role: row.role, createdAt: row.created_at.toISOString() };
}

const INSERT_USER = `INSERT INTO users (id, email, name, password_hash, role) VALUES ($1, $2, $3, $4, $5)
  RETURNING id, email, name, role, created_at, password_hash`;

export async function registerUser(db: Queryable, input: { email: string; password: string; name: string }, role: Role = 'customer'): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  try {
    const res = await db.query<UserRow>('user_insert', INSERT_USER, [uuidv7(), normalizeEmail(input.email), input.name.trim(), passwordHash, role]);
    return toUser(res.rows[0]!);
  } catch (err) {
    if (pgErrorCode(err) === PgCode.uniqueViolation) throw new Conflict('email-taken', 'An account with this email already exists');
    throw err;
  }
}

export async function findUserByEmail(db: Queryable, email: string): Promise<UserRow | undefined> {
  const res = await db.query<UserRow>('user_by_email', 'SELECT id, email, name, role, created_at, password_hash FROM users WHERE email = $1', [normalizeEmail(email)]);
  return res.rows[0];
}

export async function getUser(db: Queryable, id: string): Promise<User> {
  const res = await db.query<UserRow>('user_by_id', 'SELECT id, email, name, role, created_at, password_hash FROM users WHERE id = $1', [id]);
  if (!res.rows[0]) throw new NotFound('User not found');
  return toUser(res.rows[0]);
}

export async function listUsers(db: Queryable, limit: number, afterId: string | null): Promise<UserRow[]> {
  const res = await db.query<UserRow>(
    'user_list',
    `SELECT id, email, name, role, created_at, password_hash FROM users
     WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`,
    [afterId, limit + 1],
  );
  return res.rows;
}

/** Ensures the configured admin exists with the admin role and the configured password. */
export async function ensureAdmin(db: Database, email: string, password: string): Promise<User> {
  const existing = await findUserByEmail(db, email);
  if (!existing) {
    try {
      return await registerUser(db, { email, password, name: 'Administrator' }, 'admin');
    } catch (err) {
      // Another replica created it at the same moment: fall through to the update path.
      if (!(err instanceof Conflict)) throw err;
    }
  }
  const row = (await findUserByEmail(db, email))!;
  const passwordHash = (await verifyPassword(row.password_hash, password)) ? row.password_hash : await hashPassword(password);
  const res = await db.query<UserRow>(
    'user_make_admin',
    `UPDATE users SET role = 'admin', password_hash = $2 WHERE id = $1 RETURNING id, email, name, role, created_at, password_hash`,
    [row.id, passwordHash],
  );
  return toUser(res.rows[0]!);
}
