// The user process SIGKILLed at moments fast-check chooses: two replicas starting at once on an empty database (the
// migrations, the service clients' sync and the admin's provisioning racing), one of them killed during its start-up;
// then registrations and logins (right and wrong passwords) at once, that replica killed in the middle; then started
// again with one service client taken out of the configuration. Every registration left without an answer is sent
// again until answered. Afterwards, by SQL and HTTP: one row per registered email, whole (its hash, name and role),
// each able to log in; one admin, the configured one, who logs in; the service clients exactly the configured ones,
// each granted a token; no login counter left holding attempts past PENDING_SECONDS (the right password logs in
// once they run out, never later). USER_CRASH_RUNS sets the number of generated runs (2; each about 5-40 s).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { createTestDatabase, freePort, http, spawnServiceProcess, sql, uniqueEmail, waitFor, type ServiceProcess, type TestDatabase } from '@ecommerce/test-support';
import { PENDING_SECONDS } from '../src/data/login-failure-repository.js';
import { GENEROUS_BUDGETS, testSigningKey } from './harness.js';

const ADMIN = { email: 'crash.admin@example.test', password: 'crash-Admin-Secret-5521' };
const CLIENTS = [
  { id: 'order-service', secret: 'order-service-crash-secret-0123456789', scopes: ['reservations:write', 'reservations:read'] },
  { id: 'report-service', secret: 'report-service-crash-secret-0123456789', scopes: ['reservations:read'] },
];
const PASSWORD = 'correct-horse-battery-7';

/** A user process on `port`; its `ready()` answers false once it has been SIGKILLed during its start-up. */
const spawnUserProcess = (env: Record<string, string>, port: number) =>
  spawnServiceProcess(fileURLToPath(new URL('../src/main.js', import.meta.url)), env, { port, name: 'user process', readyTimeoutMs: 30_000 });

