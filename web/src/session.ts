// The signed-in session: access token in memory (api/client.ts), refresh token in an HttpOnly cookie the page
// cannot read (docs/api.md, "Refresh token in a cookie"). A reload refreshes from the cookie; logout clears it.
import { ApiError, hasAccessToken, ok, renewTokenWith, sessionEvents, setAccessToken, userApi, type Renewal, type User } from './api/client.js';

export type SessionUser = User;

// A hint, not a secret: "this browser signed in", so a first visit does not ask for a refresh that can only
// fail (a failed request is a console error and a wasted round trip). The session itself is the HttpOnly cookie.
// Its value also says whether the session was an admin's ('admin', else '1'), so the header keeps the Admin link's
// place while a reload checks it. Written only when it changes: other tabs hear every write (a `storage` event).
const HINT = 'ecommerce.session';
const stored = () => (typeof localStorage === 'undefined' ? null : localStorage.getItem(HINT));
const hint = {
  get: () => stored() !== null,
  admin: () => stored() === 'admin',
  set: (on: boolean, role?: string) => {
    if (typeof localStorage === 'undefined') return;
    const value = role === 'admin' ? 'admin' : '1';
    if (!on) localStorage.removeItem(HINT);
    else if (stored() !== value) localStorage.setItem(HINT, value);
  },
};

// The refresh on its way, named by an Idempotency-Key kept until it gets a final answer: a page that navigates while
// its refresh is out drops the answer carrying the new cookie after the rotation committed, and the next page (or
// tab, or retry) sends the same refresh again with that key, which the user service answers with a new pair instead
// of ending the session as a reuse of the spent token (docs/api.md). Kept across pages in localStorage: the Web Lock
// below makes it one refresh's at a time in this browser. Older than the service's window, it is a new refresh.
const REFRESH_KEY = 'ecommerce.refresh-key';
const REFRESH_RETRY_MS = 100_000;
const refreshKey = {
  /** The key of a refresh that got no final answer, or a new one (noted with when it was first sent). */
  take(): string {
    try {
      const kept = JSON.parse(localStorage.getItem(REFRESH_KEY) ?? 'null') as { key?: unknown; at?: unknown } | null;
      const age = Date.now() - Number(kept?.at);
      if (typeof kept?.key === 'string' && age >= 0 && age < REFRESH_RETRY_MS) return kept.key;
    } catch {
      // Not JSON (written by hand), or no storage: a new key.
    }
    const key = crypto.randomUUID();
    try {
      localStorage.setItem(REFRESH_KEY, JSON.stringify({ key, at: Date.now() }));
    } catch {
      // No storage (full, or none): the refresh goes as before, without a retry after a lost answer.
    }
    return key;
  },
  /** The refresh was answered for good (a new pair, or refused): its key is done with. */
  done(): void {
    if (typeof localStorage !== 'undefined') localStorage.removeItem(REFRESH_KEY);
  },
};

let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let inFlight: Promise<Renewal> | null = null;
/** Refreshes in a row that got no answer from the user service: the next try waits longer. */
let failures = 0;
/** Until when (epoch ms) a renewal asked for by a refused call is not sent: the back-off of retryLater. */
let retryAt = 0;
/** Times this tab forgot its session (signed out, here or in another tab): a refresh sent before one is void after it. */
let forgotten = 0;
/** The last session of this tab ended by a sign-out (here or in another tab), not by expiring: nothing is kept for after. */
let signedOut = false;
/** The page loaded signed in but could not confirm it (no renewal, or no /user/me): the next renewal that works signs it in. */
let restoring = false;

/** The longest a timer waits (2^31 - 1 ms, about 24 days): a longer delay fires at once, in browsers and in Node. */
const MAX_TIMER_SECONDS = 2_147_483;

function schedule(expiresIn: number): void {
  // A live session: whatever ended the last one, the next end is said anew.
  signedOut = false;
  clearTimeout(refreshTimer);
  // Renew well before expiry; a renewal the user service could not answer is tried again (retryLater). An
  // `expiresIn` that is not a number (left out, a string) or beyond a timer's range fired the timer at once, and
  // each renewal scheduled the next at once: a refresh loop as fast as the user service answered.
  const seconds = typeof expiresIn === 'number' && Number.isFinite(expiresIn) ? expiresIn * 0.8 : 5;
  refreshTimer = setTimeout(() => void refresh(), Math.min(MAX_TIMER_SECONDS, Math.max(5, seconds)) * 1000);
}

