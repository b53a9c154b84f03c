// JWT_PRIVATE_KEY as operators make it: the key set published from it must verify the tokens it signs, and a key that
// cannot sign must stop the service at start-up, not answer every login with a 500.
import assert from 'node:assert/strict';
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { ConfigError } from '@ecommerce/kit';
import { createTestDatabase, http, login, registerAccount, stopAll, type Running } from '@ecommerce/test-support';
import { loadUserConfig } from '../src/config.js';
import { loadPublishedKeys, loadSigningKey, signToken } from '../src/model/signing-key.js';
import { startUserService } from './harness.js';

const claims = { subject: 's', issuer: 'https://issuer.test', audience: 'ecommerce', ttlSeconds: 60, jti: 'j', typ: 'at+jwt' };

/** A private JWK as WebCrypto exports it (key_ops ["sign"], ext true): what `crypto.subtle.exportKey('jwk', ...)` writes. */
async function webCryptoJwk(algorithm: 'Ed25519' | 'P-256'): Promise<string> {
  const params = algorithm === 'Ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: 'P-256' };
  const pair = (await webcrypto.subtle.generateKey(params, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  return JSON.stringify(await webcrypto.subtle.exportKey('jwk', pair.privateKey));
}

describe('JWT_PRIVATE_KEY', () => {
  it('when the private JWK carries key_ops ["sign"] (as WebCrypto exports it), then the published key set verifies its tokens and holds public members only', async () => {
    for (const algorithm of ['Ed25519', 'P-256'] as const) {
      const jwk = await webCryptoJwk(algorithm);
      assert.deepEqual(JSON.parse(jwk).key_ops, ['sign']);
      const key = await loadSigningKey(jwk, undefined);
      const token = await signToken(key, {}, claims);
      // What every verifier does with GET /user/.well-known/jwks.json (jose picks keys whose key_ops allow verify).
      const { payload } = await jwtVerify(token, createLocalJWKSet(key.jwks), { algorithms: ['EdDSA', 'ES256'], issuer: claims.issuer, audience: claims.audience });
      assert.equal(payload.sub, 's', algorithm);
      const [published] = key.jwks.keys;
      assert.deepEqual(Object.keys(published!).sort(), (algorithm === 'Ed25519' ? ['alg', 'crv', 'kid', 'kty', 'use', 'x'] : ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']), algorithm);
    }
  });

  it('when JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE holds a private key of any type, PKCS#8 PEM or JWK, then only an Ed25519 or P-256 one is loaded, and it signs tokens its published key set verifies; any other stops the start naming the variable', async () => {
    // README's Configuration table and docs/configuration.md: "Ed25519 or P-256 signing key, PKCS#8 PEM or private JWK".
    const kinds = [
      { type: 'ed25519', alg: 'EdDSA' },
      { type: 'ec', options: { namedCurve: 'prime256v1' }, alg: 'ES256' },
      { type: 'ed448' },
      { type: 'x25519' },
      { type: 'ec', options: { namedCurve: 'secp384r1' } },
      { type: 'ec', options: { namedCurve: 'secp521r1' } },
      { type: 'ec', options: { namedCurve: 'secp256k1' } },
      { type: 'rsa', options: { modulusLength: 2048 } },
    ] as const;
    const dir = mkdtempSync(join(tmpdir(), 'signing-key-'));
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...kinds), fc.constantFrom('pkcs8', 'sec1', 'jwk'), fc.constantFrom('inline', 'file'), fc.boolean(), async (kind, format, via, padded) => {
          if (format === 'sec1' && kind.type !== 'ec') return;
          const { privateKey } = generateKeyPairSync(kind.type as 'ec', ('options' in kind ? kind.options : {}) as { namedCurve: string });
          let text = format === 'jwk' ? JSON.stringify(privateKey.export({ format: 'jwk' })) : privateKey.export({ format: 'pem', type: format }).toString();
          if (padded) text = `\n  ${text}\n\n`;
          const file = join(dir, 'key');
          if (via === 'file') writeFileSync(file, text);
          const loading = via === 'file' ? loadSigningKey(undefined, file) : loadSigningKey(text, undefined);
          const label = `${kind.type} ${'options' in kind ? JSON.stringify(kind.options) : ''} ${format} ${via}`;
          // A SEC1 PEM ("BEGIN EC PRIVATE KEY") is no PKCS#8: refused, whatever its curve.
          if (!('alg' in kind) || format === 'sec1') {
            await assert.rejects(loading, (err: unknown) => err instanceof ConfigError && /JWT_PRIVATE_KEY: not a usable Ed25519 or P-256 private key/.test(err.message), label);
            return;
          }
          const key = await loading;
          assert.equal(key.alg, kind.alg, label);
          const token = await signToken(key, {}, claims);
          const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(key.jwks), { algorithms: [kind.alg], issuer: claims.issuer, audience: claims.audience });
          assert.equal(protectedHeader.kid, key.kid, label);
          assert.ok(key.jwks.keys.every((k) => !('d' in k)), `${label}: the published set holds no private member`);
        }),
        { numRuns: 80 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when it is a public JWK (no "d"), then the service refuses to start, saying so, instead of a 500 at each signature', async () => {
    const publicJwk = JSON.stringify(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }));
    await assert.rejects(loadSigningKey(publicJwk, undefined), (err: unknown) => err instanceof ConfigError && /JWT_PRIVATE_KEY: .*private key/.test(err.message));
  });
});

