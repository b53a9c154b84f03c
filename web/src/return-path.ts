/**
 * Where to go after signing in: a path of this site only. The browser reads `/\host` as `//host` (another
 * site), so a next with a backslash, a scheme or another origin goes to the shop's start instead; so does one
 * whose dot segments leave `//host` once resolved (`/.//evil.example` is `//evil.example`: same origin to
 * URL(), another site to the browser and to React Router, which refused it with an error page).
 * Slashes further in are made one, as React Router's navigate makes them (its resolvePath turns any run of `/`
 * in a path into one): `/orders//cart` is `/orders/cart`, the path the visitor lands on, not one beside it.
 * Escaped slashes and backslashes (`%2F`, `%5C`) stay escaped: a segment's text to the browser and the router.
 */
export function sameSitePath(next: string | null, origin: string): string {
  if (!next || !next.startsWith('/') || next.includes('\\')) return '/';
  try {
    const url = new URL(next, origin);
    if (url.origin !== origin || url.pathname.startsWith('//')) return '/';
    return `${url.pathname.replace(/\/{2,}/g, '/')}${url.search}${url.hash}`;
  } catch {
    return '/';
  }
}

/** The sign-in page that brings the visitor back to `path` (a pathname and its query) once signed in. */
export function signInFrom(path: string): string {
  return `/signin?next=${encodeURIComponent(path)}`;
}
