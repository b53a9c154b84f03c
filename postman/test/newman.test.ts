// The Postman collection: committed JSON equals a fresh generation from the live OpenAPI documents,
// every row of docs/api.md (and each failure it lists) has a request, and newman passes it against the whole
// platform started on free ports (never a server this test did not start).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import newman, { type Summary } from 'newman';
import { dropDatabase } from '@ecommerce/kit';
import { buildCollection, buildEnvironment, render } from '../src/collection.js';
import { FLOW } from '../src/flow.js';
import { fetchOpenApiDocs, listOperations, type OpenApiDocs } from '../src/openapi.js';
import { collectionPath, environmentPath, repoRoot } from '../src/paths.js';
import { startStack, type RunningStack } from '../src/stack.js';

const STACK_START_MS = 120_000;
const NEWMAN_MS = 180_000;

let stack: RunningStack | undefined;
let docs: OpenApiDocs;
let ownDatabase: string | undefined;
const crashes: string[] = [];

before(
  async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SEED_DEMO_DATA: 'true',
      LOG_LEVEL: 'warn',
      // The flow registers and logs in several users from 127.0.0.1; a rerun within a minute must not meet the budgets.
      REGISTER_MAX_PER_ADDRESS: '1000',
      LOGIN_MAX_PER_ADDRESS: '1000',
      TOKEN_MAX_PER_ADDRESS: '1000',
    };
    // On a shared server (npm test, CI) a database of our own, dropped afterwards; embedded keeps .data/postman-test.
    if (process.env.DATABASE_URL) env.DATABASE_NAME = ownDatabase = `postman_test_${process.pid}`;
    stack = await startStack({
      env,
      // Free ports only: it once ran newman against another stack that held fixed ones.
      freePorts: true,
      dataDir: path.join(repoRoot, '.data', 'postman-test'),
      onCrash: (service, code, signal, tail) => crashes.push(`${service} exited (${code ?? signal}):\n${tail.join('\n')}`),
    });
    docs = await fetchOpenApiDocs(stack.urls.gateway);
  },
  { timeout: STACK_START_MS },
);

after(async () => {
  await stack?.stop();
  // Also when the start failed after provisioning it (no stack then).
  if (ownDatabase && process.env.DATABASE_URL) await dropDatabase(process.env.DATABASE_URL, ownDatabase).catch(() => undefined);
});

describe('Postman collection', () => {
  test('when regenerated from the running services, then it equals the committed JSON (run `npm run postman`)', async () => {
    const fresh = render(buildCollection(docs, FLOW));
    const committed = await readFile(collectionPath, 'utf8');
    assert.ok(committed === fresh, 'postman/ecommerce.postman_collection.json drifted from the OpenAPI documents or postman/src/flow.ts: run `npm run postman` and commit');
    assert.equal(await readFile(environmentPath, 'utf8'), render(buildEnvironment()), 'postman/local.postman_environment.json drifted');
  });

  test('when API.md lists an operation and its failures, then the flow has a request for each', async () => {
    const rows = apiRows(await readFile(path.join(repoRoot, 'docs', 'api.md'), 'utf8'));
    assert.ok(rows.length >= 18, `only ${rows.length} public rows parsed from docs/api.md`);
    const missing: string[] = [];
    for (const row of rows) {
      const statuses = new Set(FLOW.flatMap((f) => f.steps).filter((s) => s.op === row.op).map((s) => s.expect));
      // 429 (lockout after repeated failures) is slow to provoke; 503 needs the product service down.
      for (const status of row.statuses.filter((s) => s !== 429 && s !== 503)) if (!statuses.has(status)) missing.push(`${row.op} -> ${status}`);
    }
    assert.deepEqual(missing, [], 'docs/api.md rows without a request in postman/src/flow.ts');
  });

  // The admin look-ups (?id=, ?email=, ?number=) were added to OpenAPI without a request: a query parameter is a
  // promise of its own (what it finds), which a request that only leaves it out never checks.
  test('when an OpenAPI operation declares a query parameter, then a request answered with success sends it', () => {
    const steps = FLOW.flatMap((f) => f.steps).filter((s) => s.expect < 300);
    const missing = listOperations(docs).flatMap((op) =>
      op.queryParameters
        .filter((name) => !steps.some((s) => s.op === `${op.method} ${op.path}` && s.query?.[name] !== undefined))
        .map((name) => `${op.method} ${op.path}?${name}=`),
    );
    assert.ok(listOperations(docs).some((op) => op.queryParameters.includes('limit')), 'no query parameters read from the OpenAPI documents');
    assert.deepEqual(missing, [], 'query parameters no successful request of postman/src/flow.ts sends');
  });

  test("when the README's \"Using the API\" calls a route or names an admin one, then an OpenAPI document declares it", async () => {
    const declared = new Set(listOperations(docs).map((o) => `${o.method} ${o.path}`));
    const routes = readmeRoutes(await readFile(path.join(repoRoot, 'README.md'), 'utf8'));
    assert.ok(routes.length >= 12, `only ${routes.length} routes read from the README's "Using the API": ${routes.join(', ')}`);
    assert.deepEqual(
      routes.filter((route) => !declared.has(route)),
      [],
      `README routes no OpenAPI document declares (declared: ${[...declared].sort().join(', ')})`,
    );
  });

  test('when postman/README.md says how many requests the collection holds, then it holds that many', async () => {
    const said = /(\d+) requests in (\w+) folders/.exec(await readFile(path.join(repoRoot, 'postman', 'README.md'), 'utf8'));
    assert.ok(said, 'postman/README.md no longer says "<n> requests in <n> folders"');
    type Item = { item?: Item[] };
    const collection = JSON.parse(await readFile(collectionPath, 'utf8')) as { item: Item[] };
    const count = (items: Item[]): number => items.reduce((n, i) => n + (i.item ? count(i.item) : 1), 0);
    const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    assert.equal(Number(said[1]), count(collection.item), 'requests in the collection');
    assert.equal(said[2], words[collection.item.length], 'folders in the collection');
  });

  test('when newman runs the collection through the gateway, then every assertion passes', { timeout: NEWMAN_MS }, async () => {
    assert.ok(stack, 'stack not started');
    const summary = await runNewman(stack);
    const { stats, failures } = summary.run;
    console.log(
      `newman: ${stats.requests.total} requests (${stats.requests.failed} failed), ${stats.assertions.total} assertions (${stats.assertions.failed} failed), ` +
        `${stats.testScripts.failed + stats.prerequestScripts.failed} script errors, ${summary.run.timings.completed - summary.run.timings.started} ms`,
    );
    const report = failures.map((f) => `- ${f.source?.name ?? '?'}: ${f.error.test ? `[${f.error.test}] ` : ''}${f.error.message}`);
    assert.equal(crashes.length, 0, crashes.join('\n'));
    assert.ok(stats.requests.total >= FLOW.reduce((n, f) => n + f.steps.length, 0), 'not every request ran');
    assert.ok(stats.assertions.total > stats.requests.total * 4, 'suspiciously few assertions');
    assert.equal(failures.length, 0, `newman failures:\n${report.join('\n')}`);
  });
});

