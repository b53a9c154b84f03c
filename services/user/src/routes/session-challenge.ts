// The challenge of a 401 at the session endpoints (POST /user/login, /user/token/refresh, /user/logout). RFC 9110
// 11.6.1 and 15.5.2: every 401 carries WWW-Authenticate with a challenge applicable to the resource. The kit's
// Unauthorized sends `Bearer` (RFC 6750 3), right for a resource that takes an access token and wrong here: these take
// none (the web app sends none to them) but a password or a refresh token in the body, and a client that answers a
// Bearer challenge with its access token would be refused again. No registered scheme carries credentials in a JSON
// body (RFC 6749 5.2's 400 invalid_grant is the OAuth token endpoint's, and the clients and docs/api.md rely on the
// 401 here), so the challenge names the credential the resource takes, a scheme of this API (RFC 9110 11.1: any token
// is a scheme): no browser offers its login dialog for it (it does for Basic and Digest), and no client sends its
// access token for it. Each route names its challenge in its config (`challenge`): the kit puts it on every 401 the
// route answers, whatever raised it, and in the OpenAPI document.

/** The challenge of POST /user/login: an email and a password, in the body. */
export const PASSWORD_CHALLENGE = 'Password';
/** The challenge of POST /user/token/refresh and /user/logout: a refresh token, in the body or the refresh cookie. */
export const REFRESH_TOKEN_CHALLENGE = 'RefreshToken';
