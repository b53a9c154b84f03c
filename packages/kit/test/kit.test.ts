import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it, mock } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { SignJWT, createLocalJWKSet, exportJWK, importPKCS8 } from 'jose';
import {
  Authenticator,
  BaseEnv,
  ConfigError,
  DatabaseEnv,
  DbSchema,
  DependencyError,
  Metrics,
  Port,
  ServiceClient,
  Type,
  Url,
  decodeCursor,
  encodeCursor,
  isUuid,
  loadConfig,
  pageOf,
  textCursorLength,
  uuidv7,
  type ProblemError,
} from '../src/index.js';

describe('config', () => {
  it('when variables are missing or wrong, then one error names each, and secrets are not echoed', () => {
    const props = { ...BaseEnv, ...DatabaseEnv, PORT: Port(3000) };
    assert.throws(
      () => loadConfig(props, { PORT: 'eighty', DATABASE_URL: 'mysql://user:hunter2@host/db', LOG_LEVEL: 'loud' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const text = err.problems.join('\n');
        assert.match(text, /PORT/);
        assert.match(text, /LOG_LEVEL/);
        assert.match(text, /DATABASE_URL/);
        assert.doesNotMatch(text, /hunter2/);
        return true;
      },
    );
  });

  it('when values are valid, then defaults fill the rest and numbers are numbers; empty strings count as unset', () => {
    const cfg = loadConfig({ ...BaseEnv, PORT: Port(3000) }, { PORT: '', LOG_LEVEL: 'debug' });
    assert.equal(cfg.PORT, 3000);
    assert.equal(cfg.LOG_LEVEL, 'debug');
    assert.equal(cfg.SHUTDOWN_TIMEOUT_MS, 10_000);
  });

  it('when a whole number is written other than in decimal digits (1e3, 1.5, 0x10, 0b11), then it is refused naming the variable, never read as another number', () => {
    const props = { ...BaseEnv, PORT: Port(3000) };
    // What TypeBox's parseInt-based conversion read as another number: 1e3 as 1, 1.5 as 1, 0x10 as 16, 0b11 as 0.
    const notDecimal = fc.oneof(
      fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 4 })).map(([m, e]) => `${m}e${e}`),
      fc.tuple(fc.nat(60_000), fc.integer({ min: 1, max: 9 })).map(([i, f]) => `${i}.${f}`),
      fc.nat(60_000).map((n) => `0x${n.toString(16)}`),
      fc.nat(60_000).map((n) => `0b${n.toString(2)}`),
      fc.nat(60_000).map((n) => `0o${n.toString(8)}`),
      fc.constantFrom(' ', '\t', 'Infinity', '5abc', '1_000'),
    );
    fc.assert(
      fc.property(notDecimal, fc.constantFrom('PORT', 'SHUTDOWN_TIMEOUT_MS'), (value, name) => {
        assert.throws(
          () => loadConfig(props, { [name]: value }),
          (err: unknown) => err instanceof ConfigError && err.problems.join('\n') === `${name}: expected a whole number in decimal digits (got ${JSON.stringify(value)})`,
          `${name}=${JSON.stringify(value)}`,
        );
      }),
    );
    // Decimal digits, with a sign or spaces around, are read as the number they write.
    fc.assert(
      fc.property(fc.nat(65_535), fc.constantFrom('', '+', ' ', '0'), (n, pad) => {
        assert.equal(loadConfig(props, { PORT: `${pad}${n}${pad === ' ' ? ' ' : ''}` }).PORT, n);
      }),
    );
  });

  it('when a variable takes one of some words (LOG_LEVEL, NODE_ENV, FAULT_INJECTION; true or false) and gets another, then the error lists the words, not "Expected union value" or "Expected boolean"', () => {
    const words = { LOG_LEVEL: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], NODE_ENV: ['development', 'production', 'test'], FAULT_INJECTION: ['enabled', 'disabled'] };
    fc.assert(
      fc.property(fc.constantFrom(...(Object.keys(words) as (keyof typeof words)[])), fc.string({ minLength: 1 }), (name, value) => {
        fc.pre(!words[name].includes(value));
        assert.throws(
          () => loadConfig(BaseEnv, { [name]: value }),
          (err: unknown) => err instanceof ConfigError && err.problems.join('\n') === `${name}: expected one of ${words[name].map((w) => `"${w}"`).join(', ')} (got ${JSON.stringify(value)})`,
          `${name}=${JSON.stringify(value)}`,
        );
      }),
    );
    const flag = { ...BaseEnv, SEED_DEMO_DATA: Type.Boolean({ default: true }) };
    assert.throws(() => loadConfig(flag, { SEED_DEMO_DATA: 'yes' }), (err: unknown) => err instanceof ConfigError && err.problems.join() === 'SEED_DEMO_DATA: expected true or false (got "yes")');
    assert.equal(loadConfig(flag, { SEED_DEMO_DATA: 'false' }).SEED_DEMO_DATA, false);
  });

  it('when a URL setting is no origin a client can use (no host, a port past 65535, a path, a user and password), then it is refused naming it, its text hidden; a usable one is taken as written', () => {
    const props = { ...BaseEnv, USER_SERVICE_URL: Url('http://127.0.0.1:3001') };
    const usable = (v: string) => {
      if (!/^https?:\/\//.test(v) || !URL.canParse(v)) return false;
      const u = new URL(v);
      return u.hostname !== '' && u.username === '' && u.password === '' && u.pathname === '/' && u.search === '' && u.hash === '';
    };
    const typed = fc.oneof(
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.tuple(fc.constantFrom('http://', 'https://', 'HTTP://', 'ftp://', 'http:/'), fc.string(), fc.option(fc.integer({ min: 0, max: 200_000 }))).map(([s, h, p]) => `${s}${h}${p === null ? '' : `:${p}`}`),
      fc.constantFrom('http://', 'http://127.0.0.1:99999', 'http://127.0.0.1:3001/a b', 'http://127.0.0.1:3001/', 'http://gateway/user', 'http://ops:s3cret-pw@127.0.0.1:3001', 'https://:s3cret-pw@user:3001', 'http://[::1]:3001', 'http://user-service:3001'),
    );
    fc.assert(
      fc.property(typed, (value) => {
        fc.pre(value.trim() !== '');
        if (usable(value)) {
          assert.equal(loadConfig(props, { USER_SERVICE_URL: value }).USER_SERVICE_URL, value);
          return;
        }
        assert.throws(
          () => loadConfig(props, { USER_SERVICE_URL: value }),
          (err: unknown) =>
            err instanceof ConfigError &&
            err.problems.join('\n') === 'USER_SERVICE_URL: expected an http:// or https:// origin: a host and a port 0..65535, no path, user or password (got "<redacted>")',
          JSON.stringify(value),
        );
      }),
    );
  });

  it('when a decimal setting is written in another way (0x1, a decimal comma, 5%), then it is refused naming it, never read as another number', () => {
    const props = { ...BaseEnv, SHARE: Type.Number({ minimum: 0, maximum: 1, default: 0.01 }) };
    // What parseFloat read as another number: 0x1 as 0, 0,05 as 0, 5% as 5 (then out of range), 1_0 as 1.
    const written = fc.oneof(
      fc.nat(99).map((n) => `0,${String(n).padStart(2, '0')}`),
      fc.nat(16).map((n) => `0x${n.toString(16)}`),
      fc.nat(100).map((n) => `${n}%`),
      fc.constantFrom('1_0', '.', '1..2', 'NaN', 'Infinity', '0.5abc', ' '),
    );
    fc.assert(
      fc.property(written, (value) => {
        assert.throws(
          () => loadConfig(props, { SHARE: value }),
          (err: unknown) => err instanceof ConfigError && err.problems.join('\n') === `SHARE: expected a decimal number (got ${JSON.stringify(value)})`,
          JSON.stringify(value),
        );
      }),
    );
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (n) => {
        assert.equal(loadConfig(props, { SHARE: String(n) }).SHARE, n);
      }),
    );
    assert.throws(() => loadConfig(props, { SHARE: '1e309' }), (err: unknown) => err instanceof ConfigError && err.problems.join() === 'SHARE: expected a decimal number from 0 to 1 (got "1e309")');
  });

  it('when DB_SCHEMA is no schema name the pool takes (capitals, a space, a quote, pg_...), then it is refused at once naming it; one it takes is kept', () => {
    // Before: the pool refused it later, "invalid schema name" in a start-up stack naming no variable (exit 1, not 78),
    // and pg_catalog got as far as a migration's "permission denied".
    const props = { ...BaseEnv, DB_SCHEMA: DbSchema('catalog') };
    const takes = (v: string) => /^[a-z_][a-z0-9_]{0,62}$/.test(v) && !v.startsWith('pg_');
    const names = fc.oneof(
      fc.stringMatching(/^[a-z_][a-z0-9_]{0,70}$/),
      fc.string({ minLength: 1, maxLength: 8 }),
      fc.constantFrom('Catalog', ' ', 'cat alog', 'cat"alog', 'pg_catalog', 'pg_temp', '9lives', 'information_schema', '_x', 'x'.repeat(63), 'x'.repeat(64)),
    );
    fc.assert(
      fc.property(names, (value) => {
        if (takes(value)) {
          assert.equal(loadConfig(props, { DB_SCHEMA: value }).DB_SCHEMA, value);
          return;
        }
        assert.throws(
          () => loadConfig(props, { DB_SCHEMA: value }),
          (err: unknown) =>
            err instanceof ConfigError &&
            err.problems.join('\n') === `DB_SCHEMA: expected a schema name: a-z, 0-9 and _, not first a digit, at most 63 characters, not beginning pg_ (got ${JSON.stringify(value)})`,
          JSON.stringify(value),
        );
      }),
    );
  });

  it('when HOST is blank or holds a space, then it is refused naming it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 6 }), fc.constantFrom(' ', '\t', '\n'), fc.string({ maxLength: 6 }), (a, space, b) => {
        assert.throws(
          () => loadConfig(BaseEnv, { HOST: `${a}${space}${b}` }),
          (err: unknown) => err instanceof ConfigError && err.problems.join('\n') === `HOST: expected an address or a host name, with no spaces (got ${JSON.stringify(`${a}${space}${b}`)})`,
        );
      }),
    );
    assert.equal(loadConfig(BaseEnv, { HOST: '0.0.0.0' }).HOST, '0.0.0.0');
    assert.equal(loadConfig(BaseEnv, { HOST: '::' }).HOST, '::');
  });

  it('when the fault switch is enabled in production, then configuration is refused', () => {
    assert.throws(() => loadConfig(BaseEnv, { FAULT_INJECTION: 'enabled', NODE_ENV: 'production' }), /FAULT_INJECTION/);
    assert.equal(loadConfig(BaseEnv, { FAULT_INJECTION: 'enabled', NODE_ENV: 'test' }).FAULT_INJECTION, 'enabled');
  });
});

