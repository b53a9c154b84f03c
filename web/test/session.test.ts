// The session check on page load (restoreSession) against a user service that answers, refuses, or cannot be
// reached: only a refusal (401, 400) signs out; no answer, a 5xx or a 429 keeps the tokens and says 'unreachable'.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

// What the browser has and Node lacks: localStorage (the sign-in flag) and the tab's sessionStorage (what the tab
// keeps for its user), before the session module is loaded.
const stored = new Map<string, string>();
const tab = new Map<string, string>();
/** Every value written to the sign-in flag: another tab hears each write as a `storage` event, and follows the flag's. */
const writes: string[] = [];
Object.assign(globalThis, {
  localStorage: {
    getItem: (k: string) => stored.get(k) ?? null,
    setItem: (k: string, v: string) => void (k === 'ecommerce.session' && writes.push(v), stored.set(k, v)),
    removeItem: (k: string) => void stored.delete(k),
  },
  sessionStorage: {
    getItem: (k: string) => tab.get(k) ?? null,
    setItem: (k: string, v: string) => void tab.set(k, v),
    clear: () => tab.clear(),
  },
});
const { ApiError, hasAccessToken, orderApi, sessionEvents } = await import('../src/api/client.js');
const { createAccount } = await import('../src/register.js');
const { SESSION_HINT_KEY, forgetSession, rememberedAdmin, restoreSession, signIn, signOut, userSignedOut } = await import('../src/session.js');

type Answer = number | 'no answer' | 'timeout';
/** The user service: each path answers the next status of its list (the last one again when the list is used up). */
/** The Idempotency-Key of each refresh sent, in order. */
const refreshKeys: (string | null)[] = [];
/** The Idempotency-Key of each registration sent, in order. */
const registerKeys: (string | null)[] = [];
function userService(answers: Record<'/user/token/refresh' | '/user/me', Answer[]> & { '/user/logout'?: Answer[]; '/user/login'?: Answer[]; '/user/register'?: Answer[] }, role = 'customer') {
  const asked: string[] = [];
  refreshKeys.length = 0;
  registerKeys.length = 0;
  globalThis.fetch = (async (input: Request) => {
    const path = new URL(input.url).pathname as keyof typeof answers;
    if (path === '/user/token/refresh') refreshKeys.push(input.headers.get('idempotency-key'));
    if (path === '/user/register') registerKeys.push(input.headers.get('idempotency-key'));
    asked.push(`${path}${input.headers.has('authorization') ? ' (token)' : ''}`);
    const list = answers[path]!;
    const answer = list.length > 1 ? list.shift()! : list[0]!;
    if (answer === 'no answer') throw new TypeError('fetch failed');
    if (answer === 'timeout') throw new DOMException('The operation timed out.', 'TimeoutError');
    if (answer === 204) return new Response(null, { status: 204 });
    const body =
      answer !== 200 && answer !== 201
        ? { type: 'about:blank', title: 'Refused', status: answer, detail: `HTTP ${answer}` }
        : path === '/user/token/refresh' || path === '/user/login'
          ? { accessToken: `token-${asked.length}`, expiresIn: 900, tokenType: 'Bearer' }
          : { id: '0192f3a4-5b6c-7d8e-9f01-23456789abcd', email: 'ada@example.test', name: 'Ada', role, createdAt: '2026-01-01T00:00:00.000Z' };
    return new Response(JSON.stringify(body), { status: answer, headers: { 'content-type': answer < 300 ? 'application/json' : 'application/problem+json' } });
  }) as typeof fetch;
  return asked;
}

const realFetch = globalThis.fetch;
let ended = 0;
const onEnded = () => ended++;
/** Each test's end: its token and refresh timers (a retry later, a renewal before expiry) go, and the real fetch is back. */
function endTest() {
  forgetSession();
  globalThis.fetch = realFetch;
}
/** This browser signed in before: the sign-in flag set, nothing else stored. */
function flagSignedIn() {
  stored.clear();
  stored.set(SESSION_HINT_KEY, '1');
}

