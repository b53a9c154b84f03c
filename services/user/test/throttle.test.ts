// Login throttling and request budgets (OWASP Authentication Cheat Sheet), which address is believed,
// and the caching of token answers. Client addresses are simulated the way the real deployment
// reports them: the test client sits on loopback, a trusted proxy hop, and says X-Forwarded-For.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError, Database, Metrics } from '@ecommerce/kit';
import { ORDER_CLIENT, assertProblem, createTestDatabase, databaseProxy, http, registerAccount, sql, stopAllIfItFails, uniqueEmail, type Running, type TestDatabase } from '@ecommerce/test-support';
import { LoginFailureRepository } from '../src/data/login-failure-repository.js';
import { LoginThrottle } from '../src/model/login-throttle.js';
import { startUserService } from './harness.js';

let db: TestDatabase;
const running: Running[] = [];

before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await Promise.all(running.map((r) => r.close()));
  await db?.drop();
});

async function service(env: Record<string, string>): Promise<string> {
  const svc = await startUserService(db.urls.user, { TRUST_PROXY: 'loopback', ...env });
  running.push(svc);
  return svc.base;
}

let addresses = 0;
/** A fresh public address per call (the file has its own database), so tests never share a counter. */
const freshAddress = () => {
  addresses++;
  return `100.64.${Math.floor(addresses / 250)}.${(addresses % 250) + 1}`;
};

const from = (address: string) => ({ 'x-forwarded-for': address });

type IPv6Form = 'full' | 'upper' | 'short';
/** Eight groups as an IPv6 address is written: every group in four digits, in capitals, or shortened (a run of zero groups as ::). */
function ipv6Text(groups: number[], form: IPv6Form): string {
  const text = groups.map((g) => (form === 'full' ? g.toString(16).padStart(4, '0') : g.toString(16))).join(':');
  if (form === 'upper') return text.toUpperCase();
  return form === 'short' ? text.replace(/(^|:)0(:0)+(:|$)/, '::') : text;
}

const register = (base: string, address = freshAddress()) => registerAccount(base, { headers: from(address) });
const login = (base: string, email: string, password: string, address: string) => http(base, 'POST', '/user/login', { body: { email, password }, headers: from(address) });