function runNewman(running: RunningStack): Promise<Summary> {
  return new Promise((resolve, reject) => {
    newman.run(
      {
        collection: collectionPath,
        environment: environmentPath,
        envVar: [
          { key: 'baseUrl', value: running.urls.gateway },
          { key: 'adminEmail', value: running.admin.email },
          { key: 'adminPassword', value: running.admin.password },
          { key: 'serviceClientId', value: running.orderClient.id },
          { key: 'serviceClientSecret', value: running.orderClient.secret },
        ],
        reporters: [],
        timeout: NEWMAN_MS - 10_000,
        timeoutRequest: 15_000,
        timeoutScript: 5_000,
      },
      (err, summary) => (err ? reject(err) : resolve(summary)),
    );
  });
}

/** `| \`POST /order\` | auth | request | success | failures |` rows of the /user, /product and /order tables. */
function apiRows(markdown: string): { op: string; statuses: number[] }[] {
  const rows: { op: string; statuses: number[] }[] = [];
  for (const line of markdown.split('\n')) {
    const m = /^\|\s*`(GET|POST|PATCH|PUT|DELETE) (\/(?:user|product|order)[^`]*)`\s*\|(.*)$/.exec(line);
    if (!m) continue;
    const cells = (m[3] ?? '').split('|').map((c) => c.trim());
    const success = cells[cells.length - 3] ?? '';
    const failures = cells[cells.length - 2] ?? '';
    const statuses = [...`${success} ${failures}`.matchAll(/(?<![\w.])([1-5]\d\d)(?![\w.])/g)].map((x) => Number(x[1]));
    const op = `${m[1]} ${(m[2] ?? '').replace(/:(\w+)/g, '{$1}')}`;
    rows.push({ op, statuses: [...new Set(statuses)] });
  }
  return rows;
}

/**
 * The routes the README's "Using the API" shows: each curl of its code block (`-X METHOD`, else GET, or POST with
 * `-d`; the path after `$GW`, query string left out) and the admin routes its prose names (`GET /user/users`, ...),
 * as OpenAPI operations (`PATCH /product/{id}`).
 */
function readmeRoutes(readme: string): string[] {
  const start = readme.indexOf('## Using the API');
  assert.ok(start >= 0, 'README has no "## Using the API"');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const routes = new Set<string>();
  for (const call of block.replace(/\\\n/g, ' ').split(/(?=\bcurl )/).filter((c) => c.startsWith('curl '))) {
    const target = /\$GW(\/[^\s"'?]*)/.exec(call)?.[1];
    if (!target) continue;
    const method = /-X ([A-Z]+)/.exec(call)?.[1] ?? (/ -d /.test(call) ? 'POST' : 'GET');
    routes.add(`${method} ${target}`);
  }
  const prose = section.slice(section.indexOf('```', section.indexOf('```bash') + 3));
  for (const m of prose.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/[^`\s]*)`/g)) routes.add(`${m[1]} ${(m[2] ?? '').replace(/:(\w+)/g, '{$1}')}`);
  return [...routes];
}