describe('ids and pagination', () => {
  it('uuidv7 ids are version 7, RFC 9562 variant, and sort by creation time', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(a < b);
    assert.equal(new Set(Array.from({ length: 1000 }, () => uuidv7())).size, 1000);
  });

  it('uuidv7 ids made within one millisecond still sort in the order they were made, across pool refills', () => {
    // 10,000 ids in a tight loop: many share a millisecond, and 160,000 random bytes span 40 refills of the pool.
    const ids = Array.from({ length: 10_000 }, () => uuidv7());
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
    assert.equal(new Set(ids.map((id) => id.slice(-12))).size, ids.length, 'the random tails differ');
    for (const id of ids.slice(0, 100)) assert.ok(isUuid(id) && id[14] === '7');
  });

  it('a cursor round-trips, a forged one is a 400, and pageOf returns a cursor only when there is more', () => {
    assert.deepEqual(decodeCursor(encodeCursor(['x', 3]), 2), ['x', 3]);
    assert.equal(decodeCursor(undefined, 1), null);
    for (const bad of ['%%%', Buffer.from('{"a":1}').toString('base64url'), encodeCursor(['x']), encodeCursor([{}]), encodeCursor(['a\u0000b', 1]), encodeCursor(['\ud800x', 1])]) {
      assert.throws(() => decodeCursor(bad, 2), (e: unknown) => (e as ProblemError).status === 400);
    }
    const rows = [1, 2, 3];
    assert.deepEqual(pageOf(rows, 2, (r) => [r], (r) => r * 10), { items: [10, 20], nextCursor: encodeCursor([2]) });
    assert.deepEqual(pageOf(rows, 3, (r) => [r], (r) => r), { items: [1, 2, 3], nextCursor: null });
  });

  it('property: the cursor of a text key is textCursorLength of its JSON-escaped UTF-8 bytes long, what TextPageQuery takes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (text) => {
        const bytes = Buffer.byteLength(JSON.stringify(text)) - 2;
        assert.equal(encodeCursor([text]).length, textCursorLength(bytes), `${bytes} bytes`);
      }),
      { numRuns: 500 },
    );
  });
});