describe('failed logins', () => {
  it('when a stranger fails against an account from their address, then they are refused, and the owner still logs in from another address', async () => {
    const base = await service({ LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '3' });
    const u = await register(base);
    const stranger = freshAddress();
    for (let i = 0; i < 3; i++) assertProblem(await login(base, u.email, 'wrong-password', stranger), 401);
    // the pair is refused, even with the right password (the stranger may have guessed it)
    const refused = await login(base, u.email, u.password, stranger);
    assertProblem(refused, 429, 'too-many-requests');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    // the owner, elsewhere, is not locked out: no account-wide lock a stranger can trigger
    assert.equal((await login(base, u.email, u.password, freshAddress())).status, 200);
    assert.equal((await login(base, u.email.toUpperCase(), u.password, freshAddress())).status, 200);
  });

  it('when many strangers each fail against one account, then the owner from their own address still logs in', async () => {
    const base = await service({ LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '2' });
    const u = await register(base);
    for (let s = 0; s < 5; s++) {
      const stranger = freshAddress();
      for (let i = 0; i < 3; i++) await login(base, u.email, 'wrong-password', stranger);
    }
    assert.equal((await login(base, u.email, u.password, freshAddress())).status, 200);
  });

  it('when a right password follows a few failures, then the pair starts over', async () => {
    const base = await service({ LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '3' });
    const u = await register(base);
    const me = freshAddress();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) assertProblem(await login(base, u.email, 'wrong-password', me), 401);
      assert.equal((await login(base, u.email, u.password, me)).status, 200);
    }
  });

  it('when guesses for one account arrive all at once from one address, then no more are checked than the budget allows', async () => {
    const base = await service({ LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '5', LOGIN_MAX_FAILURES_PER_ADDRESS: '1000', LOGIN_MAX_PER_ADDRESS: '1000' });
    const u = await register(base);
    const attacker = freshAddress();
    // 24 wrong guesses, all in flight together (each a few ms of argon2).
    const answers = await Promise.all(Array.from({ length: 24 }, () => login(base, u.email, 'wrong-password', attacker)));
    const checked = answers.filter((r) => r.status === 401).length;
    const refused = answers.filter((r) => r.status === 429);
    assert.equal(checked, 5, answers.map((r) => r.status).join(' '));
    assert.equal(checked + refused.length, answers.length, answers.map((r) => r.status).join(' '));
    // Those that waited for the first five learned of the lock they earned: refused for the window.
    for (const r of refused) assert.ok(Number(r.headers.get('retry-after')) > 60, `Retry-After ${r.headers.get('retry-after')}`);
    // The pair stays locked after the burst, even for the right password.
    assertProblem(await login(base, u.email, u.password, attacker), 429, 'too-many-requests');
    // The owner elsewhere is unaffected.
    assert.equal((await login(base, u.email, u.password, freshAddress())).status, 200);
  });

  it('when more right logins for one account arrive at once from one address than the failure budget, then each waits its turn and all succeed', async () => {
    // A script or a container test logging in from many workers: each attempt counts as a failure until its
    // password is checked, so the sixth waits for the first five instead of being refused for the window.
    const base = await service({ LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '3', LOGIN_MAX_PER_ADDRESS: '1000' });
    const u = await register(base);
    const me = freshAddress();
    const answers = await Promise.all(Array.from({ length: 16 }, () => login(base, u.email, u.password, me)));
    assert.deepEqual(answers.map((r) => r.status), Array(16).fill(200));
    // Nothing is left counted: three wrong passwords are still needed to lock the pair.
    for (let i = 0; i < 2; i++) assertProblem(await login(base, u.email, 'wrong-password', me), 401);
    assert.equal((await login(base, u.email, u.password, me)).status, 200);
  });

  it('when a typo is among right logins sent at once, then every right one still succeeds: only settled failures lock', async () => {
    // The lock used to be decided on a count holding the right logins still being checked: a waiter that looked in
    // that gap was told Retry-After 900.
    const base = await service({ LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '3', LOGIN_MAX_PER_ADDRESS: '1000' });
    const u = await register(base);
    const me = freshAddress();
    for (let round = 0; round < 3; round++) {
      const passwords = [...Array(12).fill(u.password), 'wrong-password'];
      const answers = await Promise.all(passwords.map((password) => login(base, u.email, password, me)));
      assert.deepEqual(answers.map((r) => r.status), [...Array(12).fill(200), 401], `round ${round}`);
    }
  });

  it('when an office behind one address has failures near its budget, then colleagues logging in rightly at once with one typo all get in', async () => {
    const base = await service({ LOGIN_MAX_FAILURES_PER_ADDRESS: '5', LOGIN_MAX_PER_ADDRESS: '1000' });
    const office = freshAddress();
    for (let i = 0; i < 3; i++) assertProblem(await login(base, uniqueEmail(), 'wrong-password', office), 401);
    const colleagues = await Promise.all(Array.from({ length: 10 }, () => register(base)));
    const answers = await Promise.all([...colleagues.map((c) => login(base, c.email, c.password, office)), login(base, colleagues[0]!.email, 'wrong-password', office)]);
    assert.deepEqual(answers.map((r) => r.status), [...Array(10).fill(200), 401]);
    // Four settled failures: one more locks the address.
    assertProblem(await login(base, uniqueEmail(), 'wrong-password', office), 401);
    assertProblem(await login(base, colleagues[1]!.email, colleagues[1]!.password, office), 429, 'too-many-requests');
  });

  it('when two replicas share the database, then failures at either count together', async () => {
    const env = { LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '4' };
    const [a, b] = [await service(env), await service(env)];
    const u = await register(a);
    const stranger = freshAddress();
    for (let i = 0; i < 4; i++) assertProblem(await login(i % 2 ? a : b, u.email, 'wrong-password', stranger), 401);
    assertProblem(await login(a, u.email, u.password, stranger), 429, 'too-many-requests');
    assertProblem(await login(b, u.email, u.password, stranger), 429, 'too-many-requests');
  });
});

