// The line a 500 writes ("unhandled error") and every `{ err }` line of the kit's logger: the error's type, code, the
// names of what failed and its words, never the data it holds (a PostgreSQL error's row or key, a value it quoted).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pg from 'pg';
import { listenOnLoopback } from '@ecommerce/test-support';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Database, Metrics, createServer, type App } from '../src/index.js';
import { loggedError, loggedMessage } from '../src/error-log.js';

const EMAIL = 'victim.4f2a9c@example.test';
const TOKEN = 'eyJhbGciOi.Jz3kQ9.x7Yp2';

/** A PostgreSQL error as pg raises it, with the fields the server sends. */
function databaseError(message: string, fields: Record<string, string>): pg.DatabaseError {
  return Object.assign(new pg.DatabaseError(message, message.length, 'error'), fields);
}

/** A server of the kit whose log lines are kept in `lines`. */
async function loggingServer(lines: string[]): Promise<App> {
  return createServer({
    name: 't',
    prefix: '/t',
    version: '0',
    description: 't',
    logLevel: 'info',
    readiness: async () => undefined,
    metrics: new Metrics('t', '0', { defaultMetrics: false }),
    docs: false,
    logStream: new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }),
  });
}

/** No line holds the email or the token. */
function assertNoValue(lines: string[]): void {
  for (const text of lines) {
    assert.ok(!text.includes(EMAIL), text);
    assert.ok(!text.includes(TOKEN), text);
  }
}

async function unhandledLine(thrown: Error): Promise<Record<string, unknown>> {
  const lines: string[] = [];
  const app = await loggingServer(lines);
  app.get('/t/fail', async () => {
    throw thrown;
  });
  const base = await listenOnLoopback(app);
  try {
    const res = await fetch(`${base}/t/fail`);
    assert.equal(res.status, 500);
  } finally {
    await app.close();
  }
  const line = lines.map((l) => JSON.parse(l) as { msg: string; err?: Record<string, unknown> }).find((l) => l.msg === 'unhandled error');
  assert.ok(line?.err, lines.join('\n'));
  assertNoValue(lines);
  return line.err;
}

