// JWT_PRIVATE_KEY as operators make it: the key set published from it must verify the tokens it signs, and a key that
// cannot sign must stop the service at start-up, not answer every login with a 500.
import assert from 'node:assert/strict';
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { ConfigError } from '@ecommerce/kit';
import { loadSigningKey, signToken } from '../src/model/signing-key.js';

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

  it('when it is a public JWK (no "d"), then the service refuses to start, saying so, instead of a 500 at each signature', async () => {
    const publicJwk = JSON.stringify(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }));
    await assert.rejects(loadSigningKey(publicJwk, undefined), (err: unknown) => err instanceof ConfigError && /JWT_PRIVATE_KEY: .*private key/.test(err.message));
  });
});