describe('Authenticator', () => {
  async function keys() {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const key = await importPKCS8(pem, 'EdDSA', { extractable: true });
    const { d: _d, ...pub } = await exportJWK(key);
    return { key, jwks: { keys: [{ ...pub, kid: 'k1', alg: 'EdDSA' }] } };
  }
  const sign = (key: CryptoKeyLike, claims: Record<string, unknown>, exp: number, aud = 'ecommerce') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' }).setSubject('u1').setIssuer('iss').setAudience(aud).setIssuedAt().setExpirationTime(exp).sign(key);
  type CryptoKeyLike = Parameters<SignJWT['sign']>[0];
  /** An issuer whose key set (`/jwks.json`) `handler` answers on loopback, and an Authenticator that fetches it. */
  async function remoteIssuer(handler: RequestListener): Promise<{ server: Server; auth: Authenticator }> {
    const server = createServer(handler);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    return { server, auth: new Authenticator({ issuer: 'iss', audience: 'ecommerce', jwks: new URL(`http://127.0.0.1:${port}/jwks.json`), roles: ['customer'] }) };
  }

  it('verifies a token once and then serves it from the cache until its exp; an expired cached token is refused', async () => {
    const { key, jwks } = await keys();
    const auth = new Authenticator({ issuer: 'iss', audience: 'ecommerce', jwks, roles: ['customer', 'admin'] });
    const soon = Math.floor(Date.now() / 1000) + 1;
    const token = await sign(key, { role: 'customer' }, soon);
    assert.equal((await auth.verify(token, 'ecommerce')).sub, 'u1');
    assert.equal((await auth.verify(token, 'ecommerce')).sub, 'u1');
    // the cached entry does not widen the audience
    await assert.rejects(auth.verify(token, 'ecommerce-services'), (e: unknown) => (e as ProblemError).status === 401);
    // past exp plus jose's 5 s clock tolerance
    await new Promise((r) => setTimeout(r, 1000 + 5000 + 700));
    await assert.rejects(auth.verify(token, 'ecommerce'), (e: unknown) => {
      const problem = e as ProblemError;
      // RFC 6750 3.1: the client can tell an expired token (refresh it) from a missing one.
      return problem.status === 401 && problem.headers['www-authenticate'] === 'Bearer error="invalid_token", error_description="Token expired"';
    });
  });

  it('when more distinct tokens than docs/design.md says (bounded LRU of 10,000) are verified, then the last that many are all served from memory and the least recently used one beyond them is checked again', async () => {
    const design = readFileSync(fileURLToPath(new URL('../../../../docs/design.md', import.meta.url)), 'utf8').replace(/\s+/g, ' ');
    const said = /A verified token is remembered until its own `exp` \(bounded LRU of ([\d,]+)\)/.exec(design);
    assert.ok(said, 'docs/design.md no longer says "A verified token is remembered until its own `exp` (bounded LRU of <n>)"');
    const size = Number(said[1]!.replace(/,/g, ''));
    const { key, jwks } = await keys();
    let lookups = 0;
    const local = createLocalJWKSet(jwks);
    const auth = new Authenticator({ issuer: 'iss', audience: 'ecommerce', jwks: (header, token) => (lookups++, local(header, token)), roles: ['customer'] });
    const exp = Math.floor(Date.now() / 1000) + 600;
    // size + 1 tokens, each its own (jti): one signature check each, the first pushed out by the last.
    const tokens = await Promise.all(Array.from({ length: size + 1 }, (_, i) => new SignJWT({ role: 'customer', jti: String(i) }).setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' }).setSubject('u1').setIssuer('iss').setAudience('ecommerce').setIssuedAt().setExpirationTime(exp).sign(key)));
    for (const token of tokens) await auth.verify(token, 'ecommerce');
    assert.equal(lookups, size + 1);
    // The newest `size` are held, each served without a check; the oldest was evicted and is checked again.
    for (const token of tokens.slice(1)) await auth.verify(token, 'ecommerce');
    assert.equal(lookups, size + 1, `${lookups - size - 1} of the last ${size} tokens were checked again: fewer than ${size} are held`);
    await auth.verify(tokens[0]!, 'ecommerce');
    assert.equal(lookups, size + 2, `the token verified ${size + 1} tokens ago was still held: more than ${size} are`);
  });

  it('when a token is spelled other than strict base64url (RFC 7515 2: its signature padded with =, a last character that decodes to the same bytes, an empty part), then it is refused with invalid_token before any key is looked up, and never remembered', async () => {
    const { key, jwks } = await keys();
    let lookups = 0;
    const local = createLocalJWKSet(jwks);
    const auth = new Authenticator({ issuer: 'iss', audience: 'ecommerce', jwks: (header, token) => (lookups++, local(header, token)), roles: ['customer'] });
    const token = await sign(key, { role: 'customer' }, Math.floor(Date.now() / 1000) + 60);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    // An Ed25519 signature is 64 bytes: 86 characters, the last one's low 4 bits unused.
    assert.equal(signature.length % 4, 2);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sameBytes = signature.slice(0, -1) + alphabet[alphabet.indexOf(signature.at(-1)!) + 1];
    assert.deepEqual(Buffer.from(sameBytes, 'base64url'), Buffer.from(signature, 'base64url'));
    const outcome = (t: string) =>
      auth.verify(t, 'ecommerce').then(
        () => 'ok',
        (e: ProblemError) => `${e.status} ${e.headers['www-authenticate']}`,
      );
    const refused = '401 Bearer error="invalid_token", error_description="Invalid token"';
    assert.deepEqual(
      {
        padded: await outcome(`${token}==`),
        'one =': await outcome(`${token}=`),
        'same bytes, another last character': await outcome(`${header}.${payload}.${sameBytes}`),
        'no signature': await outcome(`${header}.${payload}.`),
        'a fourth part': await outcome(`${token}.${signature}`),
      },
      { padded: refused, 'one =': refused, 'same bytes, another last character': refused, 'no signature': refused, 'a fourth part': refused },
    );
    assert.equal(lookups, 0);
    assert.equal(await outcome(token), 'ok');
    assert.equal(lookups, 1);
  });

  it('refuses tokens with the wrong issuer or signed by another key', async () => {
    const { key, jwks } = await keys();
    const other = await keys();
    const auth = new Authenticator({ issuer: 'iss', audience: 'ecommerce', jwks, roles: ['customer', 'admin'] });
    const exp = Math.floor(Date.now() / 1000) + 60;
    await assert.rejects(auth.verify(await sign(other.key, {}, exp), 'ecommerce'), (e: unknown) => (e as ProblemError).status === 401);
    const wrongIss = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' }).setSubject('u').setIssuer('evil').setAudience('ecommerce').setIssuedAt().setExpirationTime(exp).sign(key);
    await assert.rejects(auth.verify(wrongIss, 'ecommerce'), (e: unknown) => (e as ProblemError).status === 401);
  });

  it('when a JWT signed by the key is not typed as an access token (typ at+jwt, RFC 9068 4: none, JWT, another), then it is refused with invalid_token; application/at+jwt is the same type', async () => {
    const { key, jwks } = await keys();
    const auth = new Authenticator({ issuer: 'iss', audience: 'ecommerce', jwks, roles: ['customer'] });
    const typed = (typ?: string) =>
      new SignJWT({ role: 'customer' }).setProtectedHeader({ alg: 'EdDSA', kid: 'k1', ...(typ === undefined ? {} : { typ }) }).setSubject('u1').setIssuer('iss').setAudience('ecommerce').setIssuedAt().setExpirationTime('5m').sign(key);
    const seen: Record<string, string> = {};
    for (const typ of [undefined, 'JWT', 'rt+jwt', 'at+jwt', 'application/at+jwt', 'AT+JWT']) {
      seen[String(typ)] = await auth.verify(await typed(typ), 'ecommerce').then(
        () => 'ok',
        (e: ProblemError) => `${e.status} ${e.headers['www-authenticate']}`,
      );
    }
    const refused = '401 Bearer error="invalid_token", error_description="Invalid token"';
    assert.deepEqual(seen, { undefined: refused, JWT: refused, 'rt+jwt': refused, 'at+jwt': 'ok', 'application/at+jwt': 'ok', 'AT+JWT': 'ok' });
  });

  it('when a token says it was issued in the future (past the 5 s clock tolerance) or more than an hour ago, then it is refused with invalid_token whatever its exp, and a remembered one is dropped at that hour', async () => {
    const { key, jwks } = await keys();
    const auth = new Authenticator({ issuer: 'iss', audience: 'ecommerce', jwks, roles: ['customer'] });
    const now = Math.floor(Date.now() / 1000);
    const signed = (iat: number, exp: number) =>
      new SignJWT({ role: 'customer' }).setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' }).setSubject('u1').setIssuer('iss').setAudience('ecommerce').setIssuedAt(iat).setExpirationTime(exp).sign(key);
    const outcome = async (token: string) =>
      auth.verify(token, 'ecommerce').then(
        () => 'ok',
        (e: ProblemError) => `${e.status} ${e.headers['www-authenticate']}`,
      );
    const refused = '401 Bearer error="invalid_token", error_description="Invalid token"';
    const seen = {
      'issued a minute ahead': await outcome(await signed(now + 60, now + 60 + 900)),
      'issued ten years ahead': await outcome(await signed(now + 315_360_000, now + 315_360_000 + 900)),
      'issued 3 s ahead (skew)': await outcome(await signed(now + 3, now + 903)),
      'issued two hours ago, exp in ten years': await outcome(await signed(now - 7200, now + 315_360_000)),
    };
    assert.deepEqual(seen, {
      'issued a minute ahead': refused,
      'issued ten years ahead': refused,
      'issued 3 s ahead (skew)': 'ok',
      'issued two hours ago, exp in ten years': '401 Bearer error="invalid_token", error_description="Token expired"',
    });
    // Issued 20 s short of an hour ago with a far exp: verified and remembered, but not served from memory 30 s later.
    const ageing = await signed(now - 3580, now + 315_360_000);
    assert.equal(await outcome(ageing), 'ok');
    // jose reads the wall clock (new Date), the cache the monotonic one: both move on 30 s.
    const realMono = performance.now.bind(performance);
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 30_000 });
    performance.now = () => realMono() + 30_000;
    try {
      await new Promise((r) => setTimeout(r, 5)); // lru-cache holds its clock reading for a millisecond
      assert.equal(await outcome(ageing), '401 Bearer error="invalid_token", error_description="Token expired"');
    } finally {
      mock.timers.reset();
      delete (performance as { now?: unknown }).now;
    }
  });

  it('when the issuer answers its JWKS with a 503 (draining), dies in the middle of it or answers something that is not a key set, then 503 with Retry-After: a valid token is never called invalid for it', async () => {
    const { key } = await keys();
    const token = await sign(key, { role: 'customer' }, Math.floor(Date.now() / 1000) + 60);
    const answers: Record<string, (res: ServerResponse) => void> = {
      // What a kit server answers while it drains (SIGTERM): 503 problem+json, Connection: close.
      draining: (res) => {
        res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1', connection: 'close' });
        res.end(JSON.stringify({ type: 'about:blank', title: 'Service unavailable', status: 503 }));
      },
      // SIGKILLed while writing it: the headers and half the body, then the connection is gone.
      'killed mid-answer': (res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '400' });
        res.write('{"keys":[{"kty":"OKP","crv":"Ed25519"');
        setTimeout(() => res.socket?.destroy(), 20);
      },
      // Something in front of it answering for it (an HTML error page with 200).
      'not a key set': (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"error":"upstream gone"}');
      },
    };
    const seen: Record<string, string> = {};
    for (const [fault, answer] of Object.entries(answers)) {
      const { server, auth } = await remoteIssuer((_req, res) => answer(res));
      try {
        await assert.rejects(auth.verify(token, 'ecommerce'), (e: unknown) => {
          const problem = e as ProblemError;
          seen[fault] = `${problem.status} retry-after=${problem.headers['retry-after']}`;
          return true;
        });
      } finally {
        server.closeAllConnections();
        server.close();
      }
    }
    const unavailable = '503 retry-after=1';
    assert.deepEqual(seen, { draining: unavailable, 'killed mid-answer': unavailable, 'not a key set': unavailable });
  });

  it('when tokens naming kids the issuer never published keep coming, then its key set is fetched once per 30 s cooldown, however many come, and a key it publishes meanwhile still verifies after the cooldown', async () => {
    const { key, jwks } = await keys();
    let published = jwks.keys;
    let fetches = 0;
    const { server, auth } = await remoteIssuer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: published }));
    });
    const exp = Math.floor(Date.now() / 1000) + 600;
    const withKid = (kid: string) => new SignJWT({ role: 'customer' }).setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' }).setSubject('u1').setIssuer('iss').setAudience('ecommerce').setIssuedAt().setExpirationTime(exp).sign(key);
    const outcome = (token: string) => auth.verify(token, 'ecommerce').then(() => 'ok', (e: ProblemError) => String(e.status));
    // Time passing: the wall clock (jose's) and the monotonic one (the kit's) move on together.
    const realNow = Date.now;
    const realMono = performance.now.bind(performance);
    let passed = 0;
    Date.now = () => realNow() + passed;
    performance.now = () => realMono() + passed;
    try {
      assert.equal(await outcome(await withKid('k1')), 'ok');
      assert.equal(fetches, 1);
      const perCooldown: number[] = [];
      for (let round = 0; round < 3; round++) {
        passed += 31_000;
        const before = fetches;
        const answers: string[] = [];
        for (let i = 0; i < 10; i++) answers.push(await outcome(await withKid(`unknown-${round}-${i}`)));
        answers.push(...(await Promise.all(Array.from({ length: 40 }, async (_, i) => outcome(await withKid(`burst-${round}-${i}`))))));
        assert.deepEqual([...new Set(answers)], ['401']);
        perCooldown.push(fetches - before);
      }
      assert.deepEqual(perCooldown, [1, 1, 1], 'key set fetches per 30 s of unknown kids');
      // A rotation: the issuer publishes k2 beside k1; its first token is verified once the cooldown has passed.
      published = [...jwks.keys, { ...jwks.keys[0]!, kid: 'k2' }];
      assert.equal(await outcome(await withKid('k2')), '401');
      passed += 31_000;
      assert.equal(await outcome(await withKid('k2')), 'ok');
    } finally {
      Date.now = realNow;
      delete (performance as { now?: unknown }).now;
      server.closeAllConnections();
      server.close();
    }
  });

  it('when the issuer is down before any key set was had (a verifier started first), then tokens are 503 and the issuer is asked once a second, not once per token; once it answers, they verify', async () => {
    const { key, jwks } = await keys();
    let up = false;
    let asked = 0;
    const { server, auth } = await remoteIssuer((req, res) => {
      asked++;
      if (!up) return req.socket.destroy(); // what a dead pod's address answers, in effect: no key set
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwks));
    });
    const token = await sign(key, { role: 'customer' }, Math.floor(Date.now() / 1000) + 600);
    const outcome = () => auth.verify(token, 'ecommerce').then(() => 'ok', (e: ProblemError) => String(e.status));
    const realMono = performance.now.bind(performance);
    let passed = 0;
    performance.now = () => realMono() + passed;
    try {
      const answers: string[] = [];
      for (let i = 0; i < 30; i++) answers.push(await outcome());
      answers.push(...(await Promise.all(Array.from({ length: 30 }, outcome))));
      assert.deepEqual([...new Set(answers)], ['503']);
      assert.ok(asked <= 2, `the issuer was asked ${asked} times for 60 tokens within a second`);
      const before = asked;
      passed += 1_100;
      assert.equal(await outcome(), '503');
      assert.ok(asked > before, 'asked again after a second');
      up = true;
      passed += 1_100;
      assert.equal(await outcome(), 'ok');
    } finally {
      delete (performance as { now?: unknown }).now;
      server.closeAllConnections();
      server.close();
    }
  });

  it('when the issuer is down once the cached key set has aged past its refresh (10 min), then tokens are still verified with the keys it last published', async () => {
    const { key, jwks } = await keys();
    const { server, auth } = await remoteIssuer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwks));
    });
    const exp = Math.floor(Date.now() / 1000) + 3600;
    // Closed in the finally too: a failure before the issuer goes away left it listening, and the file waited for the
    // runner's 20 min timeout.
    try {
      assert.equal((await auth.verify(await sign(key, { role: 'customer' }, exp), 'ecommerce')).sub, 'u1');
      // The issuer goes away (killed: connections refused); another customer's token arrives 11 minutes later.
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
      const later = await sign(key, { role: 'customer', n: 2 }, exp);
      mock.timers.enable({ apis: ['Date'], now: Date.now() + 11 * 60_000 });
      const payload = await auth.verify(later, 'ecommerce').catch((e: ProblemError) => e);
      assert.equal((payload as { sub?: string }).sub, 'u1', `answered ${(payload as ProblemError).status} ${(payload as ProblemError).message}`);
    } finally {
      mock.timers.reset();
      server.close();
    }
  });
});