describe('errors in log lines', () => {
  it('a constraint violation logs its code and names, never its detail (the whole row: the email, the password hash)', async () => {
    const err = await unhandledLine(
      databaseError('new row for relation "users" violates check constraint "users_name_check"', {
        code: '23514',
        severity: 'ERROR',
        schema: 'users',
        table: 'users',
        constraint: 'users_name_check',
        detail: `Failing row contains (01a248c5-12a5-71e1-b0f1-f67ef29893be, ${EMAIL}, Ann, $argon2id$v=19$m=19456,t=2,p=1$tHml67wp9IgzwBcXTzzVTw$02/OHAmulu...).`,
        where: `SQL statement "INSERT INTO users VALUES ('${EMAIL}')"`,
        hint: `Key (email)=(${EMAIL})`,
      }),
    );
    assert.deepEqual(
      { type: err.type, code: err.code, severity: err.severity, schema: err.schema, table: err.table, constraint: err.constraint, message: err.message },
      { type: 'DatabaseError', code: '23514', severity: 'ERROR', schema: 'users', table: 'users', constraint: 'users_name_check', message: 'new row for relation "users" violates check constraint "users_name_check"' },
    );
    assert.equal(err.detail, undefined);
    assert.equal(err.where, undefined);
    assert.equal(err.hint, undefined);
    assert.match(String(err.stack), /^error: new row for relation "users"[^\n]*\n {4}at /);
  });

  it('a value the database or the code quoted in a message is REDACTED in the message and the stack, with its causes', async () => {
    const cause = databaseError(`account ${EMAIL} is refused`, { code: 'P0001' });
    const err = await unhandledLine(new Error(`could not register with token "${TOKEN}"`, { cause }));
    assert.equal(err.message, 'could not register with token "REDACTED": account REDACTED is refused');
    assert.match(String(err.stack), /^Error: could not register with token "REDACTED"\n {4}at [^]*\ncaused by: error: account REDACTED is refused\n {4}at /);
  });

  it('an error\'s other fields are not written (a request, a body, headers), an AggregateError\'s errors are, each alike', () => {
    const withFields = Object.assign(new Error('upstream failed'), { code: 'UND_ERR_SOCKET', headers: { authorization: `Bearer ${TOKEN}` }, body: EMAIL });
    assert.deepEqual(Object.keys(loggedError(withFields)).sort(), ['code', 'message', 'stack', 'type']);
    const aggregate = loggedError(new AggregateError([withFields, new Error(`for ${EMAIL}`)], 'both failed'));
    assert.deepEqual(aggregate.aggregateErrors?.map((e) => e.message), ['upstream failed', 'for REDACTED']);
    assert.ok(!JSON.stringify(aggregate).includes(EMAIL));
  });

  it('"dependency unavailable" (an outage answered 503) writes the error\'s words, not a value it quoted', async () => {
    const lines: string[] = [];
    const app = await loggingServer(lines);
    app.get('/t/fail', async () => {
      throw databaseError(`terminating connection for ${EMAIL} with "${TOKEN}"`, { code: '57P01' });
    });
    const base = await listenOnLoopback(app);
    try {
      assert.equal((await fetch(`${base}/t/fail`)).status, 503);
    } finally {
      await app.close();
    }
    // The old line wrote the message as a second `msg` member: {"code":"57P01","msg":"terminating connection for <email>...","msg":"dependency unavailable"}.
    assertNoValue(lines);
    const line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'dependency unavailable');
    assert.equal(line?.detail, 'terminating connection for REDACTED with "REDACTED"', lines.join('\n'));
  });

  it('the database pool\'s warnings (an idle client\'s error, a connection lost) write the error\'s words, not a value it quoted', async () => {
    const lines: string[] = [];
    const app = await loggingServer(lines);
    const db = new Database({ url: 'postgres://nobody@127.0.0.1:9/none', schema: 'x', poolMax: 1, applicationName: 'error-log-test', metrics: new Metrics('t', '0', { defaultMetrics: false }), logger: app.log });
    try {
      db.pool.emit('error', databaseError(`idle client for ${EMAIL}`, { code: '57P01' }), {});
      const client = new EventEmitter();
      db.pool.emit('connect', client);
      client.emit('error', databaseError(`lost with token ${TOKEN}`, { code: '08006' }));
    } finally {
      await db.pool.end();
      await app.close();
    }
    assertNoValue(lines);
    const written = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      written.filter((l) => l.level === 40).map((l) => [l.msg, l.code, l.detail]),
      [
        ['idle database client error', '57P01', 'idle client for REDACTED'],
        ['database connection lost', '08006', 'lost with token REDACTED'],
      ],
    );
  });

  it('loggedMessage (a warning\'s `detail` or `reason`): an error with its causes, or a reason string made from one, by the same rule', () => {
    assert.equal(loggedMessage(new Error(`refresh failed for ${EMAIL}`, { cause: new Error(`answered "${TOKEN}"`) })), 'refresh failed for REDACTED: answered "REDACTED"');
    assert.equal(loggedMessage(`product answered 500 for the reservation of order 01a248c5-12a5-71e1-b0f1-f67ef29893be (${TOKEN})`), 'product answered 500 for the reservation of order 01a248c5-12a5-71e1-b0f1-f67ef29893be (REDACTED)');
    assert.equal(loggedMessage('connect ECONNREFUSED 127.0.0.1:5432'), 'connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('a service that fails to start (its own line, written before the app\'s logger exists) writes the error as the logger would: its words, not a value it quoted, nor its detail', () => {
    const kit = new URL('../src/index.js', import.meta.url).href;
    const program = `
      import pg from 'pg';
      import { runMain } from ${JSON.stringify(kit)};
      const err = Object.assign(new pg.DatabaseError('duplicate key for ${EMAIL}', 1, 'error'), { code: '23505', table: 'users', detail: 'Key (email)=(${EMAIL}) already exists.' });
      runMain('t service', () => ({ HOST: '127.0.0.1', PORT: 0, SHUTDOWN_TIMEOUT_MS: 1000 }), async () => { throw new Error('migration failed with "${TOKEN}"', { cause: err }); });
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8', timeout: 20_000, cwd: new URL('.', import.meta.url) });
    assert.equal(child.status, 1, child.stderr);
    assertNoValue([child.stdout, child.stderr]);
    const line = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { msg: string; err: Record<string, unknown> };
    assert.equal(line.msg, 'start-up failed');
    assert.deepEqual([line.err.type, line.err.message, line.err.detail], ['Error', 'migration failed with "REDACTED": duplicate key for REDACTED', undefined]);
  });
});
