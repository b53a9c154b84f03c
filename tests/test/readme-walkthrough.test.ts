// The README's "Using the API" block is the first thing a newcomer runs. This test runs it as written, with bash and
// curl, against the platform `npm start` starts (scripts/stack.js, free ports, a database of its own), only GW
// pointed there, and checks each call answers as the block's comments say. Every curl goes through a wrapper that
// keeps its status line and body, so a route that moved, a status or a body shape that changed fails here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { dropDatabase } from '@ecommerce/kit';
import { repoRoot } from '../src/paths.js';

interface Stack {
  urls: Record<'user' | 'product' | 'order' | 'gateway', string>;
  stop(): Promise<void>;
}
const { startStack } = (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'stack.js')).href)) as {
  startStack(opts: { env: NodeJS.ProcessEnv; dataDir: string; freePorts: boolean }): Promise<Stack>;
};

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const usingTheApi = readme.slice(readme.indexOf('## Using the API'));
const block = /```bash\n([\s\S]*?)```/.exec(usingTheApi)?.[1] ?? '';
/** The admin block after it ("An admin token is a login as that account"). */
const adminBlock = /An admin token is[\s\S]*?```bash\n([\s\S]*?)```/.exec(usingTheApi)?.[1] ?? '';

interface Call {
  status: number;
  body: string;
}