describe('ServiceClient', () => {
  it('forwards the request id and a traceparent of the same trace, and records the call', async () => {
    let seen: IncomingHttpHeaders = {};
    const server = createServer((req, res) => {
      seen = req.headers;
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const metrics = new Metrics('test', '0', { defaultMetrics: false });
    const client = new ServiceClient({ peer: 'peer', baseUrl: `http://127.0.0.1:${port}`, metrics });
    try {
      const traceId = 'ab'.repeat(16);
      const res = await client.request<{ ok: boolean }>({ method: 'GET', path: '/x', route: '/x', context: { id: 'req-1', trace: { traceId, spanId: 'cd'.repeat(8) } } });
      assert.deepEqual(res, { status: 200, body: { ok: true } });
      assert.equal(seen['x-request-id'], 'req-1');
      assert.match(String(seen.traceparent), new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      assert.match(await metrics.registry.metrics(), /http_client_request_duration_seconds_count\{[^}]*peer_service="peer"[^}]*\} 1/);
    } finally {
      await client.close();
      server.close();
    }
  });

  it('when the peer refuses connections, then it retries a bounded number of times and fails with a connection DependencyError', async () => {
    const metrics = new Metrics('test', '0', { defaultMetrics: false });
    const client = new ServiceClient({ peer: 'down', baseUrl: 'http://127.0.0.1:9', metrics });
    const started = Date.now();
    await assert.rejects(client.request({ method: 'GET', path: '/', route: '/', retries: 2 }), (e: unknown) => e instanceof DependencyError && e.kind === 'connection');
    assert.ok(Date.now() - started < 2000);
    assert.match(await metrics.registry.metrics(), /http_client_request_duration_seconds_count\{[^}]*error_type="connection"[^}]*\} 3/);
    await client.close();
  });

  it('when the peer drops the first connections and then answers, then the retries reach it and every attempt is recorded', async () => {
    let calls = 0;
    const server = createServer((req, res) => {
      calls++;
      if (calls <= 2) req.socket.destroy();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const metrics = new Metrics('test', '0', { defaultMetrics: false });
    const client = new ServiceClient({ peer: 'flaky', baseUrl: `http://127.0.0.1:${port}`, metrics });
    try {
      const res = await client.request({ method: 'POST', path: '/', route: '/', body: { a: 1 }, retries: 3 });
      assert.deepEqual(res, { status: 200, body: { ok: true } });
      assert.equal(calls, 3);
      const text = await metrics.registry.metrics();
      assert.match(text, /http_client_request_duration_seconds_count\{[^}]*error_type="connection"[^}]*\} 2/);
      assert.match(text, /http_client_request_duration_seconds_count\{[^}]*http_response_status_code="200"[^}]*\} 1/);
      // Without retries the first dropped connection is the answer.
      calls = 0;
      await assert.rejects(client.request({ method: 'POST', path: '/', route: '/', body: {} }), (e: unknown) => e instanceof DependencyError && e.kind === 'connection');
      assert.equal(calls, 1);
    } finally {
      await client.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('when the peer is hung (SIGSTOPped, its accept queue full), then a call fails with a timeout within its deadline and is not retried', async () => {
    // A stopped process's kernel still completes handshakes until its accept queue is full; past that, a connect
    // waits for nothing. Before: undici's own 10 s connect timeout, taken as a connection failure and retried
    // twice, held a call 30 s whatever its deadline (the order service's placements, 20 s with a 1 s deadline).
    const peer = spawn(process.execPath, ['-e', "const s = require('net').createServer(); s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => console.log(s.address().port))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    const fillers: Socket[] = [];
    const client = (port: number) => new ServiceClient({ peer: 'hung', baseUrl: `http://127.0.0.1:${port}`, metrics: new Metrics('test', '0', { defaultMetrics: false }), timeoutMs: 300 });
    let hung: ServiceClient | undefined;
    try {
      const [line] = (await once(peer.stdout!.setEncoding('utf8'), 'data')) as [string];
      const port = Number(line.trim());
      process.kill(peer.pid!, 'SIGSTOP');
      // Fill the accept queue: connect until one handshake does not complete.
      for (let i = 0; i < 64; i++) {
        const socket = connect(port, '127.0.0.1');
        fillers.push(socket);
        const connected = await Promise.race([once(socket, 'connect').then(() => true), new Promise((r) => setTimeout(r, 300, false))]);
        if (!connected) break;
      }
      hung = client(port);
      const started = Date.now();
      await assert.rejects(hung.request({ method: 'POST', path: '/', route: '/', body: {}, retries: 2 }), (e: unknown) => e instanceof DependencyError && e.kind === 'timeout');
      const took = Date.now() - started;
      assert.ok(took < 1_500, `the call took ${took} ms with a 300 ms deadline`);
    } finally {
      for (const s of fillers) s.destroy();
      await hung?.close();
      peer.kill('SIGKILL');
    }
  });

  it('when the peer is slower than the deadline, then it fails with a timeout and does not retry', async () => {
    let calls = 0;
    const server = createServer(() => {
      calls++;
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const client = new ServiceClient({ peer: 'slow', baseUrl: `http://127.0.0.1:${port}`, metrics: new Metrics('test', '0', { defaultMetrics: false }), timeoutMs: 200 });
    try {
      await assert.rejects(client.request({ method: 'POST', path: '/', route: '/', body: {}, retries: 3 }), (e: unknown) => e instanceof DependencyError && e.kind === 'timeout');
      assert.equal(calls, 1);
    } finally {
      await client.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
