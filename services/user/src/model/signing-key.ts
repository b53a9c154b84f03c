import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, importJWK, importPKCS8, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import { ConfigError } from '@ecommerce/kit';
import { createPublicKey, type JsonWebKey } from 'node:crypto';

export interface SigningKey {
  alg: 'EdDSA' | 'ES256';
  kid: string;
  privateKey: Parameters<SignJWT['sign']>[0];
  jwks: JSONWebKeySet;
}

/** Loads the asymmetric signing key from JWT_PRIVATE_KEY (PEM or JWK) or JWT_PRIVATE_KEY_FILE. */
export async function loadSigningKey(inline: string | undefined, file: string | undefined): Promise<SigningKey> {
  let text = inline;
  if (!text && file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([`JWT_PRIVATE_KEY_FILE: cannot read ${file} (${(err as Error).message})`]);
    }
  }
  if (!text) throw new ConfigError(['JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE: is required (an Ed25519 or P-256 private key, PEM or JWK)']);
  text = text.trim();
  let publicJwk: JWK;
  let privateKey: SigningKey['privateKey'];
  let alg: SigningKey['alg'];
  try {
    if (text.startsWith('{')) {
      const jwk = JSON.parse(text) as JWK;
      // A public JWK imports too, and then every signature (each login) throws: refused here, at start-up.
      if (typeof jwk.d !== 'string') throw new Error('a public JWK: the private key\'s "d" is missing');
      alg = jwk.crv === 'Ed25519' ? 'EdDSA' : 'ES256';
      privateKey = await importJWK(jwk, alg);
      // The public key's own members only (kty, crv, x, y), not the private JWK's others: its key_ops ["sign"] (as
      // WebCrypto exports a private key) published made verifiers find no key for verify, every token refused.
      publicJwk = await exportJWK(createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }));
    } else {
      const pubKey = createPublicKey(text);
      alg = pubKey.asymmetricKeyType === 'ed25519' ? 'EdDSA' : 'ES256';
      if (pubKey.asymmetricKeyType !== 'ed25519' && pubKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('unsupported key type');
      privateKey = await importPKCS8(text, alg);
      publicJwk = await exportJWK(pubKey);
    }
  } catch (err) {
    throw new ConfigError([`JWT_PRIVATE_KEY: not a usable Ed25519 or P-256 private key (${(err as Error).message})`]);
  }
  const kid = await calculateJwkThumbprint(publicJwk);
  return { alg, kid, privateKey, jwks: { keys: [{ ...publicJwk, kid, alg, use: 'sig' }] } };
}

export function signToken(key: SigningKey, claims: Record<string, unknown>, opts: { subject: string; issuer: string; audience: string; ttlSeconds: number; jti: string; typ: string }): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: opts.typ })
    .setSubject(opts.subject)
    .setIssuer(opts.issuer)
    .setAudience(opts.audience)
    .setIssuedAt()
    .setExpirationTime(`${opts.ttlSeconds}s`)
    .setJti(opts.jti)
    .sign(key.privateKey);
}
