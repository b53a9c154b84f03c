// A registration whose answer was lost (a timeout, a gateway 504, a connection cut after the COMMIT) sent again with
// its Idempotency-Key answers the account it made, 201, instead of telling the person who just registered that their
// email is taken (409). The same key with another body is a 422; copies racing make one account and answer alike;
// a refused registration keeps no key; keys are pruned past REGISTER_KEY_RETENTION_HOURS. Without a key, nothing
// changed: the second registration of an email is a 409 as before.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CONTROL_CHARACTER_KEYS, assertProblem, http, metricValue, rawExchange, rawKeyedPost, sql, uniqueEmail, waitFor } from '@ecommerce/test-support';
import { base, db, startUserServiceForFile } from './harness.js';

startUserServiceForFile({ REGISTER_KEY_PRUNE_INTERVAL_MS: '200' });

interface User {
  id: string;
  email: string;
  name: string;
  role: string;
  createdAt: string;
}

interface Body {
  email: string;
  password: string;
  name: string;
}

const body = (tag: string): Body => ({ email: uniqueEmail(tag), password: `retry-pass-${randomUUID()}`, name: 'Ada Lovelace' });

const register = (b: Body, key?: string, target = base) =>
  http<User>(target, 'POST', '/user/register', { body: b, headers: key === undefined ? {} : { 'idempotency-key': key } });

const accounts = async (...emails: string[]) =>
  (await sql<{ n: number }>(db.urls.user, 'SELECT count(*)::int AS n FROM users.users WHERE email = ANY($1::text[])', [emails.map((e) => e.toLowerCase())]))[0]!.n;

const keyRows = async (key: string) => (await sql<{ n: number }>(db.urls.user, 'SELECT count(*)::int AS n FROM users.registration_keys WHERE idempotency_key = $1', [key]))[0]!.n;

/**
 * A loopback proxy to the user service that loses the answers of registrations: each is forwarded whole, and once
 * the user service has answered (it answers after its COMMIT), the client's connection is cut without an answer.
 */
let cutting: { base: string; server: Server; cut: number };
before(async () => {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const to = new URL(base);
      const up = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        upRes.resume();
        upRes.on('end', () => {
          cutting.cut++;
          res.socket?.destroy();
        });
      });
      up.on('error', () => res.destroy());
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cutting = { base: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, cut: 0 };
});
after(
  () =>
    new Promise<void>((resolve) => {
      cutting.server.closeAllConnections();
      cutting.server.close(() => resolve());
    }),
);

/** Sends the registration through the cutting proxy: its answer is lost after the user service committed it. */
async function registerAnswerLost(b: Body, key?: string): Promise<void> {
  const before = cutting.cut;
  await assert.rejects(register(b, key, cutting.base), 'the answer was cut');
  assert.equal(cutting.cut, before + 1, 'the user service answered before the cut');
}

