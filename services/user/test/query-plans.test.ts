// The statements on an account's sessions and the admin's list of users, planned over a shop's worth of rows: each
// reads an index, never a whole table. Ending every session of an account (role or password changed) looked its
// tokens up by user_id, which no index held, so both of its statements read every refresh token (65 ms and 117 ms
// over 500,000) until migration 008. Asserted on the plans (EXPLAIN of the exact statement the repository sends,
// with its parameters), not on timings.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Database } from '@ecommerce/kit';
import { assertNoSeqScan, createPlanningDatabase, planNodes, recordStatements, sql, type SentStatement, type TestDatabase } from '@ecommerce/test-support';
import { SessionRepository } from '../src/data/session-repository.js';
import { UserRepository } from '../src/data/user-repository.js';

const USERS = 3_000;
/** Refresh tokens stored: ten a user, most of them expired (a family of rotations each). */
const TOKENS = 30_000;

let db: TestDatabase;
let database: Database;
before(async () => {
  ({ db, database } = await createPlanningDatabase('user', new URL('../../migrations', import.meta.url).pathname));
  await sql(db.urls.user,
    `INSERT INTO users.users (id, email, name, password_hash)
     SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(u), 12, '0'))::uuid, 'user' || u || '@example.test', 'User ' || u, 'x'
     FROM generate_series(1, $1::int) u`, [USERS]);
  await sql(db.urls.user,
    `INSERT INTO users.refresh_tokens (token_hash, family_id, user_id, role, session_started_at, expires_at, created_at)
     SELECT sha256(i::text::bytea), ('00000000-0000-7000-9000-' || lpad(to_hex(i / 10), 12, '0'))::uuid,
       ('00000000-0000-7000-8000-' || lpad(to_hex(1 + (i / 10) % $2::int), 12, '0'))::uuid, 'customer',
       now() - interval '40 days', now() - interval '30 days' + i * interval '35 days' / $1::int, now() - interval '40 days'
     FROM generate_series(0, $1::int - 1) i`, [TOKENS, USERS]);
  await sql(db.urls.user, 'ANALYZE users.users');
  await sql(db.urls.user, 'ANALYZE users.refresh_tokens');
});
after(async () => {
  await database?.close();
  await db?.drop();
});

/** Asserts the statement, as the service sends it, scans no table whole. */
async function assertIndexedOnly(statement: SentStatement) {
  assertNoSeqScan(await planNodes(database, statement), statement.name);
}

const user = (n: number) => `00000000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

describe(`the users statements at scale (plans over ${USERS.toLocaleString('en')} users, ${TOKENS.toLocaleString('en')} refresh tokens)`, () => {
  it('when every session of an account ends (its role or password changed), then its tokens are found by an index, for any account', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: USERS + 10 }), async (n) => {
        const statements = await recordStatements((q) => new SessionRepository(q, 86_400).revokeUser(user(n)));
        assert.deepEqual(statements.map((s) => s.name), ['refresh_lock_user_families', 'refresh_revoke_user']);
        for (const s of statements) await assertIndexedOnly(s);
      }),
      { numRuns: 10 },
    );
  });

  it('when the prune deletes a batch of expired tokens, or an admin lists users from any cursor, then an index is read', async () => {
    for (const s of await recordStatements((q) => new SessionRepository(q, 86_400).pruneExpired(1_000))) await assertIndexedOnly(s);
    await fc.assert(
      fc.asyncProperty(fc.option(fc.integer({ min: 1, max: USERS }), { nil: null }), fc.integer({ min: 1, max: 100 }), async (after, limit) => {
        for (const s of await recordStatements((q) => new UserRepository(q).list(limit, after === null ? null : user(after)))) await assertIndexedOnly(s);
      }),
      { numRuns: 10 },
    );
  });

  it('when an admin looks accounts up by a batch of ids (a page of orders\' customers, from any cursor), then the primary key is read', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: USERS + 10 }), { minLength: 1, maxLength: 100 }), fc.option(fc.integer({ min: 1, max: USERS }), { nil: null }), fc.integer({ min: 1, max: 100 }), async (ids, after, limit) => {
        for (const s of await recordStatements((q) => new UserRepository(q).listByIds(ids.map(user), limit, after === null ? null : user(after)))) await assertIndexedOnly(s);
      }),
      { numRuns: 10 },
    );
  });
});