describe('restoreSession: reloading the app', () => {
  beforeEach(() => {
    flagSignedIn();
    ended = 0;
    sessionEvents.addEventListener('ended', onEnded);
  });
  afterEach(() => {
    endTest();
    sessionEvents.removeEventListener('ended', onEnded);
  });

  it('when this browser never signed in, then anonymous without asking the user service', async () => {
    stored.clear();
    const asked = userService({ '/user/token/refresh': [200], '/user/me': [200] });
    assert.deepEqual(await restoreSession(), { status: 'anonymous' });
    assert.deepEqual(asked, []);
  });

  it('when the refresh and /user/me answer, then signed in', async () => {
    const asked = userService({ '/user/token/refresh': [200], '/user/me': [200] });
    const r = await restoreSession();
    assert.equal(r.status, 'signed-in');
    assert.equal(r.status === 'signed-in' && r.user.email, 'ada@example.test');
    assert.deepEqual(asked, ['/user/token/refresh', '/user/me (token)']);
  });

  for (const answer of [503, 500, 502, 429, 'no answer'] as const) {
    it(`when the refresh gets ${answer === 'no answer' ? 'no answer' : `a ${answer}`}, then unreachable, the flag stays; Try again signs in once it answers`, async () => {
      const asked = userService({ '/user/token/refresh': [answer, 200], '/user/me': [200] });
      assert.deepEqual(await restoreSession(), { status: 'unreachable' });
      assert.equal(stored.get(SESSION_HINT_KEY), '1', 'the sign-in flag is kept');
      assert.equal(ended, 0, 'the session was not ended');
      const again = await restoreSession();
      assert.equal(again.status, 'signed-in');
      assert.deepEqual(asked, ['/user/token/refresh', '/user/token/refresh', '/user/me (token)']);
    });
  }

  for (const answer of [503, 429, 'no answer'] as const) {
    it(`when the refresh works and /user/me gets ${answer === 'no answer' ? 'no answer' : `a ${answer}`}, then unreachable with the token kept; Try again asks /user/me only`, async () => {
      const asked = userService({ '/user/token/refresh': [200], '/user/me': [answer, 200] });
      assert.deepEqual(await restoreSession(), { status: 'unreachable' });
      assert.equal(hasAccessToken(), true, 'the access token is kept');
      assert.equal(stored.get(SESSION_HINT_KEY), '1', 'the sign-in flag is kept');
      assert.equal((await restoreSession()).status, 'signed-in');
      assert.deepEqual(asked, ['/user/token/refresh', '/user/me (token)', '/user/me (token)'], 'no second refresh: the token it has is used');
    });
  }

  for (const answer of [401, 400] as const) {
    it(`when the refresh is refused with ${answer}, then anonymous: the flag and the token go`, async () => {
      userService({ '/user/token/refresh': [answer], '/user/me': [200] });
      assert.deepEqual(await restoreSession(), { status: 'anonymous' });
      assert.equal(stored.has(SESSION_HINT_KEY), false);
      assert.equal(hasAccessToken(), false);
      assert.equal(ended, 1);
    });
  }

  it('when /user/me refuses the token (401) and the renewal is refused too, then anonymous', async () => {
    const asked = userService({ '/user/token/refresh': [200, 401], '/user/me': [401] });
    assert.deepEqual(await restoreSession(), { status: 'anonymous' });
    assert.equal(stored.has(SESSION_HINT_KEY), false);
    assert.equal(hasAccessToken(), false);
    assert.deepEqual(asked, ['/user/token/refresh', '/user/me (token)', '/user/token/refresh']);
  });

  it('when /user/me refuses the renewed token as well (401 twice), then anonymous, and the refresh cookie is revoked', async () => {
    const asked = userService({ '/user/token/refresh': [200], '/user/me': [401], '/user/logout': [204] });
    assert.deepEqual(await restoreSession(), { status: 'anonymous' });
    assert.equal(stored.has(SESSION_HINT_KEY), false);
    assert.equal(hasAccessToken(), false);
    // The cookie still renews on the server: a best-effort logout ends it there too.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(asked.at(-1), '/user/logout');
  });

  it('when the session is forgotten (a sign-out) while a refresh is on its way, then the late token is not taken', { timeout: 5_000 }, async () => {
    for (const late of ['token', 'no answer'] as const) {
      let answer!: (res: Response) => void;
      let fail!: (err: Error) => void;
      globalThis.fetch = (() => new Promise<Response>((ok, ko) => ((answer = ok), (fail = ko)))) as typeof fetch;
      const restored = restoreSession();
      await new Promise((resolve) => setImmediate(resolve));
      forgetSession();
      if (late === 'token') answer(new Response(JSON.stringify({ accessToken: 'late', expiresIn: 900, tokenType: 'Bearer' }), { status: 200, headers: { 'content-type': 'application/json' } }));
      else fail(new TypeError('fetch failed'));
      assert.deepEqual(await restored, { status: 'anonymous' }, late);
      assert.equal(hasAccessToken(), false, late);
    }
  });

  it('when /user/me says 401 but the renewal gets no answer, then unreachable: the token and the flag stay', async () => {
    userService({ '/user/token/refresh': [200, 503], '/user/me': [401] });
    assert.deepEqual(await restoreSession(), { status: 'unreachable' });
    assert.equal(hasAccessToken(), true);
    assert.equal(stored.get(SESSION_HINT_KEY), '1');
    assert.equal(ended, 0);
  });
});