describe('a registration sent again after its answer was lost', () => {
  it('when the answer is cut after the commit and the same registration is sent again with its Idempotency-Key, then 201 with the account made, and there is one account', async () => {
    const b = body('lost');
    const key = randomUUID();
    await registerAnswerLost(b, key);
    const [made] = await sql<{ id: string }>(db.urls.user, 'SELECT id FROM users.users WHERE email = $1', [b.email]);
    assert.ok(made, 'the first try committed');
    for (let i = 0; i < 3; i++) {
      const again = await register(b, key);
      assert.equal(again.status, 201, again.text);
      assert.equal(again.body.id, made.id);
      assert.deepEqual(Object.keys(again.body).sort(), ['createdAt', 'email', 'id', 'name', 'role']);
      assert.equal(again.body.email, b.email.toLowerCase());
    }
    assert.equal(await accounts(b.email), 1);
    // The account is the person's: they sign in with the password they chose.
    assert.equal((await http(base, 'POST', '/user/login', { body: { email: b.email, password: b.password } })).status, 200);
  });

  it('when answered, then a retry with the key answers exactly what the first answer said', async () => {
    const b = body('same');
    const key = randomUUID();
    const first = await register(b, key);
    assert.equal(first.status, 201, first.text);
    const again = await register(b, key);
    assert.equal(again.status, 201, again.text);
    assert.deepEqual(again.body, first.body);
  });

  it('when the answer is cut and the registration is sent again without a key, then 409 email-taken as before', async () => {
    const b = body('nokey');
    await registerAnswerLost(b);
    assertProblem(await register(b), 409, 'email-taken');
    // A key sent only on the retry names nothing the first try made: the email is taken, and the key is not kept.
    const late = randomUUID();
    assertProblem(await register(b, late), 409, 'email-taken');
    assert.equal(await keyRows(late), 0);
    assert.equal(await accounts(b.email), 1);
  });

  it('when the key is stored, then nothing of the password is: only the key, the account and a digest of email and name', async () => {
    const b = body('stored');
    const key = randomUUID();
    assert.equal((await register(b, key)).status, 201);
    const rows = await sql<Record<string, unknown>>(db.urls.user, 'SELECT * FROM users.registration_keys WHERE idempotency_key = $1', [key]);
    assert.equal(rows.length, 1);
    assert.deepEqual(Object.keys(rows[0]!).sort(), ['created_at', 'idempotency_key', 'request_digest', 'user_id']);
    const [digest] = await sql<{ sha: boolean }>(db.urls.user, "SELECT request_digest = sha256(convert_to($1, 'UTF8')) OR request_digest = sha256(convert_to($2, 'UTF8')) AS sha FROM users.registration_keys WHERE idempotency_key = $3", [b.password, JSON.stringify(b), key]);
    assert.equal(digest!.sha, false, 'the digest is of neither the password nor the body');
    assert.doesNotMatch(JSON.stringify(rows[0]), new RegExp(b.password));
  });
});

describe('the same key with another registration', () => {
  it('for any field changed (property), then 422 idempotency-key-reused, nothing made, and the key still answers its own registration', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('email' as const, 'password' as const, 'name' as const, 'email case' as const), async (change) => {
        const b = body('reused');
        const key = randomUUID();
        const first = await register(b, key);
        assert.equal(first.status, 201, first.text);
        const other: Body =
          change === 'email' ? { ...b, email: uniqueEmail('other') } : change === 'password' ? { ...b, password: `${b.password}!` } : change === 'name' ? { ...b, name: 'Grace Hopper' } : { ...b, email: b.email.toUpperCase() };
        assertProblem(await register(other, key), 422, 'idempotency-key-reused');
        assert.equal(await accounts(b.email, other.email), 1);
        assert.deepEqual((await register(b, key)).body, first.body);
      }),
      { numRuns: 8 },
    );
  });
});