describe('which client address is believed', () => {
  it('when a client puts addresses left of what its proxy reports, then only the proxy hop counts (rotating them dodges nothing)', async () => {
    // The client's real address is private (an office NAT), the service trusts private proxies: the
    // old trust walked the chain through every trusted hop and took the client's own left-most entry.
    const base = await service({ TRUST_PROXY: 'loopback,uniquelocal', LOGIN_MAX_FAILURES_PER_ADDRESS: '3', LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '100' });
    const real = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.7`;
    for (let i = 0; i < 3; i++) {
      assertProblem(await login(base, uniqueEmail(), 'wrong-password', `198.51.100.${i + 1}, ${real}`), 401);
    }
    const u = await register(base);
    assertProblem(await login(base, u.email, u.password, `198.51.100.99, ${real}`), 429, 'too-many-requests');
    // the address a client names is not locked by those failures
    assert.equal((await login(base, u.email, u.password, '198.51.100.1')).status, 200);
  });

  it('when guesses against one account come from many addresses of one IPv6 /64 (however written), then they count as one address; another /64 and IPv4 are apart, and an IPv4-mapped address is its IPv4', async () => {
    // One host or home network is given a /64: counted per address, it had 2^64 budgets of guesses against an account.
    const base = await service({ LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '3', LOGIN_MAX_FAILURES_PER_ADDRESS: '1000' });
    const hextet = fc.integer({ min: 0, max: 0xffff });
    const forms = fc.array(fc.constantFrom<IPv6Form>('full', 'upper', 'short'), { minLength: 4, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(fc.tuple(hextet, hextet), fc.array(fc.tuple(hextet, hextet, hextet, hextet), { minLength: 4, maxLength: 4 }), forms, async (network, hosts, written) => {
        const prefix = [0x2001, 0xdb8, ...network];
        const u = await register(base);
        const addresses = hosts.map((h, i) => ipv6Text([...prefix, ...h], written[i]!));
        for (const a of addresses.slice(0, 3)) assertProblem(await login(base, u.email, 'wrong-password', a), 401);
        assertProblem(await login(base, u.email, u.password, addresses[3]!), 429, 'too-many-requests');
        const otherNetwork = ipv6Text([...prefix.slice(0, 3), (prefix[3]! + 1) % 0x10000, ...hosts[0]!], 'short');
        assert.equal((await login(base, u.email, u.password, otherNetwork)).status, 200);
      }),
      { numRuns: 6 },
    );
    const u = await register(base);
    const v4 = freshAddress();
    for (let i = 0; i < 3; i++) assertProblem(await login(base, u.email, 'wrong-password', i % 2 ? `::ffff:${v4}` : v4), 401);
    assertProblem(await login(base, u.email, u.password, `::FFFF:${v4}`), 429, 'too-many-requests');
    assert.equal((await login(base, u.email, u.password, freshAddress())).status, 200);
  });

  it('when the proxy reports the client with its port (a.b.c.d:port, [IPv6]:port, as some load balancers write X-Forwarded-For), then every port counts as its address: new connections dodge nothing', async () => {
    const base = await service({ LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '3', LOGIN_MAX_FAILURES_PER_ADDRESS: '1000' });
    const port = fc.integer({ min: 1, max: 65535 });
    await fc.assert(
      fc.asyncProperty(fc.array(port, { minLength: 4, maxLength: 4 }), fc.boolean(), fc.integer({ min: 1, max: 0xffff - 3 }), async (ports, v6, host) => {
        const u = await register(base);
        const v4 = freshAddress();
        // A /64 of its own per run, as v4 is.
        const net = `2001:db8:${addresses.toString(16)}:7`;
        // host + i is the last group of the address (at most ffff: 65533 + 3 wrote 10000, no IPv6 address: a full run failed so).
        const at = (p: number, i: number) => (v6 ? `[${net}::${(host + i).toString(16)}]:${p}` : `${v4}:${p}`);
        for (const [i, p] of ports.slice(0, 3).entries()) assertProblem(await login(base, u.email, 'wrong-password', at(p, i)), 401);
        assertProblem(await login(base, u.email, u.password, at(ports[3]!, 3)), 429, 'too-many-requests');
        // The address without a port is the same address, locked too.
        assertProblem(await login(base, u.email, u.password, v6 ? `${net}::1` : v4), 429, 'too-many-requests');
      }),
      { numRuns: 6, examples: [[[1, 1, 1, 1], true, 0xffff - 3]] },
    );
  });

  it('when one IPv6 /64 registers from many of its addresses, then they share one registration budget', async () => {
    const base = await service({ REGISTER_MAX_PER_ADDRESS: '3', AUTH_RATE_WINDOW_SECONDS: '600' });
    const group = () => Math.floor(Math.random() * 0x10000).toString(16);
    const net = `2001:db8:${group()}:${group()}`;
    const statuses = [];
    for (let i = 1; i <= 4; i++) {
      const res = await http(base, 'POST', '/user/register', { body: { email: uniqueEmail(), password: 'correct-horse-1', name: 'Ada' }, headers: from(`${net}::${i.toString(16)}`) });
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [201, 201, 201, 429]);
  });

  it('when TRUST_PROXY is none, then X-Forwarded-For is ignored and the peer address counts', async () => {
    const base = await service({ TRUST_PROXY: 'none', LOGIN_MAX_FAILURES_PER_ADDRESS: '2', LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '100' });
    for (let i = 0; i < 2; i++) assertProblem(await login(base, uniqueEmail(), 'wrong-password', freshAddress()), 401);
    assertProblem(await login(base, uniqueEmail(), 'wrong-password', freshAddress()), 429, 'too-many-requests');
  });

  it('when TRUST_PROXY is not an address, range or known name, then the service refuses to start', async () => {
    await assert.rejects(service({ TRUST_PROXY: 'loopback,the-ingress' }), /TRUST_PROXY/);
  });
});

describe('request budgets per client address', () => {
  it('when one address registers more than REGISTER_MAX_PER_ADDRESS per window, then 429 problem with Retry-After; other addresses are not affected', async () => {
    const base = await service({ REGISTER_MAX_PER_ADDRESS: '3', AUTH_RATE_WINDOW_SECONDS: '600' });
    const flood = freshAddress();
    // Passwords refused as too easy to guess cost no hash: they do not use up the budget.
    for (let i = 0; i < 5; i++) {
      const weak = await http(base, 'POST', '/user/register', { body: { email: uniqueEmail(), password: '12345678', name: 'W' }, headers: from(flood) });
      assertProblem(weak, 400, 'validation-failed');
    }
    for (let i = 0; i < 3; i++) await register(base, flood);
    const email = uniqueEmail();
    const res = await http(base, 'POST', '/user/register', { body: { email, password: 'correct-horse-1', name: 'Ada' }, headers: from(flood) });
    const p = assertProblem(res, 429, 'too-many-requests');
    assert.match(p.detail, /register/);
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 600, `Retry-After ${retryAfter}`);
    // nothing was created by the refused request
    const again = await http(base, 'POST', '/user/register', { body: { email, password: 'correct-horse-1', name: 'Ada' }, headers: from(freshAddress()) });
    assert.equal(again.status, 201, again.text);
  });

  it('when one address logs in successfully more than LOGIN_MAX_PER_ADDRESS times, then 429 (each costs a password hash)', async () => {
    const base = await service({ LOGIN_MAX_PER_ADDRESS: '3' });
    const u = await register(base);
    const me = freshAddress();
    for (let i = 0; i < 3; i++) assert.equal((await login(base, u.email, u.password, me)).status, 200);
    const res = await login(base, u.email, u.password, me);
    assertProblem(res, 429, 'too-many-requests');
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    assert.equal((await login(base, u.email, u.password, freshAddress())).status, 200);
  });

  it('when one address calls the token endpoints more than TOKEN_MAX_PER_ADDRESS times, then 429 on refresh and on the client-credentials grant', async () => {
    const base = await service({ TOKEN_MAX_PER_ADDRESS: '3' });
    const u = await register(base);
    const me = freshAddress();
    let refreshToken = String((await login(base, u.email, u.password, freshAddress())).body.refreshToken);
    for (let i = 0; i < 2; i++) {
      const r = await http(base, 'POST', '/user/token/refresh', { body: { refreshToken }, headers: from(me) });
      assert.equal(r.status, 200, r.text);
      refreshToken = String(r.body.refreshToken);
    }
    const grant = { grant_type: 'client_credentials', client_id: ORDER_CLIENT.id, client_secret: ORDER_CLIENT.secret };
    assert.equal((await http(base, 'POST', '/user/oauth/token', { body: grant, headers: from(me) })).status, 200);
    assertProblem(await http(base, 'POST', '/user/oauth/token', { body: grant, headers: from(me) }), 429, 'too-many-requests');
    assertProblem(await http(base, 'POST', '/user/token/refresh', { body: { refreshToken }, headers: from(me) }), 429, 'too-many-requests');
    // the refused refresh did not spend the token
    assert.equal((await http(base, 'POST', '/user/token/refresh', { body: { refreshToken }, headers: from(freshAddress()) })).status, 200);
  });

  it('when two replicas share the database, then they share one budget', async () => {
    const env = { REGISTER_MAX_PER_ADDRESS: '4' };
    const [a, b] = [await service(env), await service(env)];
    const flood = freshAddress();
    for (let i = 0; i < 4; i++) await register(i % 2 ? a : b, flood);
    const body = { email: uniqueEmail(), password: 'correct-horse-1', name: 'Ada' };
    assertProblem(await http(a, 'POST', '/user/register', { body, headers: from(flood) }), 429);
    assertProblem(await http(b, 'POST', '/user/register', { body, headers: from(flood) }), 429);
  });

  it('when many registrations race from one address, then exactly the budget succeeds', async () => {
    const base = await service({ REGISTER_MAX_PER_ADDRESS: '5' });
    const flood = freshAddress();
    const statuses = await Promise.all(
      Array.from({ length: 12 }, () => http(base, 'POST', '/user/register', { body: { email: uniqueEmail(), password: 'correct-horse-1', name: 'Ada' }, headers: from(flood) }).then((r) => r.status)),
    );
    assert.deepEqual(statuses.sort(), [...Array(5).fill(201), ...Array(7).fill(429)]);
  });
});

describe('the settings of the throttles and budgets', () => {
  const settings = ['LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS', 'LOGIN_MAX_FAILURES_PER_ADDRESS', 'LOGIN_FAILURE_WINDOW_SECONDS', 'AUTH_RATE_WINDOW_SECONDS', 'REGISTER_MAX_PER_ADDRESS', 'LOGIN_MAX_PER_ADDRESS', 'TOKEN_MAX_PER_ADDRESS'];

  it('when an operator gives any whole number to a count or window, then the service either refuses to start naming it, or answers register and login as it should (never 500)', async () => {
    // Accepted before with no bound: LOGIN_MAX_FAILURES_PER_ADDRESS=3000000000 (an integer column) or a window of 2^53 s
    // (now() - it is out of PostgreSQL's range), and then every login answered 500.
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...settings),
        fc.oneof(fc.integer({ min: 1, max: 2 ** 31 + 10 }), fc.integer({ min: 2 ** 31 - 10, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(2 ** 31 - 1, 2 ** 31, 365 * 86400, 365 * 86400 + 1)),
        async (name, value) => {
          let svc: Running;
          try {
            svc = await startUserService(db.urls.user, { TRUST_PROXY: 'loopback', [name]: String(value) });
          } catch (err) {
            assert.ok(err instanceof ConfigError, String(err));
            assert.match(err.problems.join('\n'), new RegExp(`^${name}: expected a whole number from 1 to \\d+ \\(got "${value}"\\)$`));
            return;
          }
          try {
            const u = await register(svc.base);
            assertProblem(await login(svc.base, u.email, 'wrong-password', freshAddress()), 401);
            const session = await login(svc.base, u.email, u.password, freshAddress());
            assert.equal(session.status, 200, `${name}=${value}: login ${session.status}`);
          } finally {
            await svc.close();
          }
        },
      ),
      { numRuns: 8, examples: [['LOGIN_MAX_FAILURES_PER_ADDRESS', 3_000_000_000], ['AUTH_RATE_WINDOW_SECONDS', Number.MAX_SAFE_INTEGER], ['LOGIN_FAILURE_WINDOW_SECONDS', 365 * 86400]] },
    );
  });
});

describe('token answers are never cached', () => {
  const noStore = (res: { headers: Headers; status: number }, what: string) => {
    assert.equal(res.headers.get('cache-control'), 'no-store', `${what} (${res.status})`);
    assert.equal(res.headers.get('pragma'), 'no-cache', `${what} (${res.status})`);
  };

  it('when login, refresh, logout and the client-credentials grant answer, success or error, then Cache-Control: no-store', async () => {
    const base = await service({ LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '1' });
    const u = await register(base);
    const me = freshAddress();
    const ok = await login(base, u.email, u.password, me);
    assert.equal(ok.status, 200);
    noStore(ok, 'login 200');
    noStore(await login(base, u.email, 'wrong-password', me), 'login 401');
    noStore(await login(base, u.email, u.password, me), 'login 429');
    noStore(await http(base, 'POST', '/user/login', { body: { email: 'nope' } }), 'login 400');
    noStore(await http(base, 'POST', '/user/login', { raw: '{', headers: { 'content-type': 'application/json' } }), 'login malformed');
    const refreshToken = String(ok.body.refreshToken);
    const refreshed = await http(base, 'POST', '/user/token/refresh', { body: { refreshToken } });
    assert.equal(refreshed.status, 200);
    noStore(refreshed, 'refresh 200');
    noStore(await http(base, 'POST', '/user/token/refresh', { body: { refreshToken } }), 'refresh 401');
    noStore(await http(base, 'POST', '/user/token/refresh', { body: {} }), 'refresh 400');
    noStore(await http(base, 'POST', '/user/logout', { body: { refreshToken: String(refreshed.body.refreshToken) } }), 'logout 204');
    noStore(await http(base, 'POST', '/user/logout', { body: { refreshToken: 'a'.repeat(43) } }), 'logout 401');
    const grant = { grant_type: 'client_credentials', client_id: ORDER_CLIENT.id, client_secret: ORDER_CLIENT.secret };
    noStore(await http(base, 'POST', '/user/oauth/token', { body: grant }), 'oauth token 200');
    noStore(await http(base, 'POST', '/user/oauth/token', { body: { ...grant, client_secret: 'wrong' } }), 'oauth token 401');
  });
});

describe('attempts left counted', () => {
  it('when an admitted attempt ends without a verdict, then abandoning it frees its place; one never settled stops counting after 30 s', async () => {
    // The throttle itself on the service's own tables: claims made and not settled, as by an error between the
    // claim and the password check (abandon) or a process that died (nothing).
    await service({});
    const database = new Database({ url: db.urls.user, schema: 'users', poolMax: 2, applicationName: 'throttle-test', metrics: new Metrics('t', '0', { defaultMetrics: false }) });
    const throttle = new LoginThrottle(new LoginFailureRepository(database), { maxPerAccountAddress: 2, maxPerAddress: 100, windowSeconds: 900, queueMs: 300 });
    const email = uniqueEmail();
    const address = freshAddress();
    try {
      const admitted = async () => {
        const { attempt } = await throttle.claimAttempt(email, address);
        assert.ok(attempt, 'admitted');
        return attempt;
      };
      const waitOf = async () => (await throttle.claimAttempt(email, address)).wait;
      const first = await admitted();
      await admitted();
      // Both places taken by attempts being checked: the third waits, then is refused for a second, not the window.
      assert.equal(await waitOf(), 1);
      await throttle.abandon(first);
      await admitted();
      // Two claims now stand that nobody will settle (the process "died"): 30 s later they no longer count.
      assert.equal(await waitOf(), 1);
      await sql(db.urls.user, `UPDATE users.login_failures SET pending_until = now() - interval '1 second' WHERE key LIKE $1`, [`%${email}`]);
      // And a failure settled then still counts: one more failure locks the pair for the window.
      await throttle.recordFailure(await admitted());
      await throttle.recordFailure(await admitted());
      assert.ok((await waitOf()) > 800);
    } finally {
      await database.close();
    }
  });

  it('when a database blip left attempts counted and the owner keeps logging in every 10 s, then those attempts stop counting 30 s after they were admitted, not once the owner stops', async () => {
    // A login whose connection was lost between its claim and its verdict cannot take its attempt back (the release
    // needs the database too). Each later claim pushed the count's expiry 30 s on, so with logins at least every 30 s
    // (one busy account, or an office behind one address) the blip's attempts held their places for good.
    await service({});
    const database = new Database({ url: db.urls.user, schema: 'users', poolMax: 2, applicationName: 'throttle-test', metrics: new Metrics('t', '0', { defaultMetrics: false }) });
    const throttle = new LoginThrottle(new LoginFailureRepository(database), { maxPerAccountAddress: 3, maxPerAddress: 100, windowSeconds: 900, queueMs: 300 });
    const email = uniqueEmail();
    const address = freshAddress();
    // The clock moved on without waiting: every instant the throttle keeps for these keys, `seconds` earlier.
    const later = (seconds: number) =>
      sql(
        db.urls.user,
        `UPDATE users.login_failures SET window_start = window_start - make_interval(secs => $2), pending_until = pending_until - make_interval(secs => $2),
           locked_until = locked_until - make_interval(secs => $2) WHERE key LIKE $1`,
        [`%${address}%`, seconds],
      );
    /** How many of `n` attempts made together are admitted (each settled as a right password once all are in). */
    const admittedTogether = async (n: number) => {
      const claims = await Promise.all(Array.from({ length: n }, () => throttle.claimAttempt(email, address)));
      const admitted = claims.flatMap((c) => (c.attempt ? [c.attempt] : []));
      for (const attempt of admitted) await throttle.recordSuccess(attempt);
      return admitted.length;
    };
    try {
      // The blip: two admitted attempts never settled.
      assert.equal((await throttle.claimAttempt(email, address)).wait, 0);
      assert.equal((await throttle.claimAttempt(email, address)).wait, 0);
      // The owner logs in rightly every 10 s for a minute: one place is left for them, and they get in each time.
      for (let t = 10; t <= 60; t += 10) {
        await later(10);
        assert.equal(await admittedTogether(1), 1, `a right login ${t} s after the blip`);
      }
      // Past 30 s the blip's two attempts no longer count: three logins at once (three tabs) are all admitted.
      assert.equal(await admittedTogether(3), 3, 'logins at once, a minute after the blip');
    } finally {
      await database.close();
    }
  });

  it("when the address's claim fails after the pair's was admitted (its connection lost), then the pair's place is given back before the error answers", async () => {
    await service({});
    const database = new Database({ url: db.urls.user, schema: 'users', poolMax: 2, applicationName: 'throttle-test', metrics: new Metrics('t', '0', { defaultMetrics: false }) });
    let failNext = true;
    // The connection lost just as the second claim (the address's) is sent.
    class LosingConnection extends LoginFailureRepository {
      override async claim(key: string, windowSeconds: number, max: number): Promise<string | null> {
        if (key.startsWith('address:') && failNext) {
          failNext = false;
          throw Object.assign(new Error('Connection terminated unexpectedly'), { code: undefined });
        }
        return super.claim(key, windowSeconds, max);
      }
    }
    const throttle = new LoginThrottle(new LosingConnection(database), { maxPerAccountAddress: 2, maxPerAddress: 100, windowSeconds: 900, queueMs: 300 });
    const email = uniqueEmail();
    const address = freshAddress();
    try {
      await assert.rejects(throttle.claimAttempt(email, address), /Connection terminated/);
      const [pair] = await sql<{ pending: number }>(db.urls.user, `SELECT pending FROM users.login_failures WHERE key LIKE $1`, [`pair:%${email}`]);
      assert.equal(pair?.pending, 0, "the pair's attempt no longer counts");
      assert.equal((await throttle.claimAttempt(email, address)).wait, 0);
      assert.equal((await throttle.claimAttempt(email, address)).wait, 0, 'both places of the pair are there');
    } finally {
      await database.close();
    }
  });
  it('when the database goes away between a login\'s claim and its verdict and comes back, then the next right login from that address is served at once, not refused by the stranded claim', async () => {
    // The login's attempt cannot be taken back while the database is away (abandon needs it too): it used to count
    // for its 30 s, so with one place per pair the owner, back a moment later, was queued 5 s and told 429.
    const proxy = await databaseProxy(db.urls.user);
    const svc = await stopAllIfItFails(startUserService(proxy.url, { TRUST_PROXY: 'loopback', LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '1' }), proxy);
    running.push(svc);
    const address = freshAddress();
    try {
      const account = await register(svc.base, address);
      const cut = proxy.cutAt('user_by_email');
      const lost = await login(svc.base, account.email, account.password, address);
      await cut;
      assert.equal(lost.status, 503, 'the login the outage caught');
      await proxy.restore();
      const started = performance.now();
      const next = await login(svc.base, account.email, account.password, address);
      const tookMs = performance.now() - started;
      assert.equal(next.status, 200, `the next right login: ${next.status} ${JSON.stringify(next.body)}`);
      assert.ok(tookMs < 3_000, `served ${Math.round(tookMs)} ms after the database came back`);
      const rows = await sql<{ key: string; pending: number; failures: number }>(db.urls.user, `SELECT key, pending, failures FROM users.login_failures WHERE key LIKE $1`, [`%${address}%`]);
      assert.deepEqual(rows.map((r) => [r.key.split(':')[0], r.pending, r.failures]).sort(), [['address', 0, 0], ['pair', 0, 0]]);
    } finally {
      await proxy.close();
    }
  });

  it("when the database goes away after a wrong password's account was read, before its failure is written, and comes back, then the failure is counted (an outage lets no guess go uncounted)", async () => {
    const proxy = await databaseProxy(db.urls.user);
    const svc = await stopAllIfItFails(startUserService(proxy.url, { TRUST_PROXY: 'loopback', LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '2', LOGIN_FAILURE_WINDOW_SECONDS: '600' }), proxy);
    running.push(svc);
    const address = freshAddress();
    try {
      const account = await register(svc.base, address);
      assert.equal((await login(svc.base, account.email, 'wrong password, one', address)).status, 401);
      const cut = proxy.cutAt('user_by_email', { at: 'answered' });
      const lost = await login(svc.base, account.email, 'wrong password, two', address);
      await cut;
      assert.equal(lost.status, 503, 'the wrong guess the outage caught');
      await proxy.restore();
      // The second failure reaches its budget once it is counted: the pair is locked for the window, not for 1 s.
      const started = performance.now();
      let locked: Awaited<ReturnType<typeof login>> | undefined;
      while (performance.now() - started < 5_000) {
        const [pair] = await sql<{ failures: number; pending: number }>(db.urls.user, `SELECT failures, pending FROM users.login_failures WHERE key LIKE $1`, [`pair:%${account.email}`]);
        if (pair?.failures === 2) {
          assert.equal(pair.pending, 0, 'the guess no longer counts as being checked');
          locked = await login(svc.base, account.email, account.password, address);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(locked, 'the failure the outage caught was counted within 5 s of the database coming back');
      assert.equal(locked.status, 429);
      assert.ok(Number(locked.headers.get('retry-after')) > 500, `locked for the window: Retry-After ${locked.headers.get('retry-after')}`);
    } finally {
      await proxy.close();
    }
  });
  it('when a settlement is tried again late, then it gives back a place only in the run its attempt was counted in, and a right password given back late clears no failures', async () => {
    // The two writes a settlement that failed is tried again with (model/login-throttle.ts), on the service's tables.
    await service({});
    const database = new Database({ url: db.urls.user, schema: 'users', poolMax: 2, applicationName: 'throttle-test', metrics: new Metrics('t', '0', { defaultMetrics: false }) });
    const repo = new LoginFailureRepository(database);
    const key = `pair:${freshAddress()}/${uniqueEmail()}`;
    const row = async () => (await sql<{ pending: number; failures: number }>(db.urls.user, 'SELECT pending, failures FROM users.login_failures WHERE key = $1', [key]))[0];
    try {
      const oldRun = await repo.claim(key, 900, 5);
      assert.ok(oldRun);
      await repo.fail(key, 900, 5);
      // The first run ended (its attempt stranded and expired); a new one holds a place now.
      await sql(db.urls.user, `UPDATE users.login_failures SET pending = 1, pending_until = now() - interval '1 second' WHERE key = $1`, [key]);
      const newRun = await repo.claim(key, 900, 5);
      assert.ok(newRun && newRun !== oldRun, 'a new run');
      await repo.releaseFromRun(key, oldRun);
      assert.deepEqual({ ...(await row()) }, { pending: 1, failures: 1 }, "the old run's release frees no place of the new run");
      await repo.failInRun(key, oldRun, 900, 5);
      assert.deepEqual({ ...(await row()) }, { pending: 1, failures: 2 }, "the old run's failure counts, its place is not taken off the new run");
      // The new run's attempt was a right password whose write failed: tried again, it gives its place back only.
      await repo.releaseFromRun(key, newRun);
      assert.deepEqual({ ...(await row()) }, { pending: 0, failures: 2 }, 'the failures stay');
    } finally {
      await database.close();
    }
  });
});
