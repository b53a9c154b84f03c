import type { UserRole } from '@ecommerce/contracts';
import { Conflict } from '@ecommerce/kit';
import type { UserInsert, UserRow } from '../data/user-repository.js';

export type Role = UserRole;
export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: string;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, name: row.name, role: row.role, createdAt: row.created_at.toISOString() };
}

/** The stored columns of a new account: email normalized, name trimmed, the password already hashed. */
export function newUserColumns(id: string, input: { email: string; name: string }, passwordHash: string, role: Role): UserInsert {
  return { id, email: normalizeEmail(input.email), name: input.name.trim(), passwordHash, role };
}

export function emailTaken(): Conflict {
  return new Conflict('email-taken', 'An account with this email already exists');
}