describe('refused registrations keep no key', () => {
  it('when the email has another person\'s account (409) or the body is refused (400), then the key is not kept and names the next registration sent with it', async () => {
    const theirs = body('theirs');
    assert.equal((await register(theirs)).status, 201);
    const key = randomUUID();
    assertProblem(await register({ ...body('mine'), email: theirs.email }, key), 409, 'email-taken');
    assert.equal(await keyRows(key), 0);
    assertProblem(await register({ ...body('weak'), password: 'password123' }, key), 400);
    assertProblem(await register({ ...body('short'), name: '' }, key), 400);
    assert.equal(await keyRows(key), 0);
    const mine = body('mine');
    const res = await register(mine, key);
    assert.equal(res.status, 201, res.text);
    assert.equal(await keyRows(key), 1);
  });

  it('when the key is empty, over 255 characters, holds a control character or is sent on two lines, then 400 (a problem) and no account', async () => {
    for (const key of ['', 'k'.repeat(256)]) {
      const b = body('badkey');
      const res = await register(b, key);
      assertProblem(res, 400);
      assert.match(res.text, /headers\/idempotency-key/);
      assert.equal(await accounts(b.email), 0);
    }
    for (const key of CONTROL_CHARACTER_KEYS) {
      const b = body('ctlkey');
      assert.match(await rawKeyedPost(base, '/user/register', key, b), /^HTTP\/1\.1 400 [\s\S]*content-type: application\/problem\+json/i, JSON.stringify(key));
      assert.equal(await accounts(b.email), 0);
    }
    // Two lines are one key each (Node would join them as "k, k", a key of its own): refused, not taken as a new key.
    const b = body('twokeys');
    const json = JSON.stringify(b);
    const answer = await rawExchange(base, `POST /user/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: k\r\nIdempotency-Key: k\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
    assert.match(answer, /^HTTP\/1\.1 400 [\s\S]*"path":"headers\/idempotency-key"/);
    assert.equal(await accounts(b.email), 0);
    assert.equal((await register(body('longkey'), 'k'.repeat(255))).status, 201);
  });
});

describe('copies of one registration racing each other', () => {
  it('for any number of copies and bodies sent at any moments (property), one account is made, every copy of its body answers it, and every other body is a 422', async () => {
    const variant = fc.constantFrom('same' as const, 'same' as const, 'password' as const, 'name' as const, 'email' as const);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ variant, delayMs: fc.integer({ min: 0, max: 60 }) }), { minLength: 2, maxLength: 5 }), async (copies) => {
        const b = body('race');
        const otherEmail = uniqueEmail('race-other');
        const bodyOf = (v: (typeof copies)[number]['variant']): Body =>
          v === 'same' ? b : v === 'password' ? { ...b, password: `${b.password}?` } : v === 'name' ? { ...b, name: 'Grace Hopper' } : { ...b, email: otherEmail };
        const key = randomUUID();
        const answers = await Promise.all(copies.map(async (c) => (await sleep(c.delayMs), register(bodyOf(c.variant), key))));
        const made = answers.filter((a) => a.status === 201);
        assert.ok(made.length >= 1, `statuses ${answers.map((a) => a.status).join(', ')}`);
        assert.equal(new Set(made.map((a) => JSON.stringify(a.body))).size, 1, 'every 201 answers the same account');
        const winner = copies[answers.indexOf(made[0]!)]!.variant;
        // Each variant is a body of its own: a copy of the winner's variant sends the body that made the account.
        copies.forEach((c, i) => {
          if (c.variant === winner) assert.equal(answers[i]!.status, 201, `a copy of the winning body (${c.variant}): ${answers[i]!.text}`);
          else assertProblem(answers[i]!, 422, 'idempotency-key-reused');
        });
        assert.equal(await accounts(b.email, otherEmail), 1, 'one account made');
        assert.equal(await keyRows(key), 1);
        assert.equal(made[0]!.body.id, (await sql<{ user_id: string }>(db.urls.user, 'SELECT user_id FROM users.registration_keys WHERE idempotency_key = $1', [key]))[0]!.user_id);
      }),
      { numRuns: 12 },
    );
  });
});

describe('pruning registration keys', () => {
  it('when a key is older than REGISTER_KEY_RETENTION_HOURS (24), then the prune deletes it and keeps younger ones, the account stays, and user_registration_keys_pruned_total counts each key deleted', async () => {
    const old = body('old');
    const fresh = body('fresh');
    const oldKey = randomUUID();
    const freshKey = randomUUID();
    assert.equal((await register(old, oldKey)).status, 201);
    assert.equal((await register(fresh, freshKey)).status, 201);
    // Two more old keys: the counter must move by the keys deleted, not by passes or batches.
    const others = [randomUUID(), randomUUID()];
    for (const key of others) assert.equal((await register(body('old-other'), key)).status, 201);
    const prunedSoFar = async () => metricValue((await http(base, 'GET', '/metrics')).text, 'user_registration_keys_pruned_total');
    const prunedBefore = await prunedSoFar();
    await sql(db.urls.user, "UPDATE users.registration_keys SET created_at = now() - interval '25 hours' WHERE idempotency_key = ANY($1::text[])", [[oldKey, ...others]]);
    await waitFor('the old keys pruned', async () => (await keyRows(oldKey)) + (await keyRows(others[0]!)) + (await keyRows(others[1]!)) === 0, 5000);
    await sleep(500); // two more passes
    assert.equal(await keyRows(freshKey), 1);
    // docs/configuration.md: the counter is the keys the prune deleted, these three and no other.
    assert.equal((await prunedSoFar()) - prunedBefore, 3, 'user_registration_keys_pruned_total moved by the keys deleted');
    assert.equal(await accounts(old.email), 1);
    // Past its retention the key names nothing: the same registration again is a new one, and the email is taken.
    assertProblem(await register(old, oldKey), 409, 'email-taken');
    assert.equal((await register(fresh, freshKey)).status, 201);
  });
});
