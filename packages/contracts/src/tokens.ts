// What a user access token says about its holder: every service that verifies one accepts these roles only.

export const USER_ROLES = ['customer', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** Where the user service publishes the keys that verify its tokens (a path under USER_SERVICE_URL). */
export const USER_JWKS_PATH = '/user/.well-known/jwks.json';