describe('a refresh whose answer was lost is sent again with its Idempotency-Key', () => {
  beforeEach(flagSignedIn);
  afterEach(endTest);

  it('when a refresh gets no answer, then the next one (Try again, a reload) sends the same key; once answered, the one after sends a new key', async () => {
    userService({ '/user/token/refresh': ['no answer', 200, 200], '/user/me': [200] });
    assert.equal((await restoreSession()).status, 'unreachable');
    assert.equal((await restoreSession()).status, 'signed-in');
    forgetSession();
    assert.equal((await restoreSession()).status, 'signed-in');
    const [lost, again, next] = refreshKeys;
    assert.match(String(lost), /^[0-9a-f-]{36}$/);
    assert.equal(again, lost, 'the lost refresh sent again with its key');
    assert.notEqual(next, lost, 'a new refresh, a new key');
  });

  it('when the page that sent a refresh is gone before its answer (the key is still kept), then the next page sends that key; a key older than the service keeps it for is not sent again', async () => {
    stored.set('ecommerce.refresh-key', JSON.stringify({ key: 'kept-by-the-last-page', at: Date.now() - 5_000 }));
    userService({ '/user/token/refresh': [200], '/user/me': [200] });
    assert.equal((await restoreSession()).status, 'signed-in');
    assert.deepEqual(refreshKeys, ['kept-by-the-last-page']);
    assert.equal(stored.get('ecommerce.refresh-key'), undefined, 'answered: the key is done with');
    forgetSession();
    stored.set('ecommerce.refresh-key', JSON.stringify({ key: 'too-old', at: Date.now() - 110_000 }));
    assert.equal((await restoreSession()).status, 'signed-in');
    assert.notEqual(refreshKeys[1], 'too-old');
  });

  it("when someone signs in while the last session's unanswered refresh key is kept (a shared computer: the last user's page went mid-refresh), then the new session's first refresh sends a new key, not the leftover", async () => {
    // The leftover names a refresh of the last session's token: nothing of the new session. Sent with the new token it
    // would name that session's first rotation, retryable only for what is left of the leftover's 100 s.
    stored.delete(SESSION_HINT_KEY);
    stored.set('ecommerce.refresh-key', JSON.stringify({ key: 'left-by-the-last-user', at: Date.now() - 90_000 }));
    userService({ '/user/token/refresh': [200], '/user/me': [200], '/user/login': [200] });
    await signIn('bob@example.test', 'correct-horse-9');
    forgetSession();
    assert.equal((await restoreSession()).status, 'signed-in');
    assert.equal(refreshKeys.length, 1);
    assert.notEqual(refreshKeys[0], 'left-by-the-last-user');
  });

  it('when localStorage refuses the key (full, or storage off for the site), then the refresh goes all the same, with a key, as before the retry existed', async () => {
    const storage = globalThis.localStorage as unknown as { setItem(k: string, v: string): void };
    const setItem = storage.setItem;
    storage.setItem = (k: string, v: string) => {
      if (k === 'ecommerce.refresh-key') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      setItem(k, v);
    };
    try {
      userService({ '/user/token/refresh': [200], '/user/me': [200] });
      assert.equal((await restoreSession()).status, 'signed-in');
      assert.equal(refreshKeys.length, 1);
      assert.match(String(refreshKeys[0]), /^[0-9a-f-]{36}$/);
    } finally {
      storage.setItem = setItem;
    }
  });

  it('when a refresh is refused (401), then its key goes with the session', async () => {
    userService({ '/user/token/refresh': [401], '/user/me': [200] });
    assert.equal((await restoreSession()).status, 'anonymous');
    assert.equal(refreshKeys.length, 1);
    assert.equal(stored.get('ecommerce.refresh-key'), undefined);
  });
});