/** An Ed25519 key pair as PKCS#8 and SPKI PEM. */
function keyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}

const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

describe('a setting given inline and as a file (JWT_PRIVATE_KEY, JWT_PUBLIC_KEYS, SERVICE_CLIENTS and their _FILE)', () => {
  it('when both are set, whatever they hold, then the service refuses to start naming both; either alone is taken', () => {
    // Before, the inline one won without a word: a key moved to a mounted Secret file kept signing with the old one.
    const names = ['JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEYS', 'SERVICE_CLIENTS'] as const;
    const base = { DATABASE_URL: 'postgres://user@127.0.0.1/db' };
    fc.assert(
      fc.property(fc.subarray([...names], { minLength: 1 }), fc.string({ minLength: 2 }), fc.string({ minLength: 1 }), (both, inline, file) => {
        const env: Record<string, string> = { ...base };
        for (const name of both) Object.assign(env, { [name]: inline, [`${name}_FILE`]: file });
        assert.throws(
          () => loadUserConfig(env),
          (err: unknown) =>
            err instanceof ConfigError &&
            err.problems.join('\n') === both.map((name) => `${name} and ${name}_FILE: both are set; give one (the inline one was used and the file ignored)`).join('\n'),
        );
        for (const name of both) {
          assert.equal(loadUserConfig({ ...base, [name]: inline })[name], inline);
          assert.equal(loadUserConfig({ ...base, [`${name}_FILE`]: file })[`${name}_FILE`], file);
        }
      }),
    );
  });
});

describe('rotating the signing key (JWT_PUBLIC_KEYS)', () => {
  it('when the service signs with a new key and publishes the previous one, then tokens the previous one signed are still accepted and the JWKS holds both; without it they are refused', async () => {
    const db = await createTestDatabase();
    const previous = keyPair();
    const next = keyPair();
    let user: Running | undefined;
    try {
      // Before the rotation: the next key is published already, so verifiers hold it before its first token.
      user = await startUserService(db.urls.user, { JWT_PRIVATE_KEY: previous.privatePem, JWT_PUBLIC_KEYS: next.publicPem });
      const before = (await http<{ keys: { kid: string; d?: string }[] }>(user.base, 'GET', '/user/.well-known/jwks.json')).body;
      assert.equal(before.keys.length, 2);
      const account = await registerAccount(user.base);
      const oldToken = await login(user.base, account.email, account.password);
      await stopAll(user);
      // The rotation: the next key signs, the previous one is published while its tokens live out.
      user = await startUserService(db.urls.user, { JWT_PRIVATE_KEY: next.privatePem, JWT_PUBLIC_KEYS: previous.publicPem });
      const me = await http(user.base, 'GET', '/user/me', { token: oldToken });
      assert.equal(me.status, 200, me.text);
      const after = (await http<{ keys: { kid: string; d?: string }[] }>(user.base, 'GET', '/user/.well-known/jwks.json')).body;
      const newToken = await login(user.base, account.email, account.password);
      assert.deepEqual(after.keys.map((k) => k.kid).sort(), [kidOf(oldToken), kidOf(newToken)].sort());
      assert.ok(after.keys.every((k) => k.d === undefined));
      await stopAll(user);
      // The previous key taken out: its tokens are refused.
      user = await startUserService(db.urls.user, { JWT_PRIVATE_KEY: next.privatePem });
      assert.equal((await http(user.base, 'GET', '/user/me', { token: oldToken })).status, 401);
    } finally {
      await stopAll(user, db);
    }
  });

  it('when JWT_PUBLIC_KEYS holds a private key, a key of another type or text that is no key, then the service refuses to start, saying which', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const privateJwk = JSON.stringify(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }));
    for (const [text, words] of [
      [keyPair().privatePem, /key 1 is not usable \(not a public key/],
      [`${keyPair().publicPem}${rsa}`, /key 2 is not usable \(not an Ed25519 or P-256 key/],
      [privateJwk, /key 1 is not usable \(not a public key/],
      ['not a key', /neither JSON/],
    ] as const) {
      await assert.rejects(loadPublishedKeys(text, undefined), (err: unknown) => err instanceof ConfigError && words.test(err.message), text.slice(0, 40));
    }
  });
});