/**
 * The user service did not answer the refresh (a 5xx, a 429, no connection): the session may well be alive, so
 * the token and the sign-in flag stay, and the refresh is tried again after 2, 4, 8... up to 60 seconds.
 */
function retryLater(): Renewal {
  failures += 1;
  const delayMs = Math.min(60, 2 ** failures) * 1000;
  retryAt = Date.now() + delayMs;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void refresh(true), delayMs);
  return 'unavailable';
}

/** One refresh at a time, across tabs too: two refreshes with one rotating token would look like token theft. */
function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  return locks ? (locks.request('ecommerce-refresh', fn) as Promise<T>) : fn();
}

/**
 * Exchanges the refresh cookie for a new access token. Only a refusal ends the session: 401 (expired, revoked,
 * reused) or 400 (no refresh token at all), docs/api.md; then this tab forgets its token and says so
 * ('ended' on sessionEvents), so the header does not keep a dead "Sign out".
 */
function refresh(now = false): Promise<Renewal> {
  // A call refused with an expired token asks for a renewal each time (a page polling an order every second did,
  // 60 refreshes a minute at a user service answering 503): during the back-off it gets 'unavailable' unasked.
  // The retry timer and a page load or Try again (`now`) do ask.
  if (!now && !inFlight && failures > 0 && Date.now() < retryAt) return Promise.resolve('unavailable');
  inFlight ??= exclusive(async (): Promise<Renewal> => {
    const before = forgotten;
    let res;
    try {
      res = await userApi.POST('/user/token/refresh', { params: { header: { 'idempotency-key': refreshKey.take() } }, body: {} });
    } catch {
      // No answer: the rotation may have committed, so the retry sends the same key.
      return before === forgotten ? retryLater() : 'ended';
    }
    if (res.response.ok || res.response.status === 401 || res.response.status === 400) refreshKey.done();
    // Signed out while this refresh was on its way: its token (valid for minutes) is not taken, no retry is set.
    if (before !== forgotten) return 'ended';
    if (res.data) {
      failures = 0;
      setAccessToken(res.data.accessToken);
      schedule(res.data.expiresIn);
      // A reload that found the user service down signed nobody in: this renewal does (state.tsx).
      if (restoring) {
        restoring = false;
        sessionEvents.dispatchEvent(new Event('restored'));
      }
      return 'renewed';
    }
    if (res.response.status !== 401 && res.response.status !== 400) return retryLater();
    endSession();
    sessionEvents.dispatchEvent(new Event('ended'));
    return 'ended';
  }).finally(() => {
    inFlight = null;
  });
  return inFlight;
}

// Calls refused with an expired access token renew it here and are sent once more (api/client.ts).
renewTokenWith(() => refresh());

/** Whose this tab's sessionStorage is: what is kept there (the admin's drafts) is that user's alone. */
const TAB_USER = 'ecommerce.tab-user';

export async function currentUser(): Promise<SessionUser> {
  const user = ok(await userApi.GET('/user/me'));
  // Another user signed in here (the last one's session expired, so nothing was forgotten): what the tab kept for
  // them goes before anything can show it.
  if (sessionStorage.getItem(TAB_USER) !== user.id) {
    sessionStorage.clear();
    sessionStorage.setItem(TAB_USER, user.id);
  }
  return user;
}

/**
 * Whether `userId`'s session is still this tab's: the browser remembers a sign-in, and the tab's sessionStorage is
 * that user's (a sign-out clears it, another user's sign-in makes it theirs). A page the back/forward cache restores
 * asks it of the user it shows (state.tsx).
 */
export function sessionHeldBy(userId: string): boolean {
  return hint.get() && sessionStorage.getItem(TAB_USER) === userId;
}

/** The hint's key: another tab signing out removes it, signing in sets it (a `storage` event here). */
export const SESSION_HINT_KEY = HINT;

/** Whether a page load has a session to check (restoreSession asks the user service); without the hint, nobody is signed in. */
export const sessionToCheck = hint.get;

