// The kit's in-process durations when the wall clock steps (NTP correcting a drifted clock, a VM resumed, an
// operator's date -s): the key set's age, the unknown-kid refetch cooldown, the retry while the issuer is down and the
// database start-up wait are measured on the monotonic clock, so a step can neither stretch nor cut them short.
// Date.now is stepped in-process (the only way to move a clock without moving the machine's); performance.now is
// moved forward to stand for time really passing. JWT exp/iat stay on the wall clock, as they must.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { SignJWT, exportJWK, importPKCS8 } from 'jose';
import { setTimeout as sleep } from 'node:timers/promises';
import { Authenticator, ClientCredentialsToken, Database, Metrics, type ProblemError } from '../src/index.js';

const HOUR_MS = 3_600_000;

/** Runs fn with Date.now stepped by `step(ms)` and performance.now moved on by `pass(ms)`; the real clocks are back afterwards. */
async function withClocks<T>(fn: (clocks: { step: (ms: number) => void; pass: (ms: number) => void }) => Promise<T>): Promise<T> {
  const realNow = Date.now;
  const realMono = performance.now.bind(performance);
  let wall = 0;
  let mono = 0;
  Date.now = () => realNow() + wall + mono;
  performance.now = () => realMono() + mono;
  try {
    return await fn({ step: (ms) => (wall += ms), pass: (ms) => (mono += ms) });
  } finally {
    Date.now = realNow;
    // The own property hides the prototype's now again once deleted.
    delete (performance as { now?: unknown }).now;
  }
}

async function keyPair(kid: string) {
  const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const key = await importPKCS8(pem, 'EdDSA', { extractable: true });
  const { d: _d, ...pub } = await exportJWK(key);
  return { kid, key, jwk: { ...pub, kid, alg: 'EdDSA' } };
}

type Pair = Awaited<ReturnType<typeof keyPair>>;

const sign = (pair: Pair) =>
  new SignJWT({ role: 'customer' })
    .setProtectedHeader({ alg: 'EdDSA', kid: pair.kid, typ: 'at+jwt' })
    .setSubject('u1')
    .setIssuer('iss')
    .setAudience('ecommerce')
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
    .sign(pair.key);

/** A JWKS issuer whose published keys (or absence: 503) the test sets. */
async function issuer() {
  let published: Pair[] | null = [];
  const server = createServer((_req, res) => {
    if (!published) {
      res.writeHead(503, { connection: 'close' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: published.map((p) => p.jwk) }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: new URL(`http://127.0.0.1:${port}/jwks.json`),
    publish: (pairs: Pair[] | null) => (published = pairs),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const outcome = (p: Promise<{ sub?: string }>) => p.then((v) => `ok ${v.sub}`, (e: ProblemError) => `${e.status} ${e.message}`);

describe('a wall clock that steps back', () => {
  it('when it steps back an hour and the issuer rotates its key, then a token of the new key is verified once the refetch cooldown (30 s) has really passed, not an hour later', async () => {
    const [k1, k2] = [await keyPair('k1'), await keyPair('k2')];
    const iss = await issuer();
    try {
      iss.publish([k1]);
      const auth = new Authenticator({ issuer: 'iss', audience: 'ecommerce', jwks: iss.url, roles: ['customer'] });
      const rotated = await sign(k2);
      const seen = await withClocks(async ({ step, pass }) => {
        assert.equal(await outcome(auth.verify(await sign(k1), 'ecommerce')), 'ok u1');
        step(-HOUR_MS);
        iss.publish([k1, k2]);
        pass(31_000);
        return outcome(auth.verify(rotated, 'ecommerce'));
      });
      assert.equal(seen, 'ok u1');
    } finally {
      iss.close();
    }
  });

  it('when it steps back an hour while the issuer is down, then it is asked again after its 30 s and a key rotated meanwhile verifies, not an hour later', async () => {
    const [k1, k2] = [await keyPair('k1'), await keyPair('k2')];
    const iss = await issuer();
    try {
      iss.publish([k1]);
      const auth = new Authenticator({ issuer: 'iss', audience: 'ecommerce', jwks: iss.url, roles: ['customer'] });
      const rotated = await sign(k2);
      const seen = await withClocks(async ({ step, pass }) => {
        assert.equal(await outcome(auth.verify(await sign(k1), 'ecommerce')), 'ok u1');
        // 11 minutes on, the set has aged past its refresh and the issuer is down: the keys last published verify.
        iss.publish(null);
        pass(11 * 60_000);
        assert.equal(await outcome(auth.verify(await sign(k1), 'ecommerce')), 'ok u1');
        // The clock steps back an hour; the issuer comes back with a rotated key; 31 s really pass.
        step(-HOUR_MS);
        iss.publish([k1, k2]);
        pass(31_000);
        return outcome(auth.verify(rotated, 'ecommerce'));
      });
      assert.equal(seen, 'ok u1');
    } finally {
      iss.close();
    }
  });

  it('when it steps back an hour after a service token was fetched, then the token is fetched again at 80% of its lifetime, not an hour later', async () => {
    let issued = 0;
    const server = createServer((_req, res) => {
      issued++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: `t${issued}`, token_type: 'Bearer', expires_in: 1 }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    try {
      const token = new ClientCredentialsToken({ tokenUrl: `http://127.0.0.1:${port}/token`, clientId: 'c', clientSecret: 's' });
      const seen = await withClocks(async ({ step }) => {
        const first = await token.get();
        step(-HOUR_MS);
        // Past 90% of its 1 s lifetime (usable until then), where the token is fetched again before the call. Not 900:
        // a timer may fire up to 1 ms early on performance.now, which left 80-90% (the token in hand is sent, a new
        // one fetched in the background) and the test read ['t1', 't1'] (1 run in 12 here).
        await sleep(950);
        return [first, await token.get()];
      });
      assert.deepEqual(seen, ['t1', 't2']);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('a wall clock that steps forward', () => {
  it('when it steps forward an hour while the service waits for the database at start-up, then it keeps waiting for its DB_STARTUP_TIMEOUT_MS instead of giving up at once', async () => {
    const db = new Database({ url: 'postgres://nobody@127.0.0.1:9/none', schema: 'x', poolMax: 1, applicationName: 'clock-test', metrics: new Metrics('t', '0', { defaultMetrics: false }) });
    try {
      let attempts = 0;
      const result = await withClocks(({ step }) =>
        db
          .whenAvailable(async () => {
            attempts++;
            if (attempts === 1) step(HOUR_MS); // NTP corrects the clock during the first wait
            if (attempts < 3) throw Object.assign(new Error('the database system is starting up'), { code: '57P03' });
            return 'migrated';
          }, 5_000)
          .catch((e: Error) => e.message),
      );
      assert.equal(result, 'migrated');
      assert.equal(attempts, 3);
    } finally {
      await db.close();
    }
  });
});
