// SERVICE_CLIENTS entries that name the variable of their secret ("secretEnv"), as the Kubernetes manifest does: a
// client secret from a secret manager may hold any character, and Kubernetes pastes a $(VAR) value verbatim, so a
// secret written into the JSON could break it (the service did not start).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '@ecommerce/kit';
import { http, stopAll } from '@ecommerce/test-support';
import { loadUserConfig } from '../src/config.js';
import { parseServiceClients } from '../src/model/service-client.js';
import { startUserService, startUserStack } from './harness.js';

const SCOPES = ['reservations:write', 'reservations:read'];
const clientsNamingTheirSecret = JSON.stringify([{ id: 'order-service', secretEnv: 'ORDER_CLIENT_SECRET', scopes: SCOPES }]);
const config = (env: Record<string, string>) => loadUserConfig({ DATABASE_URL: 'postgres://127.0.0.1:5432/users', ...env });

describe('SERVICE_CLIENTS with secretEnv', () => {
  it('when a client names the variable of its secret, then any secret of 16+ characters is the client\'s, exactly (quotes, backslashes, $ and all)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 16, maxLength: 80, unit: 'binary' }).filter((s) => !s.includes('\u0000')), (secret) => {
        const c = config({ SERVICE_CLIENTS: clientsNamingTheirSecret, ORDER_CLIENT_SECRET: secret });
        assert.deepEqual(parseServiceClients(c.SERVICE_CLIENTS, undefined), [{ id: 'order-service', secret, scopes: SCOPES }]);
      }),
    );
    // What the old manifest built for such a secret: pasted into the JSON, it is not JSON any more.
    const pasted = `[{"id":"order-service","secret":"${'a"b\\c'.repeat(4)}","scopes":[]}]`;
    assert.throws(() => parseServiceClients(config({ SERVICE_CLIENTS: pasted }).SERVICE_CLIENTS, undefined), /not valid JSON/);
  });

  it('when the named variable is not set, or an entry has both secret and secretEnv, then the service refuses to start, saying which', () => {
    assert.throws(() => config({ SERVICE_CLIENTS: clientsNamingTheirSecret }), (err: unknown) =>
      err instanceof ConfigError && /order-service's secretEnv ORDER_CLIENT_SECRET is not set/.test(err.message));
    const both = JSON.stringify([{ id: 'order-service', secret: 'x'.repeat(16), secretEnv: 'ORDER_CLIENT_SECRET', scopes: SCOPES }]);
    assert.throws(() => config({ SERVICE_CLIENTS: both, ORDER_CLIENT_SECRET: 'y'.repeat(16) }), (err: unknown) =>
      err instanceof ConfigError && /order-service has both secret and secretEnv/.test(err.message));
  });

  it('when clients hold their secrets inline, then SERVICE_CLIENTS is read as before', () => {
    const inline = JSON.stringify([{ id: 'order-service', secret: 's'.repeat(16), scopes: SCOPES }]);
    assert.equal(config({ SERVICE_CLIENTS: inline }).SERVICE_CLIENTS, inline);
  });

  it('when the service runs with a secretEnv client, then the token endpoint accepts that secret', async () => {
    const secret = 'p"q\\r$(S) \' %x{}[]'.padEnd(24, '#');
    const { db, user } = await startUserStack({ SERVICE_CLIENTS: clientsNamingTheirSecret, ORDER_CLIENT_SECRET: secret });
    try {
      const form = (s: string) => ({ grant_type: 'client_credentials', client_id: 'order-service', client_secret: s });
      const ok = await http(user.base, 'POST', '/user/oauth/token', { body: form(secret) });
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await http(user.base, 'POST', '/user/oauth/token', { body: form(`${secret}!`) })).status, 401);
    } finally {
      await stopAll(user, db);
    }
  });

});

describe('SERVICE_CLIENTS at start-up', () => {
  it('when a scope is not one RFC 6749 scope-token (a space inside, empty, a quote or backslash, non-ASCII) or a client is listed twice, then the service refuses to start, saying which', () => {
    const client = (scopes: string[], id = 'order-service') => ({ id, secret: 's'.repeat(16), scopes });
    // A scope with a space was granted as two: the token's scope claim is split at spaces by every verifier.
    for (const scope of ['reservations:read reservations:write', '', 'a"b', 'a\\b', 'résa', 'a\tb']) {
      assert.throws(() => parseServiceClients(JSON.stringify([client([scope])]), undefined), (err: unknown) =>
        err instanceof ConfigError && /SERVICE_CLIENTS: order-service's scope .* is not one scope-token/.test(err.message), JSON.stringify(scope));
    }
    assert.throws(() => parseServiceClients(JSON.stringify([client(SCOPES), client([])]), undefined), (err: unknown) =>
      err instanceof ConfigError && /SERVICE_CLIENTS: order-service is listed twice/.test(err.message));
    // A file that cannot be read names its variable (it was a bare ENOENT).
    assert.throws(() => parseServiceClients(undefined, '/nonexistent/service-clients.json'), (err: unknown) =>
      err instanceof ConfigError && /SERVICE_CLIENTS_FILE: cannot read \/nonexistent\/service-clients.json/.test(err.message));
    assert.deepEqual(parseServiceClients(JSON.stringify([client(SCOPES), client(['x!#[]~'], 'other')]), undefined).map((c) => c.scopes), [SCOPES, ['x!#[]~']]);
  });

  it('when a client is taken out of SERVICE_CLIENTS, then after the restart it gets no token, and the clients kept keep theirs', async () => {
    const retired = { id: 'retired-client', secret: 'retired-client-secret-0123456789', scopes: ['reservations:read'] };
    const kept = { id: 'kept-client', secret: 'kept-client-secret-0123456789', scopes: ['reservations:read'] };
    const form = (c: { id: string; secret: string }) => ({ body: { grant_type: 'client_credentials', client_id: c.id, client_secret: c.secret } });
    const { db, user } = await startUserStack({ SERVICE_CLIENTS: JSON.stringify([retired, kept]) });
    let running = user;
    try {
      assert.equal((await http(user.base, 'POST', '/user/oauth/token', form(retired))).status, 200);
      await stopAll(user);
      // Removed from the configuration (its secret leaked, its service retired): the row stored at the first start
      // must not go on authenticating it.
      const again = await startUserService(db.urls.user, { SERVICE_CLIENTS: JSON.stringify([kept]) });
      running = again;
      const refused = await http(again.base, 'POST', '/user/oauth/token', form(retired));
      assert.equal(refused.status, 401, refused.text);
      assert.equal((await http(again.base, 'POST', '/user/oauth/token', form(kept))).status, 200);
    } finally {
      await stopAll(running, db);
    }
  });
});
