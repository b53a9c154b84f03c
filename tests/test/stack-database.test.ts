// scripts/stack.js: which database `npm start` provisions on a server given by DATABASE_URL. Provisioning
// revokes PUBLIC's rights on its database, so the server's maintenance database is never it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { repoRoot } from '../src/paths.js';

const { platformDatabase, startStack } = (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'stack.js')).href)) as {
  platformDatabase(url: string | null): string;
  startStack(opts: { env: NodeJS.ProcessEnv; dataDir?: string; freePorts: boolean }): Promise<{ stop(): Promise<void> }>;
};

/** The message a start refused with, in a data folder of its own on free ports (no service gets started). */
async function refusal(databaseUrl: string): Promise<string> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'stack-database-'));
  try {
    const stack = await startStack({ env: { DATABASE_URL: databaseUrl }, dataDir, freePorts: true }).catch((err: Error) => err);
    if (!(stack instanceof Error)) {
      await stack.stop();
      assert.fail(`started with DATABASE_URL=${databaseUrl}`);
    }
    return stack.message;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

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

// A newcomer's wrong DATABASE_URL was refused with "Invalid URL" or "connect ECONNREFUSED 127.0.0.1:1": no word of which
// setting was wrong.
describe('a DATABASE_URL npm start cannot use', () => {
  it('when it is no PostgreSQL URL, then the start is refused naming DATABASE_URL and the form it takes, not echoing the value', async () => {
    for (const url of ['not a url', 'localhost:5432', 'mysql://root:hunter2secret@127.0.0.1/shop', 'http://127.0.0.1:5432/postgres']) {
      const message = await refusal(url);
      assert.match(message, /DATABASE_URL/, url);
      assert.match(message, /postgres:\/\/user:password@host:5432\/database/, url);
      assert.ok(!message.includes('hunter2secret'), message);
    }
  });

  it('when its server cannot be reached, then the start is refused naming DATABASE_URL with its password hidden', async () => {
    // Port 1 on loopback: nothing listens there, so each connection is refused at once.
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[A-Za-z0-9]{16,24}$/), fc.constantFrom('postgres', 'postgresql'), async (password, scheme) => {
        const message = await refusal(`${scheme}://admin:${password}@127.0.0.1:1/shop`);
        assert.match(message, /DATABASE_URL/);
        assert.match(message, /127\.0\.0\.1:1/);
        assert.match(message, /ECONNREFUSED/);
        assert.ok(!message.includes(password), message);
      }),
      { numRuns: 15 },
    );
  });
});

describe('the data folder npm start writes to', () => {
  it('when DATA_DIR names a file, or a folder under a file, then the start is refused naming DATA_DIR and the folder', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'stack-datadir-'));
    try {
      const file = path.join(dir, 'not-a-folder');
      writeFileSync(file, 'x');
      for (const dataDir of [file, path.join(file, 'below')]) {
        const refused = await startStack({ env: { DATA_DIR: dataDir }, freePorts: true }).catch((err: Error) => err);
        if (!(refused instanceof Error)) {
          await refused.stop();
          assert.fail(`started with DATA_DIR=${dataDir}`);
        }
        assert.equal(refused.message, `the data folder ${dataDir} (DATA_DIR) cannot be used: a file is in the way (it, or a folder above it, is a file)`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
