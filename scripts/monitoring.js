#!/usr/bin/env node
// `npm run monitoring`: Prometheus (127.0.0.1:9090), Alertmanager (:9093),
// postgres_exporter (:9187), a webhook receiver (:9095) and an OTLP trace
// receiver (:4318, OTLP_RECEIVER_PORT) against the running `npm start` stack.
// Ctrl-C or SIGTERM (also to the npm that runs it) stops everything it started.
//
//   node scripts/monitoring.js [--test-overlay] [--no-exporter]
//     --test-overlay  shortened `for`/windows and Alertmanager timings,
//                     generated from the shipped rules (for the live proof)
//     --no-exporter   do not start postgres_exporter
//   env: MONITORING_DATABASE_URL / DATABASE_URL (else the stack.json of DATA_DIR, else .data),
//        ALERT_WEBHOOK_URL (else the built-in receiver),
//        PROMETHEUS_PORT (9090), ALERTMANAGER_PORT (9093), POSTGRES_EXPORTER_PORT (9187),
//        WEBHOOK_RECEIVER_PORT (9095): a taken port fails the start naming its variable,
//        OTLP_RECEIVER_PORT (4318; 0 picks one)
//   The services are scraped on the ports `npm start` wrote to its stack.json (in DATA_DIR, else .data).
//
// The trace receiver (packages/telemetry, a dev aid: no trace backend runs
// here) prints each finished trace as a waterfall to <data dir>/traces.log;
// start the services with `OTEL_EXPORTER_OTLP_ENDPOINT=<its URL> npm start`.
//
// The logic lives in deploy/monitoring/src/stack.ts (typed, reusable by the
// live proof); this file is the command line around it.
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onParentGone } from './parent-watch.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(root, 'deploy', 'monitoring', 'dist', 'src', 'stack.js');
if (!existsSync(compiled)) {
  console.error('deploy/monitoring is not built: run `npx tsc -b deploy/monitoring` (npm run monitoring does it)');
  process.exit(1);
}
const { startMonitoringStack, portsFromEnv, otlpReceiverPort, tracesLogOf, tracingAdvice, platformDataDir } = await import(compiled);
const telemetry = path.join(root, 'packages', 'telemetry', 'dist', 'src', 'index.js');
if (!existsSync(telemetry)) {
  console.error('packages/telemetry is not built: run `npx tsc -b packages/telemetry` (npm run monitoring does it)');
  process.exit(1);
}
const { startOtlpReceiver, formatWaterfall } = await import(telemetry);

const args = new Set(process.argv.slice(2));
for (const arg of args) {
  if (!['--test-overlay', '--no-exporter'].includes(arg)) {
    console.error(`unknown option ${arg}`);
    process.exit(2);
  }
}

let stack;
try {
  stack = await startMonitoringStack({
    overlay: args.has('--test-overlay'),
    exporter: !args.has('--no-exporter'),
    ports: portsFromEnv(),
  });
} catch (error) {
  console.error(`monitoring: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

// Traces: a port that is taken leaves tracing out, not the whole stack.
const tracesLog = tracesLogOf(stack.dataDir);
let receiver = null;
try {
  const out = createWriteStream(tracesLog, { flags: 'a' });
  receiver = await startOtlpReceiver({
    port: otlpReceiverPort(),
    onTrace: (trace) => out.write(`${formatWaterfall(trace.traceId, trace.spans)}${trace.complete ? '' : '(no root span arrived)\n'}\n`),
  });
} catch (error) {
  console.error(`OTLP receiver not started: ${error instanceof Error ? error.message : String(error)} (set OTLP_RECEIVER_PORT to a free port, 0 picks one)`);
}

// For tools and tests that attach to a running stack: beside the platform's stack.json (DATA_DIR, else .data), made if
// missing (with DATA_DIR set and no .data, writing .data/monitoring.json died with ENOENT after everything had started).
const stateFile = path.join(platformDataDir(), 'monitoring.json');
await mkdir(path.dirname(stateFile), { recursive: true });
await writeFile(
  stateFile,
  JSON.stringify(
    {
      pid: process.pid,
      overlay: args.has('--test-overlay'),
      prometheusUrl: stack.prometheusUrl,
      alertmanagerUrl: stack.alertmanagerUrl,
      postgresExporterUrl: stack.postgresExporterUrl ?? null,
      webhookUrl: stack.webhookUrl,
      otlpReceiverUrl: receiver?.url ?? null,
      dataDir: stack.dataDir,
    },
    null,
    2,
  ),
);

console.log(`Prometheus:        ${stack.prometheusUrl}`);
console.log(`Alertmanager:      ${stack.alertmanagerUrl}`);
console.log(`postgres_exporter: ${stack.postgresExporterUrl ?? 'not started'}`);
console.log(`Alert webhook:     ${stack.webhookUrl}${stack.webhook ? ' (built-in receiver, GET it to list alerts)' : ''}`);
console.log(`OTLP receiver:     ${receiver ? `${receiver.url} (traces as waterfalls in ${tracesLog})` : 'not started'}`);
if (receiver) console.log(tracingAdvice(receiver.url));
console.log(`Data and logs:     ${stack.dataDir}`);
if (args.has('--test-overlay')) console.log('Test overlay: alert `for` and rule windows are compressed 30x. Not for production.');
console.log('Ctrl-C to stop.');

let stopping = false;
const shutdown = async (code) => {
  if (stopping) return;
  stopping = true;
  console.log('stopping monitoring stack...');
  await receiver?.close();
  await stack.stop();
  process.exit(code);
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void shutdown(0));
// `kill <npm's pid>` ends only npm's `sh -c`: without this, Prometheus, Alertmanager and the exporter kept running.
onParentGone(() => void shutdown(0));
stack.crashed.then((message) => {
  console.error(`monitoring: ${message}`);
  void shutdown(1);
});
