import type { JSONWebKeySet } from 'jose';
import { uuidv7 } from '@ecommerce/kit';
import { signToken, type SigningKey } from './signing-key.js';
import type { TokenPair } from './session.js';

export interface TokenLifetimes {
  accessSeconds: number;
  refreshSeconds: number;
  serviceSeconds: number;
}

export interface TokenAudiences {
  issuer: string;
  /** Of user access tokens. */
  users: string;
  /** Of service tokens: a different audience, so neither kind is accepted where the other belongs. */
  services: string;
}

/** Signs the tokens this service issues (access tokens for users, service tokens for clients) and knows their lifetimes. */
export class TokenIssuer {
  constructor(
    private readonly key: SigningKey,
    private readonly audiences: TokenAudiences,
    readonly lifetimes: TokenLifetimes,
  ) {}

  /** The public keys that verify every token this issuer signs (served at /user/.well-known/jwks.json). */
  get jwks(): JSONWebKeySet {
    return this.key.jwks;
  }

  /**
   * A fresh access token for the user, paired with the session's refresh token; it lives no longer than that token
   * (`sessionSecondsLeft`), so nothing a session issues outlives the session's maximum age.
   */
  async pair(userId: string, role: string, refreshToken: string, sessionSecondsLeft: number): Promise<TokenPair> {
    const ttlSeconds = Math.min(this.lifetimes.accessSeconds, sessionSecondsLeft);
    const accessToken = await signToken(this.key, { role }, {
      subject: userId,
      issuer: this.audiences.issuer,
      audience: this.audiences.users,
      ttlSeconds,
      jti: uuidv7(),
      typ: 'at+jwt',
    });
    return { accessToken, tokenType: 'Bearer', expiresIn: ttlSeconds, refreshToken };
  }

  /** A service token (client-credentials grant) carrying the granted scopes, space-separated. */
  serviceToken(clientId: string, scope: string): Promise<string> {
    return signToken(this.key, { scope }, {
      subject: clientId,
      issuer: this.audiences.issuer,
      audience: this.audiences.services,
      ttlSeconds: this.lifetimes.serviceSeconds,
      jti: uuidv7(),
      typ: 'at+jwt',
    });
  }
}