/** Whether the session being checked was an admin's when last seen (a layout hint, not a permission). */
export const rememberedAdmin = hint.admin;

/** Another tab signed out, or a refresh was refused: this tab drops its token too. */
export function forgetSession(): void {
  forgotten += 1;
  clearTimeout(refreshTimer);
  setAccessToken(null);
}

/** Whether the session ended by a sign-out (here or in another tab): then nothing typed is kept for its user. */
export const userSignedOut = () => signedOut;

/**
 * The user signed out (here, or in another tab: the hint went from 'out', written by signOut). A shared computer's
 * next user must not find what this tab kept for them (the admin's drafts, in sessionStorage): it goes, and what
 * would be kept as the session goes (userSignedOut) is not.
 */
export function forgetUser(): void {
  signedOut = true;
  sessionStorage.clear();
}

/** The session ended (refused, or signed out): the token goes, and the flag (other tabs follow it). */
function endSession(): void {
  forgetSession();
  hint.set(false);
  refreshKey.done();
}

/**
 * What a page load found: who is signed in; nobody; or a session the user service could not confirm (no answer,
 * a 5xx, a 429), which is kept: the page says so and offers to try again.
 */
export type Restored = { status: 'signed-in'; user: SessionUser } | { status: 'anonymous' } | { status: 'unreachable' };

/**
 * Restores the session on page load, and again at "Try again". Only a refusal (401, 400) signs out; when the user
 * service could not answer, the token (if the refresh got one) and the flag stay, the refresh is tried again
 * later (retryLater), and 'restored' on sessionEvents says when a later renewal worked.
 */
export async function restoreSession(): Promise<Restored> {
  if (!hint.get()) return { status: 'anonymous' };
  restoring = false;
  // A token this tab holds already (the refresh worked, then /user/me got no answer) is used as it is.
  const renewal = hasAccessToken() ? 'renewed' : await refresh(true);
  if (renewal === 'ended') return { status: 'anonymous' };
  if (renewal === 'renewed') {
    try {
      const user = await currentUser();
      hint.set(true, user.role);
      return { status: 'signed-in', user };
    } catch (err) {
      // A 401 here comes after the bearer's one renewal: refused (the refresh ended the session, or the new
      // token was refused too) ends it; a renewal that got no answer (failures) keeps it.
      if (err instanceof ApiError && (err.status === 401 || err.status === 400) && failures === 0) {
        if (hasAccessToken()) {
          endSession();
          // The refresh cookie that got the refused token would still renew on the server: revoke it (best effort).
          void userApi.POST('/user/logout', { body: {} }).catch(() => undefined);
        }
        return { status: 'anonymous' };
      }
      if (!hasAccessToken()) return { status: 'anonymous' };
    }
  }
  restoring = true;
  return { status: 'unreachable' };
}

export async function signIn(email: string, password: string): Promise<SessionUser> {
  const data = ok(await userApi.POST('/user/login', { body: { email, password, refreshTokenIn: 'cookie' } }));
  // A new session (a new cookie): a key kept for an unanswered refresh of the last one (another user's, on a shared
  // computer) names nothing of it, and sent with its first refresh would leave that refresh less of the retry window.
  refreshKey.done();
  setAccessToken(data.accessToken);
  hint.set(true);
  restoring = false;
  failures = 0;
  schedule(data.expiresIn);
  const user = await currentUser();
  hint.set(true, user.role);
  return user;
}

/**
 * Ends the session on the server, then here. Throws, and the session stays, when the user service could not be
 * reached or failed: the refresh cookie would stay valid there, so the user is told and can press again.
 */
export async function signOut(): Promise<void> {
  const res = await userApi.POST('/user/logout', { body: {} });
  // Final: ended (2xx), or nothing left to end (401: no live session; 400: no refresh token), the cookie cleared
  // either way. Anything else (5xx, 429, or a 408, 413, 415, 404 written by a proxy on the way) may never have
  // reached the user service, whose session would stay alive: the session stays here too, and the user is told.
  const { status } = res.response;
  if (!(status < 300 || status === 400 || status === 401)) throw new ApiError(status, res.error as never);
  // Other tabs hear the hint go from 'out': a sign-out, where a refused refresh ends the session with it as it was.
  localStorage.setItem(HINT, 'out');
  forgetUser();
  endSession();
}
