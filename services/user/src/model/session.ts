import { createHash, randomBytes } from 'node:crypto';

/** What login and refresh answer: a short-lived access token and the session's refresh token. */
export interface TokenPair {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
}

export interface RefreshTokenIssued {
  token: string;
  familyId: string;
  /** Seconds the token lives: the refresh TTL, or less near its session's maximum age. */
  expiresIn: number;
}

/** A token pair and how long its refresh token lives (the refresh cookie's Max-Age). */
export interface IssuedTokens {
  pair: TokenPair;
  refreshExpiresIn: number;
}

/** A new random refresh token (256 bits); only its digest is stored. */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

export function refreshTokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
