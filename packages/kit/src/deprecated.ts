// Service knowledge the kit still holds until every service passes it in (issue 11); removed at merge.

/** @deprecated kept until services stop importing it: each service computes its issuer's JWKS URL itself. */
export function jwksUrl(userServiceUrl: string): URL {
  return new URL('/user/.well-known/jwks.json', userServiceUrl);
}

/** @deprecated kept until every service passes `roles` to its Authenticator. */
export const ROLES_UNTIL_SERVICES_PASS_THEM: readonly string[] = ['customer', 'admin'];
