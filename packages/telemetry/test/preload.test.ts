// The preload in real processes: two Fastify services (front -> back -> PostgreSQL) started with
// `node --import <preload>`, exporting to the OTLP receiver with each protocol in turn.
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../src/index.js';

const preload = join(import.meta.dirname, '..', 'src', 'register.js');
const fixture = join(import.meta.dirname, 'fixtures', 'traced-app.js');
const probe = join(import.meta.dirname, 'fixtures', 'preload-probe.js');
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Starts a fixture with the preload; resolves with its first IPC message and its stdout lines. */
function start(script: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; message: Record<string, unknown>; lines: string[] }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const child = fork(script, { execArgv: ['--import', preload], env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const lines: string[] = [];
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ child, message: message as Record<string, unknown>, lines }));
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before reporting: ${stderr}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const hexId = (bytes: number) => randomBytes(bytes).toString('hex');
const attributeText = (spans: ReceivedSpan[]) => JSON.stringify(spans.map((s) => ({ a: s.attributes, r: s.resource, e: s.events, l: s.links, n: s.name, st: s.status })));

describe('the preload, with no endpoint or disabled', () => {
  for (const [what, env] of [
    ['no OTEL_EXPORTER_OTLP_ENDPOINT', {}],
    ['OTEL_SDK_DISABLED=true', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_SDK_DISABLED: 'true' }],
    ['OTEL_TRACES_EXPORTER=none', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_TRACES_EXPORTER: 'none' }],
    ['an unsupported protocol (grpc)', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }],
  ] as const) {
    it(`when ${what}, then nothing of OpenTelemetry is loaded`, async () => {
      const { child, message } = await start(probe, env);
      await new Promise((resolve) => child.once('exit', resolve));
      assert.deepEqual(message, { loaded: 0, apiRegistered: false });
    });
  }

  it('when an endpoint is set, then the SDK is loaded (so the check above can fail)', async () => {
    const { child, message } = await start(probe, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' });
    await new Promise((resolve) => child.once('exit', resolve));
    assert.ok((message.loaded as number) > 0);
    assert.equal(message.apiRegistered, true);
  });
});

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  describe(`two traced services exporting with ${protocol}`, () => {
    const secrets = { password: `pw-${hexId(8)}`, token: `tok-${hexId(8)}`, email: `e-${hexId(6)}@example.test`, dbPassword: `db-${hexId(8)}` };
    const role = `telemetry_${hexId(4)}`;
    // With json the batch delay is a minute: those spans reach the receiver only through the flush on close.
    const flushOnClose = protocol === 'http/json';
    let receiver: OtlpReceiver;
    let back: Awaited<ReturnType<typeof start>>;
    let front: Awaited<ReturnType<typeof start>>;
    let spans: ReceivedSpan[] = [];
    const getTrace = { traceId: hexId(16), parent: hexId(8) };
    const postTrace = { traceId: hexId(16), parent: hexId(8) };

    before(async () => {
      // The back service logs in with a password of its own, so a leaked connection string would show it.
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      // Ended also when a statement fails: its open connection held the file's process after the hook failed.
      try {
        await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${secrets.dbPassword}'`);
        // Granted, not assumed from PUBLIC: a platform provisioned into this database (npm start with this
        // DATABASE_URL) revokes PUBLIC's rights on it.
        const { rows } = await admin.query<{ db: string }>('SELECT current_database() AS db');
        await admin.query(`GRANT CONNECT ON DATABASE "${rows[0]!.db.replace(/"/g, '""')}" TO ${role}`);
      } finally {
        await admin.end();
      }
      const dbUrl = new URL(adminUrl);
      dbUrl.username = role;
      dbUrl.password = secrets.dbPassword;

      receiver = await startOtlpReceiver({ port: 0, keepSpans: true });
      const otel = {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_BSP_SCHEDULE_DELAY: flushOnClose ? '60000' : '100',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
      };
      back = await start(fixture, { ...otel, ROLE: 'back', OTEL_SERVICE_NAME: 'back', DATABASE_URL: dbUrl.toString() });
      front = await start(fixture, { ...otel, ROLE: 'front', OTEL_SERVICE_NAME: 'front', SERVICE_VERSION: '2.3.4-rc.1', BACK_URL: `http://127.0.0.1:${back.message.listening}` });
      const frontUrl = `http://127.0.0.1:${front.message.listening}`;

      const got = await fetch(`${frontUrl}/front/42?token=${secrets.token}`, {
        headers: { traceparent: `00-${getTrace.traceId}-${getTrace.parent}-01`, authorization: `Bearer ${secrets.token}`, 'x-customer-email': secrets.email },
      });
      assert.equal(got.status, 200);
      assert.deepEqual(await got.json(), { id: '42', n: secrets.email.length });
      const posted = await fetch(`${frontUrl}/front`, {
        method: 'POST',
        headers: { traceparent: `00-${postTrace.traceId}-${postTrace.parent}-01`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'lamp', password: secrets.password }),
      });
      assert.equal(posted.status, 201);

      if (flushOnClose) await Promise.all([stop(front.child), stop(back.child)]);
      const complete = (all: ReceivedSpan[]) =>
        [getTrace, postTrace].every(({ traceId }) => {
          const ofTrace = all.filter((s) => s.traceId === traceId);
          return ofTrace.some((s) => s.service === 'front' && s.kind === 2) && ofTrace.some((s) => s.service === 'back' && s.name.startsWith('pg.query'));
        });
      spans = await receiver.waitFor(complete, 20_000);
    });

    after(async () => {
      await Promise.all([front && stop(front.child), back && stop(back.child)]);
      await receiver?.close();
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`DROP OWNED BY ${role}`).catch(() => undefined); // its CONNECT grant
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    });

    it('then the receiver got that protocol', () => {
      const { protobuf, json } = receiver.stats.requests;
      assert.ok(protocol === 'http/json' ? json > 0 && protobuf === 0 : protobuf > 0 && json === 0, JSON.stringify(receiver.stats));
    });

    it('then one trace runs under the caller\'s traceparent, with parent links across both process boundaries', () => {
      const ofTrace = spans.filter((s) => s.traceId === getTrace.traceId);
      const frontServer = ofTrace.find((s) => s.service === 'front' && s.kind === 2);
      assert.ok(frontServer, 'front server span');
      assert.equal(frontServer.parentSpanId, getTrace.parent);
      const client = ofTrace.find((s) => s.service === 'front' && s.scope === '@opentelemetry/instrumentation-undici');
      assert.ok(client, 'front client span');
      assert.equal(client.parentSpanId, frontServer.spanId);
      const backServer = ofTrace.find((s) => s.service === 'back' && s.kind === 2);
      assert.ok(backServer, 'back server span');
      // The hand-made traceparent of the client was replaced by the client span's own.
      assert.equal(backServer.parentSpanId, client.spanId);
      const query = ofTrace.find((s) => s.name.startsWith('pg.query'));
      assert.ok(query);
      assert.equal(query.parentSpanId, backServer.spanId);
      assert.ok(!spans.some((s) => s.traceId === '0123456789abcdef0123456789abcdef'));
    });

    it('then a POST handler (its body read outside the request context) still parents its queries', () => {
      const ofTrace = spans.filter((s) => s.traceId === postTrace.traceId);
      const backServer = ofTrace.find((s) => s.service === 'back' && s.kind === 2);
      const query = ofTrace.find((s) => s.name.startsWith('pg.query'));
      assert.ok(backServer && query);
      assert.equal(query.parentSpanId, backServer.spanId);
      assert.equal(backServer.attributes['http.response.status_code'], 201);
    });

    it('then server spans carry the route template, named by it', () => {
      const servers = spans.filter((s) => s.kind === 2);
      const routes = servers.map((s) => `${s.service} ${s.name} ${s.attributes['http.route']}`).sort();
      assert.deepEqual([...new Set(routes)], ['back GET /items/:id /items/:id', 'back POST /items /items', 'front GET /front/:id /front/:id', 'front POST /front /front']);
      const get = servers.find((s) => s.name === 'GET /front/:id');
      assert.equal(get?.attributes['url.path'], '/front/42');
      assert.equal(get?.attributes['http.request.method'], 'GET');
    });

    it('then PostgreSQL spans name the system, operation and statement, and hold no parameter value', () => {
      const queries = spans.filter((s) => s.name.startsWith('pg.query'));
      assert.ok(queries.length >= 2);
      for (const q of queries) {
        assert.equal(q.attributes['db.system.name'], 'postgresql');
        assert.equal(q.attributes['db.operation.name'], 'SELECT');
        assert.match(String(q.attributes['db.query.text']), /\$1::text/);
        assert.equal(q.attributes['db.postgresql.values'], undefined);
      }
      assert.deepEqual(queries.map((q) => q.attributes['db.postgresql.plan']).sort(), ['item-by-id', 'item-create']);
      assert.ok(queries.some((q) => q.name === 'pg.query:item-by-id postgres'));
    });

    it('then no span, resource or event holds the token, password, email or database password', () => {
      const text = attributeText(spans);
      for (const [name, secret] of Object.entries(secrets)) assert.ok(!text.includes(secret), `${name} leaked into a span`);
      const client = spans.find((s) => s.traceId === getTrace.traceId && s.scope === '@opentelemetry/instrumentation-undici');
      assert.equal(client?.attributes['url.query'], '?token=REDACTED');
    });

    it('then the resource names the service, its version and the environment', () => {
      const backSpan = spans.find((s) => s.service === 'back');
      // Without SERVICE_VERSION, the program's package.json; with it (an image's version), that.
      assert.equal(backSpan?.resource['service.version'], '0.1.0');
      assert.equal(spans.find((s) => s.service === 'front')?.resource['service.version'], '2.3.4-rc.1');
      assert.equal(backSpan?.resource['deployment.environment.name'], 'test');
      assert.equal(backSpan?.resource['process.command_args'], undefined);
    });

    it('then the log lines written during a request carry its trace_id and span_id', () => {
      const backServer = spans.find((s) => s.traceId === getTrace.traceId && s.service === 'back' && s.kind === 2);
      const done = back.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request completed' && l.trace_id === getTrace.traceId);
      assert.ok(done, back.lines.join('\n'));
      assert.equal(done.span_id, backServer?.spanId);
    });
  });
}

