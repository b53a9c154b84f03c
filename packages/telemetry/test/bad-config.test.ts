// The standard OTEL_* variables with values the SDK cannot use, in real processes (the preload and the fixture
// service, exporting to the test's OTLP receiver): the service must start and serve, spans must still arrive, and
// the bad value must be said on stderr, once, naming the variable. Before, the SDK had no diagnostic logger unless
// OTEL_LOG_LEVEL was set, so every one of these was silent; OTEL_BSP_MAX_EXPORT_BATCH_SIZE=0 made the batch
// processor's export loop spin (the process grew to 4 GB and was killed), a negative batch size or a queue of 0
// exported nothing at all.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../src/index.js';

const preload = join(import.meta.dirname, '..', 'src', 'register.js');
const fixture = join(import.meta.dirname, 'fixtures', 'traced-app.js');
const hexId = (bytes: number) => randomBytes(bytes).toString('hex');

interface Run {
  status: number;
  exportedSpans: number;
  resource: Record<string, unknown>;
  stderr: string;
  exitCode: number | null;
}

/** Starts the front fixture with `env`, sends one traced request, waits for its spans (up to 10 s: a delay refused falls back to 5 s), stops it (SIGKILL after 10 s). */
async function runWith(receiver: OtlpReceiver, env: Record<string, string>): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const child = fork(fixture, {
    execArgv: ['--import', preload],
    // The back service is the receiver: it answers 404, the front 500; both spans are exported either way.
    env: { ...clean, ROLE: 'front', BACK_URL: receiver.url, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'front', OTEL_BSP_SCHEDULE_DELAY: '100', ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const message = await new Promise<Record<string, unknown>>((resolve, reject) => {
      child.once('message', (m) => resolve(m as Record<string, unknown>));
      child.once('exit', (code) => reject(new Error(`exited (${code}) before listening: ${stderr}`)));
    });
    const traceId = hexId(16);
    const res = await fetch(`http://127.0.0.1:${String(message.listening)}/front/x`, { headers: { traceparent: `00-${traceId}-${hexId(8)}-01` }, signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    const spans = await receiver.waitFor((all) => all.filter((s) => s.traceId === traceId).length >= 2, 10_000).catch(() => receiver.spans);
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const exitCode = await exited;
    clearTimeout(killer);
    const ofTrace = spans.filter((s) => s.traceId === traceId);
    return { status: res.status, exportedSpans: ofTrace.length, resource: ofTrace[0]?.resource ?? {}, stderr, exitCode };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

const warningsIn = (stderr: string) =>
  stderr
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { level: number; msg: string });

describe('OTEL_* variables with values the SDK cannot use', () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver({ port: 0, keepSpans: true });
  });
  after(() => receiver?.close());

  const cases: [string, Record<string, string>, RegExp][] = [
    ['a batch size of 0', { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '0' }, /OTEL_BSP_MAX_EXPORT_BATCH_SIZE="0"/],
    ['a negative batch size', { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '-5' }, /OTEL_BSP_MAX_EXPORT_BATCH_SIZE="-5"/],
    ['a queue of 0', { OTEL_BSP_MAX_QUEUE_SIZE: '0' }, /OTEL_BSP_MAX_QUEUE_SIZE="0"/],
    ['a delay that is no number', { OTEL_BSP_SCHEDULE_DELAY: 'soon' }, /OTEL_BSP_SCHEDULE_DELAY="soon"/],
    ['an export timeout over what a timer takes', { OTEL_BSP_EXPORT_TIMEOUT: '1e12' }, /OTEL_BSP_EXPORT_TIMEOUT="1e12"/],
    ['a sampler ratio of 1.5', { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }, /OTEL_TRACES_SAMPLER_ARG=1\.5 .*out of range/],
    ['a sampler ratio that is no number', { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '10%' }, /OTEL_TRACES_SAMPLER_ARG/],
    ['an unknown sampler', { OTEL_TRACES_SAMPLER: 'sometimes' }, /OTEL_TRACES_SAMPLER value "sometimes" invalid/],
    ['a resource attribute badly percent-encoded', { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,c=%ZZ' }, /OTEL_RESOURCE_ATTRIBUTES is ignored.*entry 2 is not valid percent-encoding/],
    ['a resource attribute with an unencoded =', { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,team=a=b' }, /OTEL_RESOURCE_ATTRIBUTES is ignored.*entry 2 is not one key=value/],
    // The exporter dropped these entries, or cut them, without a word (core's parseKeyPairsIntoRecord).
    ['an OTLP header with no =', { OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key' }, /OTEL_EXPORTER_OTLP_HEADERS: entry 1 is not key=value/],
    ['an OTLP header badly percent-encoded', { OTEL_EXPORTER_OTLP_HEADERS: 'x-a=1,x-api-key=%ZZ' }, /OTEL_EXPORTER_OTLP_HEADERS: entry 2 is not valid percent-encoding/],
    ['an OTLP header with a ;', { OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-api-key=a;b' }, /OTEL_EXPORTER_OTLP_TRACES_HEADERS: entry 1 \(x-api-key\): what follows ';' is not sent/],
    // These made every export fail (ERR_INVALID_HTTP_TOKEN, ERR_INVALID_CHAR): no span arrived, ever.
    ['an OTLP header whose name is no HTTP token', { OTEL_EXPORTER_OTLP_HEADERS: 'x-a=1,x y=1' }, /OTEL_EXPORTER_OTLP_HEADERS: entry 2: its key is no HTTP header name/],
    ['an OTLP header whose value decodes to a CR', { OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-api-key=a%0Db' }, /OTEL_EXPORTER_OTLP_TRACES_HEADERS: entry 1 \(x-api-key\): its value holds a control character/],
    ['an OTLP header whose value is past U+00FF', { OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=%E2%9C%93' }, /OTEL_EXPORTER_OTLP_HEADERS: entry 1 \(x-api-key\): its value holds/],
    ['an unknown OTEL_LOG_LEVEL', { OTEL_LOG_LEVEL: 'loud' }, /OTEL_LOG_LEVEL="loud" is not one of/],
  ];
  for (const [what, env, said] of cases) {
    it(`when ${what}, then the service serves, its spans arrive, the value is said on stderr and it exits 0`, async () => {
      const run = await runWith(receiver, env);
      assert.equal(run.status, 500, 'the front answered (500: its back answered 404)');
      assert.equal(run.exportedSpans, 2, `spans exported; stderr: ${run.stderr.slice(0, 2000)}`);
      assert.equal(run.exitCode, 0);
      const lines = warningsIn(run.stderr);
      assert.ok(lines.some((l) => l.level >= 40 && said.test(l.msg)), `no warning matching ${String(said)}: ${run.stderr.slice(0, 2000)}`);
    });
  }

  it('when an OTLP header is refused, then its value is never said (a header there is usually a credential)', async () => {
    const secret = `s3cret${hexId(8)}`;
    const run = await runWith(receiver, { OTEL_EXPORTER_OTLP_HEADERS: `${secret},x y=${secret},x-k=${secret}%0A,x-j=${secret}%ZZ,x-i=${secret};${secret}` });
    assert.equal(run.exportedSpans, 2);
    assert.equal(warningsIn(run.stderr).filter((l) => l.msg.includes('OTEL_EXPORTER_OTLP_HEADERS')).length, 5, run.stderr);
    assert.ok(!run.stderr.includes(secret), run.stderr);
  });

  it('when OTEL_LOG_LEVEL is unset, then the SDK logs at info, the specification\'s default: a failed export says why it was not retried', async () => {
    // The receiver answers 404 to any path but /v1/traces: an export the exporter does not retry.
    const run = await runWith(receiver, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/elsewhere` });
    assert.equal(run.exportedSpans, 0);
    assert.ok(warningsIn(run.stderr).some((l) => l.level === 30 && /Export failed with non-retryable error/.test(l.msg)), run.stderr.slice(0, 2000));
  });

  // The specification reads enum values case-insensitively; the SDK matched the sampler's name exactly, said
  // "invalid" and recorded every span.
  it('when OTEL_TRACES_SAMPLER is written in another letter case, then that sampler is used and nothing is said', async () => {
    const off = await runWith(receiver, { OTEL_TRACES_SAMPLER: ' ALWAYS_OFF ' });
    assert.equal(off.status, 500);
    assert.equal(off.exportedSpans, 0, off.stderr.slice(0, 2000));
    assert.equal(off.stderr, '');
    const ratio = await runWith(receiver, { OTEL_TRACES_SAMPLER: 'TraceIdRatio', OTEL_TRACES_SAMPLER_ARG: '0' });
    assert.equal(ratio.exportedSpans, 0, ratio.stderr.slice(0, 2000));
    assert.equal(ratio.stderr, '');
  });

  it('when every value is valid, then nothing is said on stderr', async () => {
    const run = await runWith(receiver, {
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=k%20v%3B1, x-tenant = a ,,',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.5',
      OTEL_RESOURCE_ATTRIBUTES: ' deployment.environment.name=t%20x , team=a%2Cb%3Dc,,service.name=ignored',
    });
    assert.equal(run.exportedSpans, 2);
    assert.equal(run.stderr, '');
    // Percent-encoded values decoded; OTEL_SERVICE_NAME wins over a service.name among the attributes.
    assert.equal(run.resource['deployment.environment.name'], 't x');
    assert.equal(run.resource['team'], 'a,b=c');
    assert.equal(run.resource['service.name'], 'front');
  });
});
