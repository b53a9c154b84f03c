// The user side an order test file runs against, started once per file: a database of its own, the real
// user service and the admin's token. The bindings below are live: a test reads `db`, `user` and `admin` as
// if it had declared them, once the `before` hook registered by startUserSideForFile() has run.
import { after, before } from 'node:test';
import { adminToken, serviceToken as serviceTokenAt, stopAll, type Running, type TestDatabase } from '@ecommerce/test-support';
import { startUserStack } from '@ecommerce/user-service/testing';

export let db: TestDatabase;
export let user: Running;
export let admin: string;

export function startUserSideForFile(): void {
  before(async () => {
    ({ db, user } = await startUserStack());
    admin = await adminToken(user.base);
  });
  after(() => stopAll(user, db));
}

/** A token of the order service's client (both reservation scopes). */
export const serviceToken = (): Promise<string> => serviceTokenAt(user.base);
