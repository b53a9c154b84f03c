// The signed-in session: access token in memory (api/client.ts), refresh token in an HttpOnly cookie the page
// cannot read (docs/api.md, "Refresh token in a cookie"). A reload refreshes from the cookie; logout clears it.
import { ApiError, ok, setAccessToken, userApi, type User } from './api/client.js';

export type SessionUser = User;

// A hint, not a secret: "this browser signed in", so a first visit does not ask for a refresh that can only
// fail (a failed request is a console error and a wasted round trip). The session itself is the HttpOnly cookie.
const HINT = 'ecommerce.session';
const hint = {
  get: () => typeof localStorage !== 'undefined' && localStorage.getItem(HINT) === '1',
  set: (on: boolean) => {
    if (typeof localStorage === 'undefined') return;
    if (on) localStorage.setItem(HINT, '1');
    else localStorage.removeItem(HINT);
  },
};

let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let inFlight: Promise<boolean> | null = null;

function schedule(expiresIn: number): void {
  clearTimeout(refreshTimer);
  // Renew well before expiry; a failed renewal simply ends the session.
  refreshTimer = setTimeout(() => void refresh(), Math.max(5, expiresIn * 0.8) * 1000);
}

/** One refresh at a time, across tabs too: two refreshes with one rotating token would look like token theft. */
function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  return locks ? (locks.request('ecommerce-refresh', fn) as Promise<T>) : fn();
}

/** Exchanges the refresh cookie for a new access token; false when there is no live session. */
function refresh(): Promise<boolean> {
  inFlight ??= exclusive(async () => {
    const res = await userApi.POST('/user/token/refresh', { body: {} });
    if (!res.data) {
      setAccessToken(null);
      hint.set(false);
      return false;
    }
    setAccessToken(res.data.accessToken);
    schedule(res.data.expiresIn);
    return true;
  }).finally(() => {
    inFlight = null;
  });
  return inFlight;
}

async function currentUser(): Promise<SessionUser> {
  return ok(await userApi.GET('/user/me'));
}

/** The hint's key: another tab signing out removes it, signing in sets it (a `storage` event here). */
export const SESSION_HINT_KEY = HINT;

/**
 * After a call was refused with our token: asks for a new one once; false when the session is over (revoked,
 * expired, signed out elsewhere), and then this tab forgets its token.
 */
export async function confirmSession(): Promise<boolean> {
  try {
    return await refresh();
  } catch {
    return false;
  }
}

/** Another tab signed out: this one drops its token too (the server revoked the session already). */
export function forgetSession(): void {
  clearTimeout(refreshTimer);
  setAccessToken(null);
}

/** Restores the session on page load; null when signed out. */
export async function restoreSession(): Promise<SessionUser | null> {
  if (!hint.get()) return null;
  try {
    return (await refresh()) ? await currentUser() : null;
  } catch {
    return null;
  }
}

export async function signIn(email: string, password: string): Promise<SessionUser> {
  const data = ok(await userApi.POST('/user/login', { body: { email, password, refreshTokenIn: 'cookie' } }));
  setAccessToken(data.accessToken);
  hint.set(true);
  schedule(data.expiresIn);
  return currentUser();
}

export async function createAccount(name: string, email: string, password: string): Promise<SessionUser> {
  ok(await userApi.POST('/user/register', { body: { name, email, password } }));
  return signIn(email, password);
}

export async function signOut(): Promise<void> {
  clearTimeout(refreshTimer);
  setAccessToken(null);
  hint.set(false);
  const res = await userApi.POST('/user/logout', { body: {} });
  // 401: the session had already ended; the cookie is cleared either way.
  if (res.error !== undefined && res.response.status !== 401) throw new ApiError(res.response.status, res.error as never);
}