describe('the user process SIGKILLed at generated moments', { timeout: 240_000 }, () => {
  const started: ServiceProcess[] = [];
  let db: TestDatabase | undefined;
  after(async () => {
    await Promise.all(started.map((p) => p.kill()));
  });

  it('property: after SIGKILLs at start-up (two replicas provisioning at once) and amid registrations and logins, nothing is half-written: whole accounts, one admin, the configured clients, no throttle stuck', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          startKillMs: fc.integer({ min: 0, max: 1500 }),
          registrations: fc.integer({ min: 2, max: 8 }),
          // Logins for the first account (it exists before the window): right (true) or wrong (false); at most 3 wrong,
          // under the 5 that lock the pair for a window (a lock is no stuck throttle).
          logins: fc.array(fc.boolean(), { maxLength: 6 }).filter((l) => l.filter((ok) => !ok).length <= 3),
          killMs: fc.integer({ min: 0, max: 400 }),
        }),
        async (plan) => {
          db = await createTestDatabase();
          try {
            const key = testSigningKey();
            const env = (clients: typeof CLIENTS) => ({
              ...GENEROUS_BUDGETS,
              // The pair's own limit as in production (5): the counters under test.
              LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '5',
              DATABASE_URL: db!.urls.user,
              LOG_LEVEL: 'silent',
              NODE_ENV: 'test',
              JWT_PRIVATE_KEY: key,
              SERVICE_CLIENTS: JSON.stringify(clients),
              ADMIN_EMAIL: ADMIN.email,
              ADMIN_PASSWORD: ADMIN.password,
            });
            // Two replicas start at once on an empty database; one is SIGKILLed during its start-up.
            const [a, b] = [spawnUserProcess(env(CLIENTS), await freePort()), spawnUserProcess(env(CLIENTS), await freePort())];
            started.push(a, b);
            await sleep(plan.startKillMs);
            b.child.kill('SIGKILL');
            assert.equal(await a.ready(), true);
            await b.ready();
            await b.exited;
            let base = a.base;

            const first = { email: uniqueEmail('crash'), password: PASSWORD };
            assert.equal((await http(base, 'POST', '/user/register', { body: { ...first, name: 'First' } })).status, 201);
            const emails = Array.from({ length: plan.registrations }, () => uniqueEmail('crash'));
            const answers = new Map<string, number>();
            const register = (email: string, at: string) =>
              http(at, 'POST', '/user/register', { body: { email, password: PASSWORD, name: 'Crash' } }).then(
                (r) => void answers.set(email, r.status),
                () => undefined,
              );
            // The window: registrations and logins at once, the process SIGKILLed amid them.
            const work = [
              ...emails.map((e) => register(e, base)),
              ...plan.logins.map((ok) => http(base, 'POST', '/user/login', { body: { email: first.email, password: ok ? PASSWORD : 'wrong-password-123' } }).catch(() => null)),
            ];
            await sleep(plan.killMs);
            await a.kill();
            await Promise.all(work);

            // Started again with the second client taken out of the configuration.
            const again = spawnUserProcess(env(CLIENTS.slice(0, 1)), await freePort());
            started.push(again);
            assert.equal(await again.ready(), true);
            base = again.base;
            for (const email of emails) {
              for (let t = 0; answers.get(email) !== 201 && answers.get(email) !== 409; t++) {
                assert.ok(t < 40, `registration of ${email} never answered: ${answers.get(email)}`);
                await register(email, base);
                if (answers.get(email) === 503) await sleep(100);
              }
            }

            // Whole accounts: one row per email, each with its hash, name and role, each logs in.
            const rows = await sql<{ email: string; n: number; whole: boolean }>(
              db.urls.user,
              `SELECT email, count(*)::int AS n, bool_and(password_hash LIKE '$argon2id$%' AND name <> '' AND role = 'customer') AS whole
               FROM users.users WHERE email = ANY($1::text[]) GROUP BY email`,
              [emails],
            );
            assert.equal(rows.length, emails.length, `${rows.length} of ${emails.length} accounts`);
            for (const r of rows) assert.deepEqual([r.n, r.whole], [1, true], r.email);
            for (const email of emails) assert.equal((await http(base, 'POST', '/user/login', { body: { email, password: PASSWORD } })).status, 200, email);

            // One admin, the configured one, who logs in.
            const admins = await sql<{ email: string }>(db.urls.user, "SELECT email FROM users.users WHERE role = 'admin'");
            assert.deepEqual(admins, [{ email: ADMIN.email }]);
            assert.equal((await http(base, 'POST', '/user/login', { body: ADMIN })).status, 200);

            // The service clients are the configured ones: the one taken out is refused, the other granted.
            const clients = await sql<{ id: string }>(db.urls.user, 'SELECT id FROM users.service_clients ORDER BY id');
            assert.deepEqual(clients, [{ id: CLIENTS[0]!.id }]);
            const grant = (c: (typeof CLIENTS)[number]) =>
              http(base, 'POST', '/user/oauth/token', { body: { grant_type: 'client_credentials', client_id: c.id, client_secret: c.secret } });
            assert.equal((await grant(CLIENTS[0]!)).status, 200);
            assert.equal((await grant(CLIENTS[1]!)).status, 401);

            // No throttle stuck: attempts the kill left counted stop counting within PENDING_SECONDS of their run.
            const counters = await sql<{ key: string; pending: number; failures: number; left: number | null }>(
              db.urls.user,
              'SELECT key, pending, failures, EXTRACT(EPOCH FROM pending_until - now())::float8 AS left FROM users.login_failures',
            );
            for (const c of counters) {
              assert.ok(c.pending <= plan.logins.length, `${c.key}: ${c.pending} attempts counted of ${plan.logins.length} sent`);
              assert.ok(c.left === null || c.left <= PENDING_SECONDS, `${c.key}: attempts counted for ${c.left} s more`);
              assert.ok(c.failures <= plan.logins.filter((ok) => !ok).length, `${c.key}: ${c.failures} failures`);
            }
            // The right password logs in, at the latest once those attempts ran out.
            const ms = await waitFor(
              'the right password logs in',
              async () => (await http(base, 'POST', '/user/login', { body: first })).status === 200,
              (PENDING_SECONDS + 5) * 1000,
            );
            console.log(`# run: ${counters.map((c) => `${c.pending} pending, ${c.failures} failed`).join('; ')}; the right password in after ${Math.round(ms)} ms`);
            await again.kill('SIGTERM');
          } finally {
            await Promise.all(started.map((p) => p.kill()));
            started.length = 0;
            await db?.drop();
          }
        },
      ),
      { numRuns: Number(process.env.USER_CRASH_RUNS ?? 2), endOnFailure: true },
    );
  });
});
