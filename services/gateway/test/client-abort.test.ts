// A client that goes away mid-request: the gateway aborts its upstream request, as an ingress does, so the service
// behind sees its caller go (a refresh then leaves the session as it was: docs/api.md, "Refresh token in a cookie").
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { assertProblem, http, registerAccount, stopAll, type Running, type TestDatabase } from '@ecommerce/test-support';
import { refreshAbandonedWhileWaiting, startUserStack } from '@ecommerce/user-service/testing';
import { startGateway } from './harness.js';

let db: TestDatabase;
let user: Running;
let gw: Running;

before(async () => {
  ({ db, user } = await startUserStack());
  gw = await startGateway({ USER_SERVICE_URL: user.base, PRODUCT_SERVICE_URL: 'http://127.0.0.1:9', ORDER_SERVICE_URL: 'http://127.0.0.1:9' });
});
after(() => stopAll(gw, user, db));

const refresh = (token: string) => http<{ refreshToken: string }>(gw.base, 'POST', '/user/token/refresh', { body: { refreshToken: token } });

describe('gateway: a client that goes away', () => {
  it('when the client closes the connection while its refresh waits upstream, then the upstream request is aborted, the rotation rolled back, and the same token refreshes once through the gateway', async () => {
    const { email, password } = await registerAccount(gw.base, { tag: 'gw-abandoned' });
    const login = await http<{ refreshToken: string }>(gw.base, 'POST', '/user/login', { body: { email, password } });
    assert.equal(login.status, 200, login.text);
    const token = login.body.refreshToken;
    // Fails (times out) unless the user service sees its connection close: the gateway must abort upstream.
    await refreshAbandonedWhileWaiting(gw.base, user.app.server as Server, db.urls.user, token);
    const next = await refresh(token);
    assert.equal(next.status, 200, next.text);
    // Reuse detection through the gateway, as before: the spent token is refused and the session ends.
    assertProblem(await refresh(token), 401);
    assertProblem(await refresh(next.body.refreshToken), 401);
    // The gateway keeps serving on its pool after the aborted upstream request.
    assert.equal((await http(gw.base, 'GET', '/user/.well-known/jwks.json')).status, 200);
  });
});
