// `npm run monitoring` (scripts/monitoring.js, src/stack.ts) as a newcomer meets it: the tools installed when missing,
// and when that fails, told what is still missing and what to do; the running platform scraped where it listens.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { repoRoot } from '../src/paths.js';
import { freeLoopbackPort } from '../src/prometheus-process.js';
import { ensureTools, linkLabels, monitoringSettings, otlpReceiverPort, portsFromEnv, resolveDatabaseUrl, resolveTargets, startMonitoringStack, tracingAdvice } from '../src/stack.js';
import { TOOLS } from '../src/tools.js';
import { needTools } from './support.js';

/** The bash on this PATH (the install script's interpreter). */
function findBash(): string {
  for (const entry of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(entry, 'bash');
    if (entry && existsSync(candidate)) return candidate;
  }
  throw new Error('no bash on PATH');
}

describe('installing the monitoring tools', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'install-tools-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('when the install script fails, then the error names the tools still missing and says what to do next', (t) => {
    // A PATH with bash but none of the tools, and an install script that fails as apt-get does when another apt
    // holds the lock.
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(findBash(), path.join(bin, 'bash'));
    const script = path.join(dir, 'install.sh');
    writeFileSync(script, 'echo "E: Could not get lock /var/lib/dpkg/lock-frontend" >&2; exit 100\n');
    chmodSync(script, 0o755);
    const savedPath = process.env.PATH;
    t.after(() => {
      process.env.PATH = savedPath;
    });
    process.env.PATH = bin;
    const lines: string[] = [];
    let message = '';
    try {
      ensureTools((line) => lines.push(line), { script, tools: ['prometheus', 'amtool'] });
    } catch (err) {
      message = err instanceof Error ? err.message : String(err);
    }
    process.env.PATH = savedPath;
    assert.deepEqual(lines, ['missing prometheus, amtool: running scripts/install-monitoring.sh']);
    assert.match(message, /still missing: prometheus, amtool/);
    assert.match(message, /exited with 100/);
    assert.match(message, /run npm run monitoring again/);
  });

  test('when apt-get runs, then it waits for a dpkg lock another apt holds instead of failing at once', () => {
    const text = readFileSync(path.join(repoRoot, 'scripts', 'install-monitoring.sh'), 'utf8');
    const calls = text.split('\n').filter((line) => /^\s*\$SUDO apt-get /.test(line));
    assert.ok(calls.length >= 2, `only ${calls.length} apt-get calls read`);
    assert.deepEqual(calls.filter((line) => !line.includes('"${LOCK_WAIT[@]}"')), []);
    assert.match(text, /^LOCK_WAIT=\(-o DPkg::Lock::Timeout=\d+\)$/m);
  });
});

describe("the ports npm run monitoring scrapes", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'monitoring-targets-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('when npm start ran on other ports (.data/stack.json), then those are the scrape targets, the gateway on its metrics port', async () => {
    const file = path.join(dir, 'stack.json');
    writeFileSync(file, JSON.stringify({ databaseUrl: 'postgres://x@127.0.0.1:1/db', ports: { user: 41001, product: 41002, order: 41003, gateway: 48080 }, gatewayMetricsPort: 49464 }));
    assert.deepEqual(await resolveTargets(file), { user: 41001, product: 41002, order: 41003, gateway: 49464 });
  });

  test('when there is no stack file, or it names no usable port, then the defaults stay', async () => {
    assert.deepEqual(await resolveTargets(path.join(dir, 'missing.json')), {});
    const file = path.join(dir, 'odd.json');
    writeFileSync(file, JSON.stringify({ ports: { user: 'x', product: 0, order: 70000 } }));
    assert.deepEqual(await resolveTargets(file), {});
  });
});