describe('the sign-in flag notes an admin', () => {
  beforeEach(() => {
    stored.clear();
    writes.length = 0;
  });
  afterEach(endTest);

  it('when an admin signs in, then the flag says admin; a reload that finds the same admin writes nothing', async () => {
    userService({ '/user/token/refresh': [200], '/user/me': [200], '/user/login': [200] }, 'admin');
    assert.equal(rememberedAdmin(), false);
    await signIn('ada@example.test', 'a-password-of-hers');
    assert.equal(stored.get(SESSION_HINT_KEY), 'admin');
    assert.equal(rememberedAdmin(), true);
    assert.deepEqual(writes, ['1', 'admin'], 'signed in, then the role noted');
    forgetSession();
    assert.equal((await restoreSession()).status, 'signed-in');
    assert.deepEqual(writes, ['1', 'admin'], 'no write (no storage event in other tabs) when nothing changed');
  });

  it('when a remembered admin is a customer now, then the flag says so after the check; a customer signing in writes 1 once', async () => {
    stored.set(SESSION_HINT_KEY, 'admin');
    userService({ '/user/token/refresh': [200], '/user/me': [200], '/user/login': [200] });
    assert.equal((await restoreSession()).status, 'signed-in');
    assert.equal(stored.get(SESSION_HINT_KEY), '1');
    assert.equal(rememberedAdmin(), false);
    stored.clear();
    writes.length = 0;
    forgetSession();
    await signIn('ada@example.test', 'a-password-of-hers');
    assert.deepEqual(writes, ['1']);
  });
});

describe('renewal timer', () => {
  afterEach(endTest);

  // Whatever the refresh answers for expiresIn, the next renewal waits at least 5 s: not a loop of refreshes.
  for (const expiresIn of [undefined, 'soon', null, 1e7, Infinity, -1]) {
    it(`when a refresh answers expiresIn ${JSON.stringify(expiresIn) ?? 'left out'}, then the next renewal is not sent at once`, async () => {
      flagSignedIn();
      let refreshes = 0;
      globalThis.fetch = (async (input: Request) => {
        const path = new URL(input.url).pathname;
        if (path === '/user/token/refresh') refreshes++;
        const body = path === '/user/token/refresh' ? { accessToken: `token-${refreshes}`, expiresIn, tokenType: 'Bearer' } : { id: '0192f3a4-5b6c-7d8e-9f01-23456789abcd', email: 'ada@example.test', name: 'Ada', role: 'customer', createdAt: '2026-01-01T00:00:00.000Z' };
        return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
      }) as typeof fetch;
      assert.equal((await restoreSession()).status, 'signed-in');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(refreshes, 1, `${refreshes} refreshes in 300 ms`);
    });
  }
});

