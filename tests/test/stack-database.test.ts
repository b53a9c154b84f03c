// scripts/stack.js: which database `npm start` provisions on a server given by DATABASE_URL. Provisioning
// revokes PUBLIC's rights on its database, so the server's maintenance database is never it.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../src/paths.js';

const { platformDatabase } = (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'stack.js')).href)) as { platformDatabase(url: string | null): string };

describe('the database npm start provisions (DATABASE_NAME unset)', () => {
  it('when DATABASE_URL names a database of its own, then that one', () => {
    assert.equal(platformDatabase('postgres://postgres@127.0.0.1:5432/shop'), 'shop');
    assert.equal(platformDatabase('postgres://u:p@db.example:6432/my%5Fshop?sslmode=require'), 'my_shop');
  });

  it('when DATABASE_URL names the maintenance database, a template or none, then ecommerce (the postgres database is never taken over)', () => {
    for (const url of ['postgres://postgres@127.0.0.1:5432/postgres', 'postgresql://u@h/template1', 'postgres://u@h/template0', 'postgres://u@h', 'postgres://u@h/']) {
      assert.equal(platformDatabase(url), 'ecommerce', url);
    }
  });

  it('when the embedded server is used, then ecommerce', () => {
    assert.equal(platformDatabase(null), 'ecommerce');
  });
});