describe('npm run monitoring beside a platform started with its own DATA_DIR (docs/configuration.md: "one platform per data folder")', () => {
  test('when npm start runs from DATA_DIR, then npm run monitoring with the same DATA_DIR scrapes its ports, takes its database and writes its state there, not in a .data it never made', { timeout: 90_000 }, async (t) => {
    if (!needTools(t, TOOLS)) return;
    // Before: only .data/stack.json was read: the defaults 3001-3003 were scraped, the exporter had no database, and
    // with no .data folder the command died with an ENOENT stack writing .data/monitoring.json.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'monitoring-data-dir-'));
    const targets = { user: await freeLoopbackPort(), product: await freeLoopbackPort(), order: await freeLoopbackPort(), gateway: await freeLoopbackPort() };
    const databaseUrl = 'postgres://exporter@127.0.0.1:1/shop';
    writeFileSync(path.join(dataDir, 'stack.json'), JSON.stringify({ databaseUrl, ports: { ...targets, gateway: await freeLoopbackPort() }, gatewayMetricsPort: targets.gateway, tracesUrl: null }));
    assert.equal(await resolveDatabaseUrl({ DATA_DIR: dataDir }), databaseUrl);
    assert.equal(await resolveDatabaseUrl({ DATA_DIR: '' }), await resolveDatabaseUrl({}));
    const ports = { prometheus: await freeLoopbackPort(), alertmanager: await freeLoopbackPort(), postgresExporter: await freeLoopbackPort(), webhook: await freeLoopbackPort() };
    const env = {
      ...process.env,
      DATA_DIR: dataDir,
      PROMETHEUS_PORT: String(ports.prometheus),
      ALERTMANAGER_PORT: String(ports.alertmanager),
      POSTGRES_EXPORTER_PORT: String(ports.postgresExporter),
      WEBHOOK_RECEIVER_PORT: String(ports.webhook),
      OTLP_RECEIVER_PORT: '0',
      MONITORING_DATABASE_URL: '',
      DATABASE_URL: '',
    };
    const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'monitoring.js'), '--test-overlay', '--no-exporter'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += String(d)));
    child.stderr.on('data', (d: Buffer) => (out += String(d)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const started = await Promise.race([
        exited.then((code) => `exited ${code}`),
        (async () => {
          while (!out.includes('Ctrl-C to stop.')) await new Promise((resolve) => setTimeout(resolve, 100));
          return 'started';
        })(),
      ]);
      assert.equal(started, 'started', out);
      const state = JSON.parse(readFileSync(path.join(dataDir, 'monitoring.json'), 'utf8')) as { prometheusUrl: string };
      assert.equal(state.prometheusUrl, `http://127.0.0.1:${ports.prometheus}`);
      const answer = (await (await fetch(`${state.prometheusUrl}/api/v1/targets`)).json()) as { data: { activeTargets: { labels: Record<string, string>; scrapeUrl: string }[] } };
      const scraped = Object.fromEntries(answer.data.activeTargets.filter((target) => target.labels['job'] === 'ecommerce').map((target) => [target.labels['service'], new URL(target.scrapeUrl).port]));
      assert.deepEqual(scraped, Object.fromEntries(Object.entries(targets).map(([service, port]) => [service, String(port)])));
    } finally {
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("what npm run monitoring says under the trace receiver's URL", () => {
  // docs/tracing.md starts `OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 npm start` first, then npm run
  // monitoring; its banner still said "trace the services: OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 npm
  // start", as if the running platform did not trace yet: a newcomer who did just that was told to do it again.
  const dir = mkdtempSync(path.join(tmpdir(), 'monitoring-advice-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const receiver = 'http://127.0.0.1:4318';
  /** A data folder as npm start leaves it while it runs (stack.pid: a live process, this one) or after (none). */
  const dataDir = (name: string, tracesUrl: string | null | undefined, running = true) => {
    const folder = path.join(dir, name);
    mkdirSync(folder, { recursive: true });
    const ports = { user: 3001, product: 3002, order: 3003, gateway: 8080 };
    writeFileSync(path.join(folder, 'stack.json'), JSON.stringify({ databaseUrl: 'postgres://x@127.0.0.1:1/db', ports, gatewayMetricsPort: 9464, ...(tracesUrl === undefined ? {} : { tracesUrl }) }));
    if (running) writeFileSync(path.join(folder, 'stack.pid'), `${process.pid}\n`);
    return folder;
  };

  test('when the running npm start sends its spans to this receiver, then it says so and asks for no restart', () => {
    for (const [name, url] of [
      ['base', 'http://127.0.0.1:4318/v1/traces'],
      ['localhost', 'http://localhost:4318/v1/traces'],
    ] as const) {
      const advice = tracingAdvice(receiver, dataDir(name, url));
      assert.match(advice, /the running npm start sends its spans here/, `${name}: ${advice}`);
      assert.doesNotMatch(advice, /OTEL_EXPORTER_OTLP_ENDPOINT=/, `${name}: ${advice}`);
    }
  });

  test('when the running npm start does not trace, or sends elsewhere, then it says so and how to restart it, never where elsewhere is', () => {
    const off = tracingAdvice(receiver, dataDir('off', null));
    assert.match(off, /the running npm start does not trace: stop it and start it as OTEL_EXPORTER_OTLP_ENDPOINT=http:\/\/127\.0\.0\.1:4318 npm start/, off);
    for (const [name, url] of [
      ['port', 'http://127.0.0.1:4319/v1/traces'],
      ['host', 'http://collector.example:4318/v1/traces'],
      ['path', 'http://127.0.0.1:4318/'],
      ['secret', 'https://user:s3cret@127.0.0.1:4318/v1/traces'],
    ] as const) {
      const advice = tracingAdvice(receiver, dataDir(name, url));
      assert.match(advice, /the running npm start sends its spans elsewhere: stop it and start it as OTEL_EXPORTER_OTLP_ENDPOINT=http:\/\/127\.0\.0\.1:4318 npm start/, `${name}: ${advice}`);
      assert.doesNotMatch(advice, /4319|collector|s3cret/, `${name}: ${advice}`);
    }
  });

  test('when no npm start runs (no stack.pid, or its process gone), or its stack.json is older than this line, then it says how to start one traced', () => {
    const start = /^ {2}trace the services: OTEL_EXPORTER_OTLP_ENDPOINT=http:\/\/127\.0\.0\.1:4318 npm start {3}\(docs\/tracing\.md\)$/;
    assert.match(tracingAdvice(receiver, dataDir('stopped', 'http://127.0.0.1:4318/v1/traces', false)), start);
    assert.match(tracingAdvice(receiver, path.join(dir, 'nothing-here')), start);
    const gone = dataDir('gone', 'http://127.0.0.1:4318/v1/traces');
    writeFileSync(path.join(gone, 'stack.pid'), '2147483646\n');
    assert.match(tracingAdvice(receiver, gone), start);
    assert.match(tracingAdvice(receiver, dataDir('older', undefined)), start);
  });

  test('when npm start writes .data/stack.json, then it records where its services send their spans, as the preload decides it', () => {
    const source = readFileSync(path.join(repoRoot, 'scripts', 'stack.js'), 'utf8');
    assert.match(source, /writeFileSync\(join\(dataDir, 'stack\.json'\), JSON\.stringify\(\{[^}]*tracesUrl: tracesUrlOf\(env\)/);
  });
});

describe("npm run monitoring's own ports", () => {
  test('when a port variable is set, then that port is used; when it is not a port number, then the error names the variable', () => {
    assert.deepEqual(portsFromEnv({ PROMETHEUS_PORT: '19090', ALERTMANAGER_PORT: '19093', POSTGRES_EXPORTER_PORT: '', WEBHOOK_RECEIVER_PORT: '19095' }), {
      prometheus: 19090,
      alertmanager: 19093,
      webhook: 19095,
    });
    assert.deepEqual(portsFromEnv({}), {});
    for (const value of ['abc', '0', '70000', '90.5', '-1']) {
      assert.throws(() => portsFromEnv({ PROMETHEUS_PORT: value }), { message: `PROMETHEUS_PORT must be a port number from 1 to 65535 (got ${JSON.stringify(value)})` });
    }
  });

  test('when OTLP_RECEIVER_PORT is unset or set empty, then the trace receiver listens on 4318, where the services send; a port number is taken as given, anything else refused naming the variable', () => {
    // `Number(OTLP_RECEIVER_PORT ?? 4318)` made an empty value port 0: a random port no service sent its traces to.
    assert.equal(otlpReceiverPort({}), 4318);
    assert.equal(otlpReceiverPort({ OTLP_RECEIVER_PORT: '' }), 4318);
    fc.assert(fc.property(fc.integer({ min: 0, max: 65535 }), (port) => otlpReceiverPort({ OTLP_RECEIVER_PORT: String(port) }) === port));
    for (const value of ['abc', ' ', '0x10', '1e3', '70000', '-1']) assert.throws(() => otlpReceiverPort({ OTLP_RECEIVER_PORT: value }), /OTLP_RECEIVER_PORT/, value);
  });

  test("when OTLP_RECEIVER_PORT is not a port number, then docs/monitoring.md says the start goes on without tracing and what it prints, and that message names the variable", () => {
    // scripts/monitoring.js reads the port inside the receiver's try: the kit's config error is printed after
    // `OTLP receiver not started:` and the stack runs without tracing, as for a taken port.
    const doc = readFileSync(path.join(repoRoot, 'docs', 'monitoring.md'), 'utf8');
    const bullet = doc.split('\n- ').find((b) => b.startsWith('`OTLP_RECEIVER_PORT`'))?.replace(/\s+/g, ' ') ?? '';
    assert.match(bullet, /not a port number .*does not fail the start either/, 'docs/monitoring.md says what a non-number OTLP_RECEIVER_PORT does');
    for (const value of ['abc', '70000']) {
      const printed = (() => {
        try {
          return String(otlpReceiverPort({ OTLP_RECEIVER_PORT: value }));
        } catch (error) {
          return (error as Error).message;
        }
      })();
      assert.match(printed, new RegExp(`OTLP_RECEIVER_PORT: .*${JSON.stringify(value).replace(/"/g, '\\"')}`), value);
    }
    assert.match(bullet, /Invalid configuration: - OTLP_RECEIVER_PORT: expected a whole number/, 'the doc quotes the message printed');
  });

  test('when any of its other variables is set empty, then it counts as unset, as in the services and npm start: the database, the webhook and the alert links fall back as when unset', async () => {
    const names = ['MONITORING_DATABASE_URL', 'DATABASE_URL', 'ALERT_WEBHOOK_URL', 'RUNBOOK_BASE_URL', 'GRAFANA_URL'] as const;
    fc.assert(
      fc.property(fc.subarray([...names], { minLength: 1 }), (empty) => {
        const env = Object.fromEntries(empty.map((name) => [name, '']));
        assert.deepEqual(monitoringSettings(env), monitoringSettings({}));
        assert.deepEqual(linkLabels(env), linkLabels({}));
      }),
    );
    // An empty MONITORING_DATABASE_URL hid DATABASE_URL: postgres_exporter went to .data/stack.json's, or did not start.
    const url = 'postgres://exporter@127.0.0.1:5432/shop';
    assert.equal(await resolveDatabaseUrl({ MONITORING_DATABASE_URL: '', DATABASE_URL: url }), url);
    assert.equal(await resolveDatabaseUrl({ MONITORING_DATABASE_URL: url, DATABASE_URL: 'postgres://other@127.0.0.1/x' }), url);
  });

  test('when Prometheus\'s port is taken, then the start fails at once naming it and the variable that moves it', async (t) => {
    if (!needTools(t, TOOLS)) return;
    const taken = createServer();
    const port = await new Promise<number>((resolve) => taken.listen(0, '127.0.0.1', () => resolve((taken.address() as AddressInfo).port)));
    const dataDir = mkdtempSync(path.join(tmpdir(), 'monitoring-ports-'));
    try {
      await assert.rejects(startMonitoringStack({ ports: { prometheus: port }, exporter: false, dataDir, targets: {}, log: () => {} }), {
        message: `127.0.0.1:${port} (prometheus) is already in use (another npm run monitoring, or a prometheus of the system's?): stop it, or set PROMETHEUS_PORT to a free port`,
      });
    } finally {
      await new Promise((resolve) => taken.close(resolve));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('links in the notifications of npm run monitoring', () => {
  test('when the Watchdog is delivered, then its generatorURL and Alertmanager\'s externalURL name the loopback ports they listen on, not the host name', { timeout: 90_000 }, async (t) => {
    if (!needTools(t, TOOLS)) return;
    // The kit's freePort (below the ephemeral range, reserved for this process), not a listen on 0 closed again: the
    // kernel could hand such a port to another test file's listen on 0 before Prometheus or Alertmanager bound it.
    const ports = { prometheus: await freeLoopbackPort(), alertmanager: await freeLoopbackPort(), postgresExporter: await freeLoopbackPort(), webhook: await freeLoopbackPort() };
    const stack = await startMonitoringStack({ overlay: true, ports, exporter: false, targets: {}, log: () => {} });
    try {
      const deadline = Date.now() + 60_000;
      let watchdog = stack.webhook?.received().find((n) => n.alerts.some((a) => a.labels.alertname === 'Watchdog'));
      while (!watchdog && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        watchdog = stack.webhook?.received().find((n) => n.alerts.some((a) => a.labels.alertname === 'Watchdog'));
      }
      assert.ok(watchdog, 'the Watchdog reached the webhook within 60 s');
      // Without --web.external-url both were http://<host name>:<port>/, which a laptop's browser may not resolve.
      assert.equal(watchdog.externalURL, `http://127.0.0.1:${ports.alertmanager}`);
      const generator = watchdog.alerts.find((a) => a.labels.alertname === 'Watchdog')?.generatorURL ?? '';
      assert.ok(generator.startsWith(`http://127.0.0.1:${ports.prometheus}/graph?`), `generatorURL ${generator}`);
    } finally {
      await stack.stop();
    }
  });
});
