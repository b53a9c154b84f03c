// GET /user/users?id=&email=: the admin's look-up of the accounts behind orders (a page of orders' customers, or
// the one account of an email). Admin only; never a password hash; hostile ids and emails are a 400, never a 500.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { TEST_ADMIN, assertProblem, http, registerAccount, sql, type Account } from '@ecommerce/test-support';
import { base, db, startUserServiceForFile } from './harness.js';

startUserServiceForFile();

interface UserPage {
  items: { id: string; email: string; name: string; role: string; createdAt: string }[];
  nextCursor: string | null;
}

async function login(email: string, password: string): Promise<string> {
  const res = await http<{ accessToken: string }>(base, 'POST', '/user/login', { body: { email, password } });
  assert.equal(res.status, 200, res.text);
  return res.body.accessToken;
}

const UNKNOWN = '0192f3a4-5b6c-7d8e-9f01-23456789abcd';
let admin: string;
let customer: string;
let ada: Account;
let bob: Account;
const lookUp = (query: string, token?: string) => http<UserPage>(base, 'GET', `/user/users?${query}`, token ? { token } : {});

describe('GET /user/users?id=&email= (admin look-up)', () => {
  before(async () => {
    admin = await login(TEST_ADMIN.email, TEST_ADMIN.password);
    ada = await registerAccount(base, { tag: 'Ada' });
    bob = await registerAccount(base, { tag: 'Bob' });
    customer = await login(ada.email, ada.password);
  });

  it('when no token is sent, then 401; when a customer asks (even for their own id or email), then 403', async () => {
    for (const q of [`id=${ada.id}`, `email=${encodeURIComponent(ada.email)}`, `id=${bob.id}&id=${ada.id}`]) {
      assertProblem(await lookUp(q), 401);
      assertProblem(await lookUp(q, customer), 403, 'forbidden');
    }
  });

  it('when an admin asks for a batch of ids, then the known accounts answer, in id order, and an unknown id is simply absent', async () => {
    const res = await lookUp(`id=${bob.id}&id=${UNKNOWN}&id=${ada.id.toUpperCase()}&limit=100`, admin);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.items.map((u) => u.id), [ada.id, bob.id].sort());
    assert.deepEqual(res.body.items.map((u) => u.email).sort(), [ada.email, bob.email].map((e) => e.toLowerCase()).sort());
    assert.equal(res.body.nextCursor, null);
    for (const u of res.body.items) assert.deepEqual(Object.keys(u).sort(), ['createdAt', 'email', 'id', 'name', 'role']);
    assert.deepEqual((await lookUp(`id=${UNKNOWN}`, admin)).body, { items: [], nextCursor: null });
  });

  it('when the batch is longer than the page, then it pages like the list, each account once', async () => {
    const res1 = await lookUp(`id=${ada.id}&id=${bob.id}&limit=1`, admin);
    assert.equal(res1.status, 200, res1.text);
    assert.equal(res1.body.items.length, 1);
    assert.ok(res1.body.nextCursor);
    const res2 = await lookUp(`id=${ada.id}&id=${bob.id}&limit=1&cursor=${encodeURIComponent(res1.body.nextCursor)}`, admin);
    assert.deepEqual([...res1.body.items, ...res2.body.items].map((u) => u.id), [ada.id, bob.id].sort());
  });

  it('when an admin looks up an email (any letter case, exact), then that account; an unknown email or a part of one, then none', async () => {
    const res = await lookUp(`email=${encodeURIComponent(bob.email.toUpperCase())}`, admin);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.items.map((u) => u.id), [bob.id]);
    assert.deepEqual((await lookUp(`email=${encodeURIComponent(`nobody.${bob.email}`)}`, admin)).body, { items: [], nextCursor: null });
    // Exact, never a pattern: a LIKE wildcard or a prefix finds nothing (an email with a wildcard is refused, or matches none).
    for (const pattern of [`%${bob.email.slice(1)}`, `_${bob.email.slice(1)}`, `${bob.email.split('@')[0]}@%`, bob.email.slice(0, -1)]) {
      const res = await lookUp(`email=${encodeURIComponent(pattern)}`, admin);
      assert.ok(res.status === 400 || (res.status === 200 && res.body.items.length === 0), `${pattern}: ${res.status} ${res.text}`);
    }
    // Both filters: the account that matches both.
    assert.deepEqual((await lookUp(`email=${encodeURIComponent(bob.email)}&id=${ada.id}`, admin)).body.items, []);
    assert.deepEqual((await lookUp(`email=${encodeURIComponent(bob.email)}&id=${bob.id}`, admin)).body.items.map((u) => u.id), [bob.id]);
  });

  it('when an id is no UUID, the batch is over 100 ids, or the email is no email, then 400 problem+json naming the field', async () => {
    const cases: [string, string][] = [
      ['id=not-an-id', 'querystring/id/0'],
      [`id=${ada.id}&id=${ada.id}x`, 'querystring/id/1'],
      [`id=${"'; DROP TABLE users; --"}`, 'querystring/id/0'],
      [Array.from({ length: 101 }, () => `id=${ada.id}`).join('&'), 'querystring/id'],
      ['email=not-an-email', 'querystring/email'],
      [`email=${'a'.repeat(250)}%40example.test`, 'querystring/email'],
      [`email=${encodeURIComponent(ada.email)}&email=${encodeURIComponent(bob.email)}`, 'querystring/email'],
    ];
    for (const [q, path] of cases) {
      const problem = assertProblem(await lookUp(q, admin), 400, 'validation-failed');
      assert.ok((problem as { errors?: { path: string }[] }).errors?.some((e) => e.path === path), `${q.slice(0, 60)}: ${JSON.stringify(problem)}`);
    }
  });

  it('when an admin sends any text as ids and email, then the answer is 200 or 400, never a 5xx, and never holds a password hash or another field', async () => {
    const [hashed] = await sql<{ password_hash: string }>(db.urls.user, 'SELECT password_hash FROM users.users WHERE id = $1', [ada.id]);
    const hostile = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom(ada.id, ada.email, ada.id.toUpperCase(), `${ada.email}\u0000`, `${ada.id}'--`, '%', '_', '*', '\\', 'null', '[]', '{}', '__proto__', 'a@b'),
      fc.string({ unit: 'binary', maxLength: 30 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(hostile, { maxLength: 3 }), fc.option(hostile, { nil: undefined }), async (ids, email) => {
        const query = [...ids.map((i) => `id=${encodeURIComponent(i)}`), ...(email === undefined ? [] : [`email=${encodeURIComponent(email)}`])].join('&');
        const res = await lookUp(query, admin);
        assert.ok(res.status === 200 || res.status === 400, `${query}: ${res.status} ${res.text}`);
        assert.ok(!res.text.includes(hashed!.password_hash) && !/password|hash|secret/i.test(res.text), res.text);
        if (res.status === 200) for (const u of res.body.items) assert.deepEqual(Object.keys(u).sort(), ['createdAt', 'email', 'id', 'name', 'role']);
      }),
      { numRuns: 60 },
    );
  });
});