describe('renewals while the user service cannot answer', () => {
  afterEach(endTest);

  it('when a polling page is refused (expired token) and every refresh gets a 503, then the refreshes back off: not one per poll', async () => {
    flagSignedIn();
    const counts = new Map<string, number>();
    globalThis.fetch = (async (input: Request) => {
      const path = new URL(input.url).pathname;
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      if (path === '/user/token/refresh' && n === 1) return new Response(JSON.stringify({ accessToken: 't1', expiresIn: 900, tokenType: 'Bearer' }), { status: 200, headers: { 'content-type': 'application/json' } });
      if (path === '/user/me') return new Response(JSON.stringify({ id: '0192f3a4-5b6c-7d8e-9f01-23456789abcd', email: 'ada@example.test', name: 'Ada', role: 'customer', createdAt: '2026-01-01T00:00:00.000Z' }), { status: 200, headers: { 'content-type': 'application/json' } });
      // The user service is down (503); the order service refuses the expired access token (401).
      const status = path === '/user/token/refresh' ? 503 : 401;
      return new Response(JSON.stringify({ type: 'about:blank', title: 'x', status }), { status, headers: { 'content-type': 'application/problem+json' } });
    }) as typeof fetch;
    assert.equal((await restoreSession()).status, 'signed-in');
    // The order page polls while an order is not settled (order-view.tsx): ten polls.
    for (let i = 0; i < 10; i++) assert.equal((await orderApi.GET('/order/{id}', { params: { path: { id: '0192f3a4-5b6c-7d8e-9f01-23456789abcd' } } })).response.status, 401);
    assert.equal(counts.get('/order/0192f3a4-5b6c-7d8e-9f01-23456789abcd'), 10);
    // The load's refresh, then one renewal that got the 503; the other nine polls wait out its back-off.
    assert.equal(counts.get('/user/token/refresh'), 2);
    assert.equal(hasAccessToken(), true, 'the session is kept');
  });
});

describe('signOut: ending the session on the server first', () => {
  beforeEach(flagSignedIn);
  afterEach(endTest);

  for (const answer of [204, 400, 401] as const) {
    it(`when the user service answers ${answer} (ended, or nothing left to end), then this browser is signed out`, async () => {
      const asked = userService({ '/user/token/refresh': [200], '/user/me': [200], '/user/logout': [answer] });
      tab.set('ecommerce.admin-new-product.v1', '{"name":"Unreleased lamp"}');
      writes.length = 0;
      await signOut();
      assert.equal(stored.has(SESSION_HINT_KEY), false);
      assert.deepEqual(asked, ['/user/logout']);
      // What the tab kept for the user goes, and the other tabs hear the hint go from 'out': a sign-out, not an expiry.
      assert.equal(tab.size, 0);
      assert.equal(userSignedOut(), true);
      assert.deepEqual(writes, ['out']);
    });
  }

  for (const answer of [408, 413, 415, 404, 405, 429, 500, 503, 'no answer'] as const) {
    it(`when the logout gets ${answer} (it may never have reached the user service), then it throws and the session stays`, async () => {
      userService({ '/user/token/refresh': [200], '/user/me': [200], '/user/logout': [answer] });
      tab.set('ecommerce.admin-new-product.v1', '{"name":"Unreleased lamp"}');
      await assert.rejects(signOut());
      assert.equal(stored.get(SESSION_HINT_KEY), '1');
      assert.equal(tab.size, 1, 'still signed in: the drafts stay');
    });
  }
});