describe('shutdown with the collector unreachable', () => {
  it('when spans are still batched and the endpoint refuses connections, then the app still closes and the process exits 0', async () => {
    const { child, message } = await start(fixture, {
      ROLE: 'front',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
      OTEL_SERVICE_NAME: 'front',
      // Nothing is sent before the shutdown: the flush at close is the first export, and it fails.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    });
    const res = await fetch(`http://127.0.0.1:${String(message.listening)}/front/x`);
    await res.arrayBuffer();
    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(Date.now() - started < 10_000, `exit took ${Date.now() - started} ms`);
  });
});

// The OTLP exporter appends /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT but takes OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// as the whole URL (@opentelemetry/otlp-exporter-base, otlp-node-http-env-configuration.ts: getSpecificUrlFromEnv
// adds only a root path; the OTLP exporter specification says the same). A base URL given to the traces variable
// sends every span to `/`, which the collector and the receiver answer 404: tracing looks on and nothing arrives.
describe('the endpoint variables, set as the docs show them', () => {
  const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');
  const examples = ['docs/tracing.md', 'docs/configuration.md'].flatMap((doc) =>
    readFileSync(join(repoRoot, doc), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .flatMap((row) => {
        const firstCell = row.split('|')[1] ?? '';
        return ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']
          .filter((variable) => firstCell.includes(`\`${variable}\``))
          .map((variable) => ({ doc, variable, url: /`(http:\/\/[a-z-]+:4318[^`]*)`/.exec(row)?.[1] }));
      }),
  );

  it('when read, then each variable has an example URL in both tables', () => {
    for (const variable of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) {
      for (const doc of ['docs/tracing.md', 'docs/configuration.md']) {
        assert.ok(examples.some((e) => e.doc === doc && e.variable === variable && e.url), `${doc}: no example URL for ${variable}`);
      }
    }
  });

  for (const variable of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) {
    it(`when ${variable} alone is set to the docs' example (host and port pointed at a receiver), then the spans arrive`, async () => {
      const receiver = await startOtlpReceiver({ port: 0, keepSpans: true });
      try {
        for (const { doc, url } of examples.filter((e) => e.variable === variable && e.url)) {
          const endpoint = (url ?? '').replace(/^http:\/\/[a-z-]+:4318/, receiver.url);
          const traceId = hexId(16);
          const { child, message } = await start(fixture, { ROLE: 'front', [variable]: endpoint, OTEL_SERVICE_NAME: 'front', OTEL_BSP_SCHEDULE_DELAY: '100' });
          try {
            const res = await fetch(`http://127.0.0.1:${String(message.listening)}/front/x`, { headers: { traceparent: `00-${traceId}-${hexId(8)}-01` } });
            await res.arrayBuffer();
            await receiver.waitFor((spans) => spans.some((s) => s.traceId === traceId), 5_000).catch(() => {
              throw new Error(`${doc}: ${variable}=${url} exported nothing to the receiver (${JSON.stringify(receiver.stats)})`);
            });
          } finally {
            await stop(child);
          }
        }
      } finally {
        await receiver.close();
      }
    });
  }
});
