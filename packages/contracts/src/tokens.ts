// What a user access token says about its holder: every service that verifies one accepts these roles only.
import { Type } from '@ecommerce/kit';

export const USER_ROLES = ['customer', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** Where the user service publishes the keys that verify its tokens (a path under USER_SERVICE_URL). */
export const USER_JWKS_PATH = '/user/.well-known/jwks.json';

/** Where the user service issues service tokens (OAuth client credentials; a path under USER_SERVICE_URL). */
export const USER_TOKEN_PATH = '/user/oauth/token';

/** The variables that name the tokens' issuer and audience, for every service that signs or verifies them. */
export const TokenEnv = {
  JWT_ISSUER: Type.String({ default: 'ecommerce-user-service', minLength: 1 }),
  JWT_AUDIENCE: Type.String({ default: 'ecommerce', minLength: 1 }),
};