describe("the tab's sessionStorage is one user's", () => {
  afterEach(() => {
    endTest();
    tab.clear();
  });

  it('when the user who kept something in the tab signs in again (their session had expired), then it stays; when another user signs in, then it goes first', async () => {
    userService({ '/user/token/refresh': [200], '/user/me': [200], '/user/login': [200] });
    await signIn('ada@example.test', 'correct-horse-9');
    assert.equal(userSignedOut(), false);
    tab.set('ecommerce.admin-edit-draft.v1', '{"productId":"p1"}');
    forgetSession();
    // The same user signs in again: the draft is theirs.
    await signIn('ada@example.test', 'correct-horse-9');
    assert.equal(tab.get('ecommerce.admin-edit-draft.v1'), '{"productId":"p1"}');
    forgetSession();
    // Another user (another id) signs in, or a reload finds another user's session: nothing of the first is left.
    globalThis.fetch = (async (input: Request) => {
      const path = new URL(input.url).pathname;
      const body = path === '/user/me' ? { id: '0192f3a4-0000-7000-8000-000000000002', email: 'bob@example.test', name: 'Bob', role: 'admin', createdAt: '2026-01-01T00:00:00.000Z' } : { accessToken: 't', expiresIn: 900, tokenType: 'Bearer' };
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    stored.set(SESSION_HINT_KEY, '1');
    assert.equal((await restoreSession()).status, 'signed-in');
    assert.equal(tab.has('ecommerce.admin-edit-draft.v1'), false);
  });
});

describe('createAccount: a registration whose answer was lost is sent again with its Idempotency-Key', () => {
  afterEach(endTest);
  const NO_WAIT = [0, 0, 0];

  it('when a try gets no answer, a 502, 503 or 504, then it is sent again with the same key, and the account made is signed in', async () => {
    const asked = userService({ '/user/register': ['no answer', 504, 502, 201], '/user/token/refresh': [200], '/user/login': [200], '/user/me': [200] });
    const user = await createAccount('Ada', 'ada@example.test', 'correct-horse-9', 'form-key-1', NO_WAIT);
    assert.equal(user.email, 'ada@example.test');
    assert.deepEqual(registerKeys, ['form-key-1', 'form-key-1', 'form-key-1', 'form-key-1']);
    assert.deepEqual(asked.slice(4), ['/user/login', '/user/me (token)']);
  });

  it('when the answer is final (201, 400, 409, 429), then it is not sent again', async () => {
    for (const status of [400, 409, 429]) {
      userService({ '/user/register': [status], '/user/token/refresh': [200], '/user/login': [200], '/user/me': [200] });
      await assert.rejects(createAccount('Ada', 'ada@example.test', 'correct-horse-9', 'k', NO_WAIT), (err: unknown) => err instanceof ApiError && err.status === status);
      assert.deepEqual(registerKeys, ['k'], `a ${status} is sent once`);
    }
  });

  it('when no try gets a final answer, then the last failure reaches the form, which keeps its key for the next press; a timeout is said at once', async () => {
    userService({ '/user/register': [503], '/user/token/refresh': [200], '/user/me': [200] });
    await assert.rejects(createAccount('Ada', 'ada@example.test', 'correct-horse-9', 'k2', NO_WAIT), (err: unknown) => err instanceof ApiError && err.status === 503);
    assert.deepEqual(registerKeys, ['k2', 'k2', 'k2', 'k2']);
    userService({ '/user/register': ['no answer'], '/user/token/refresh': [200], '/user/me': [200] });
    await assert.rejects(createAccount('Ada', 'ada@example.test', 'correct-horse-9', 'k3', NO_WAIT), TypeError);
    assert.equal(registerKeys.length, 4);
    userService({ '/user/register': ['timeout', 201], '/user/token/refresh': [200], '/user/me': [200] });
    await assert.rejects(createAccount('Ada', 'ada@example.test', 'correct-horse-9', 'k4', NO_WAIT), (err: unknown) => err instanceof DOMException && err.name === 'TimeoutError');
    assert.deepEqual(registerKeys, ['k4']);
  });
});