describe("the README's \"Using the API\" block, run as written", { timeout: 180_000 }, () => {
  let stack: Stack | undefined;
  let ownDatabase: string | undefined;
  const scratch = mkdtempSync(path.join(tmpdir(), 'readme-walkthrough-'));

  before(
    async () => {
      const env: NodeJS.ProcessEnv = { ...process.env, SEED_DEMO_DATA: 'true', LOG_LEVEL: 'warn' };
      if (process.env.DATABASE_URL) env.DATABASE_NAME = ownDatabase = `readme_test_${process.pid}`;
      stack = await startStack({ env, dataDir: path.join(scratch, '.data'), freePorts: true });
    },
    { timeout: 120_000 },
  );

  after(async () => {
    await stack?.stop();
    if (ownDatabase && process.env.DATABASE_URL) await dropDatabase(process.env.DATABASE_URL, ownDatabase).catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  });

  /** Runs bash `script` with curl wrapped; returns its stdout and each curl's status and body, in order. */
  async function run(script: string, name: string, cwd?: string): Promise<{ stdout: string; calls: Call[] }> {
    const bin = path.join(scratch, name, 'bin');
    const log = path.join(scratch, name, 'calls');
    mkdirSync(bin, { recursive: true });
    mkdirSync(log, { recursive: true });
    const realPath = process.env.PATH ?? '/usr/bin:/bin';
    // `curl` on the script's PATH: the real curl (found on the PATH without this folder), its response headers to
    // calls/<n>.h and its output also to calls/<n>.b, its exit status kept.
    writeFileSync(
      path.join(bin, 'curl'),
      `#!/usr/bin/env bash
set -o pipefail
n=$(printf '%03d' "$(ls '${log}' | grep -c '[.]h$')")
: > '${log}/'"$n.h"
PATH=${JSON.stringify(realPath)} curl "$@" -D '${log}/'"$n.h" | tee '${log}/'"$n.b"
`,
      { mode: 0o755 },
    );
    const file = path.join(scratch, name, 'script.sh');
    writeFileSync(file, script);
    const { stdout } = await promisify(execFile)('bash', ['-e', '-o', 'pipefail', file], { env: { ...process.env, PATH: `${bin}:${realPath}` }, timeout: 60_000, ...(cwd ? { cwd } : {}) });
    const files = readdirSync(log).filter((f) => f.endsWith('.h')).sort();
    const calls = files.map((h) => {
      const headers = readFileSync(path.join(log, h), 'utf8');
      const status = Number(/^HTTP\/[\d.]+ (\d{3})/m.exec(headers)?.[1] ?? 0);
      return { status, body: readFileSync(path.join(log, h.replace(/\.h$/, '.b')), 'utf8') };
    });
    return { stdout, calls };
  }

  it('when each command runs in turn, then each answers as its comment says (register 201, login with its four fields, the order confirmed, logout 204), and the register again is 409 email-taken', async () => {
    assert.ok(stack);
    const gw = /^GW=(\S+)$/m.exec(block);
    assert.ok(gw, 'the block no longer sets GW=');
    assert.equal(gw[1], 'http://127.0.0.1:8080', 'the gateway npm start serves');
    const script = block.replace(/^GW=\S+$/m, `GW=${stack.urls.gateway}`);
    const { stdout, calls } = await run(script, 'first');
    const json = (call: Call | undefined) => JSON.parse(call?.body ?? 'null') as Record<string, unknown>;
    const shown = calls.map((c, i) => `${i}: ${c.status} ${c.body.slice(0, 120)}`).join('\n');
    assert.deepEqual(
      calls.map((c) => c.status),
      [201, 200, 200, 200, 200, 200, 201, 200, 200, 204],
      `register, login, me, jwks, products, first book, order, my orders, refresh, logout:\n${shown}`,
    );
    const [register, login, me, jwks, products, , order, orders, refresh] = calls;
    assert.equal(json(register).email, 'ada@example.com');
    assert.deepEqual(Object.keys(json(login)).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'tokenType'], '{"accessToken","tokenType","expiresIn","refreshToken"}');
    assert.deepEqual(Object.keys(json(me)).sort(), ['createdAt', 'email', 'id', 'name', 'role']);
    assert.equal(json(me).role, 'customer');
    assert.ok(Array.isArray(json(jwks).keys) && (json(jwks).keys as unknown[]).length >= 1);
    const page = json(products) as { items: { category: string }[]; nextCursor: unknown };
    assert.deepEqual(Object.keys(page).sort(), ['items', 'nextCursor']);
    assert.ok(page.items.length >= 1 && page.items.every((p) => p.category === 'books'), 'the demo catalog has books');
    assert.equal(page.nextCursor, null, '"nextCursor":null as the comment shows');
    assert.equal(json(order).status, 'confirmed');
    assert.equal((json(orders) as { items: { id: string }[] }).items[0]?.id, json(order).id, 'your orders, newest first');
    assert.notEqual(json(refresh).refreshToken, json(login).refreshToken, 'a new pair');
    assert.match(stdout, /204\n$/, 'the logout line prints its status');

    // "409 email-taken when run again": the block's first command, once more.
    const registerLine = /^curl -s -X POST \$GW\/user\/register[^\n]*\\\n[^\n]*\n/m.exec(block)?.[0];
    assert.ok(registerLine, 'the block no longer starts with the register curl');
    const again = await run(`GW=${stack.urls.gateway}\n${registerLine}`, 'again');
    assert.equal(again.calls[0]?.status, 409);
    assert.match(again.calls[0]?.body ?? '', /email-taken/);
  });

  it('when the admin block runs in the checkout npm start ran in (its .data/), then the login is the admin, the users are listed and the product is made, 409 sku-taken again', async () => {
    // The README named the admin routes but not how to get an admin token; this block says it, run as written
    // from the folder that holds the stack's .data/ (the secrets file it reads the password from).
    assert.ok(stack);
    assert.ok(adminBlock.includes('.data/secrets.json'), 'the README has no admin block reading .data/secrets.json');
    const script = `GW=${stack.urls.gateway}\n${adminBlock}`;
    const { calls } = await run(script, 'admin', scratch);
    const shown = calls.map((c, i) => `${i}: ${c.status} ${c.body.slice(0, 120)}`).join('\n');
    assert.deepEqual(calls.map((c) => c.status), [200, 200, 201], `admin login, users, new product:\n${shown}`);
    const users = JSON.parse(calls[1]?.body ?? 'null') as { items: { role: string }[]; nextCursor: unknown };
    assert.ok(users.items.some((u) => u.role === 'admin'), 'the list holds the admin');
    assert.equal((JSON.parse(calls[2]?.body ?? 'null') as { version: number }).version, 1);
    const again = await run(script, 'admin-again', scratch);
    assert.equal(again.calls[2]?.status, 409);
    assert.match(again.calls[2]?.body ?? '', /sku-taken/);
  });
});
