import { settingText } from './setting-text.js';
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
  let text = settingText('JWT_PRIVATE_KEY', inline, file);
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

/**
 * JWT_PUBLIC_KEYS (or _FILE): public keys published in the JWKS beside the signing key's, for rotating it (docs/deploy.md):
 * the next key, published before it signs so that every verifier has it when its first token comes, and the previous
 * one, until the last tokens it signed have expired (ACCESS_TOKEN_TTL_SECONDS, SERVICE_TOKEN_TTL_SECONDS). A JWK Set
 * ({"keys": [...]}), one JWK, or PEM public keys one after another; Ed25519 or P-256, public members only.
 */
export async function loadPublishedKeys(inline: string | undefined, file: string | undefined): Promise<JWK[]> {
  const text = settingText('JWT_PUBLIC_KEYS', inline, file)?.trim();
  if (!text) return [];
  const problems: string[] = [];
  const keys: JWK[] = [];
  let entries: (JWK | string)[];
  if (text.startsWith('{')) {
    let parsed: { keys?: unknown };
    try {
      parsed = JSON.parse(text) as { keys?: unknown };
    } catch {
      throw new ConfigError(['JWT_PUBLIC_KEYS: is neither JSON (a JWK Set or one JWK) nor PEM public keys']);
    }
    entries = Array.isArray(parsed.keys) ? (parsed.keys as JWK[]) : [parsed as JWK];
  } else {
    entries = text.match(/-----BEGIN [A-Z ]+-----[^-]+-----END [A-Z ]+-----/g) ?? [];
    if (entries.length === 0) throw new ConfigError(['JWT_PUBLIC_KEYS: is neither JSON (a JWK Set or one JWK) nor PEM public keys']);
  }
  for (const [i, entry] of entries.entries()) {
    try {
      // A private key here is a mistake that would put a signing key where anyone reads it: refused, never published.
      if (typeof entry === 'string' ? !entry.startsWith('-----BEGIN PUBLIC KEY-----') : entry === null || typeof entry !== 'object' || 'd' in entry) {
        throw new Error('not a public key (a private key is never published)');
      }
      const pubKey = typeof entry === 'string' ? createPublicKey(entry) : createPublicKey({ key: entry as JsonWebKey, format: 'jwk' });
      const alg = pubKey.asymmetricKeyType === 'ed25519' ? 'EdDSA' : pubKey.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? 'ES256' : undefined;
      if (!alg) throw new Error('not an Ed25519 or P-256 key');
      const jwk = await exportJWK(pubKey);
      keys.push({ ...jwk, kid: await calculateJwkThumbprint(jwk), alg, use: 'sig' });
    } catch (err) {
      problems.push(`JWT_PUBLIC_KEYS: key ${i + 1} is not usable (${(err as Error).message})`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return keys;
}

/** The signing key with the further keys its JWKS publishes (each once: the signing key's own left out). */
export function publishing(key: SigningKey, published: JWK[]): SigningKey {
  const keys = [...key.jwks.keys];
  for (const k of published) if (!keys.some((held) => held.kid === k.kid)) keys.push(k);
  return { ...key, jwks: { keys } };
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
