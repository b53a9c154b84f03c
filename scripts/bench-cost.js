// `node scripts/bench-cost.js [checkout]`: what one order COSTS, not how many per second a shared machine
// manages. Starts the platform of `checkout` (default: this one) with its own stack.js on free ports and a
// fresh embedded PostgreSQL, runs the order scenarios of bench.js, and per scenario reads the CPU time each
// process used (/proc), PostgreSQL's backends split by service (application_name), the statements each
// service sent (pg_stat_statements, top level: one per round trip), commits and WAL.
// `node scripts/bench-cost.js <A> <B>`: both checkouts side by side, COST_ROUNDS (3) times, each pair starting
// its scenarios at the same instant, then the medians of A and B. Statement counts are exact; CPU per order
// moves with the machine's load (caches, batching), so the pair runs at one fixed rate and shares the load.
// Settings: BENCH_SECONDS (8), BENCH_ONLY=direct,gateway,16,hot,list,read (names containing a word; the reads only when named), BENCH_CONNECTIONS,
// BENCH_RATE (orders/s offered, all connections together; default: as fast as it goes, 60 side by side),
// BENCH_IDLE_SECONDS (4: idle CPU, subtracted), BENCH_WARMUP_SECONDS (4 each direct and via the gateway, not measured),
// BENCH_COST_JSON=file (results as JSON), BENCH_CPU_PROF=dir (--cpu-prof of every service into dir),
// BENCH_TRACING=1 (every request traced, always_on, to the checkout's local OTLP receiver, whose CPU counts too;
// or a sampler's name, e.g. always_off: the SDK and its context manager with nothing recorded; OTEL_BSP_* pass on),
// BENCH_NODE_ARGS (V8 flags for every service), BENCH_PERF=dir (perf record of the machine per scenario, see
// startPerf), BENCH_KEEP_DATA=1 (keep the data folder and the services' logs).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { startTraceReceiver } from './trace-receiver.js';
import { freePort, median, seedShop, serviceNodeArgs } from './bench-kit.js';

if (process.argv.length > 3) {
  await sideBySide(resolve(process.argv[2]), resolve(process.argv[3]));
  process.exit(0);
}
const checkout = resolve(process.argv[2] ?? join(import.meta.dirname, '..'));
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const only = process.env.BENCH_ONLY?.split(',');
// A fixed offered load (orders/s, all connections together): both checkouts then run at the same throughput,
// so per-order CPU is compared at equal batching instead of at whatever rate the machine allowed that minute.
const rate = process.env.BENCH_RATE ? { overallRate: Number(process.env.BENCH_RATE) } : {};
const profileDir = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : null;
/**
 * BENCH_PERF=dir: `perf record` of the whole machine (CPU samples: only running threads, the kernel and V8's
 * helper threads included, unlike --cpu-prof) during each measured scenario, into dir/<scenario>.data. With
 * BENCH_NODE_ARGS=--perf-basic-prof the services' JIT frames get names (perf report reads /tmp/perf-<pid>.map).
 */
function startPerf(name) {
  if (!process.env.BENCH_PERF) return null;
  mkdirSync(process.env.BENCH_PERF, { recursive: true });
  const file = join(process.env.BENCH_PERF, `${name.replace(/[^a-z0-9]+/gi, '-')}.data`);
  const child = spawn('perf', ['record', '-a', '-g', '-F', '499', '-o', file], { stdio: 'ignore' });
  // No perf installed (Debian: linux-perf): the scenario is measured without it.
  child.once('error', (err) => console.error(`BENCH_PERF: perf did not start (${err.message})`));
  const gone = () => !child.pid || child.exitCode !== null || child.signalCode !== null;
  return { stop: () => new Promise((ok) => { if (gone()) return ok(); child.once('exit', ok); child.kill('SIGINT'); }) };
}
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** Every process: pid -> { comm, ppid, cpu (utime+stime), reaped (cutime+cstime) } in ms. */
function processTable() {
  const table = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const close = stat.lastIndexOf(')');
    const f = stat.slice(close + 2).split(' '); // f[0] is field 3 (state)
    table.set(Number(name), {
      comm: stat.slice(stat.indexOf('(') + 1, close),
      ppid: Number(f[1]),
      cpu: (Number(f[11]) + Number(f[12])) * TICK_MS,
      reaped: (Number(f[13]) + Number(f[14])) * TICK_MS,
    });
  }
  return table;
}

const dataDir = mkdtempSync(join(tmpdir(), 'bench-cost-'));
chmodSync(dataDir, 0o755); // run as root, PostgreSQL runs as `postgres` and must reach its folder
const ports = {
  USER_PORT: await freePort(),
  PRODUCT_PORT: await freePort(),
  ORDER_PORT: await freePort(),
  GATEWAY_PORT: await freePort(),
  GATEWAY_METRICS_PORT: await freePort(),
  EMBEDDED_PG_PORT: await freePort(),
};
const profileTmp = profileDir ? mkdtempSync(join(tmpdir(), 'bench-cost-prof-')) : null;
const env = {
  // As bench.js: set-up logins above the user service's default budgets; no hourly limit.
  REGISTER_MAX_PER_ADDRESS: '1000',
  LOGIN_MAX_PER_ADDRESS: '1000',
  TOKEN_MAX_PER_ADDRESS: '1000',
  ...process.env,
  ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
  DATA_DIR: dataDir,
};
delete env.DATABASE_URL; // always a private embedded server: pg_stat_statements and its CPU are ours alone
for (const name of Object.keys(env)) if (name.startsWith('OTEL_')) delete env[name];
// BENCH_TRACING=1 samples every request; a sampler name (always_off, traceidratio...) measures that one.
const tracing = process.env.BENCH_TRACING && process.env.BENCH_TRACING !== '0' ? process.env.BENCH_TRACING : null;
const receiver = tracing ? await startTraceReceiver(checkout) : null;
if (receiver) {
  Object.assign(env, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: tracing === '1' ? 'always_on' : tracing });
  // Passed on: the sampler's argument, which instrumentations load (to split the cost between them), the batching.
  for (const name of ['OTEL_TRACES_SAMPLER_ARG', 'OTEL_NODE_ENABLED_INSTRUMENTATIONS', 'OTEL_NODE_DISABLED_INSTRUMENTATIONS']) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_BSP_')) env[name] = process.env[name];
}

const { startStack } = await import(pathToFileURL(join(checkout, 'scripts', 'stack.js')).href);
console.log(`checkout ${checkout} (${execFileSync('git', ['-C', checkout, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}), ${seconds} s per scenario${receiver ? `, tracing on (${env.OTEL_TRACES_SAMPLER})` : ''}`);
let stack;
stack = await startStack({
  env,
  // Node refuses --cpu-prof in NODE_OPTIONS; every stack.js passes nodeArgs to its children.
  // BENCH_NODE_ARGS='--max-semi-space-size=16': more V8 flags for every service (after the stack's own, so they win).
  nodeArgs: serviceNodeArgs(process.env.BENCH_NODE_ARGS, profileTmp ? ['--cpu-prof', `--cpu-prof-dir=${profileTmp}`] : []),
  serviceEnv: { product: { DB_POOL_MAX: '20' }, order: { DB_POOL_MAX: '20', PRODUCT_CONNECTIONS: '64', MAX_UNITS_PER_CUSTOMER_PER_HOUR: '0' } },
  onCrash: (name, code, signal) => {
    console.error(`the ${name} service died (code ${code}, signal ${signal}); its log is in ${dataDir}/logs`);
    stack?.stop().finally(() => process.exit(1));
  },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => stack.stop().finally(() => process.exit(130)));
const admin = new pg.Client({ connectionString: stack.adminUrl, application_name: 'bench-cost' });
admin.on('error', () => undefined); // the server stopping under us ends the run through onCrash or stop
const results = [];
try {
  await admin.connect();
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const services = Object.fromEntries([...stack.children.entries()].map(([name, child]) => [name, child.pid]));
  if (receiver) services.receiver = receiver.pid;
  const postmaster = [...processTable()].find(([, p]) => p.ppid === process.pid && p.comm === 'postgres')?.[0];
  if (!postmaster) throw new Error('no embedded postgres child found');

  async function snapshot() {
    const procs = processTable();
    const apps = new Map((await admin.query('SELECT pid, application_name FROM pg_stat_activity')).rows.map((r) => [r.pid, r.application_name]));
    const backends = [...procs].filter(([, p]) => p.ppid === postmaster);
    const pm = procs.get(postmaster);
    const db = (await admin.query('SELECT xact_commit::float8 AS commits, xact_rollback::float8 AS rollbacks FROM pg_stat_database WHERE datname = current_database()')).rows[0];
    const wal = (await admin.query('SELECT wal_records::float8 AS records, wal_bytes::float8 AS bytes, wal_sync::float8 AS syncs FROM pg_stat_wal')).rows[0];
    return {
      services: Object.fromEntries(Object.entries(services).map(([n, pid]) => [n, procs.get(pid)?.cpu ?? 0])),
      postgres: pm.cpu + pm.reaped + backends.reduce((s, [, p]) => s + p.cpu, 0),
      backends: new Map(backends.map(([pid, p]) => [pid, { cpu: p.cpu, app: apps.get(pid) ?? '' }])),
      self: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
      db,
      wal,
    };
  }

  const { urls } = stack;
  const { readById, orderRequest, randomItems, hotItem } = await seedShop(stack);

  // Unmeasured: the first seconds of a fresh process are JIT compilation, and the first burst at full
  // concurrency opens the pools (HTTP to product, PostgreSQL with its SCRAM log-in): not the cost of an order.
  const warmup = Number(process.env.BENCH_WARMUP_SECONDS ?? 4);
  for (const url of [urls.order, urls.gateway]) {
    await new Promise((ok, fail) => autocannon({ url, connections, duration: warmup, requests: [orderRequest(randomItems)] }, (err, res) => (err ? fail(err) : ok(res))));
  }

  // Background work (timers, the reconciler, the stats refresh) is not per order: measured idle, subtracted below.
  const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 4);
  await new Promise((r) => setTimeout(r, 1000));
  const idleBefore = await snapshot();
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const idleAfter = await snapshot();
  const idle = Object.fromEntries(Object.keys(services).map((s) => [s, (idleAfter.services[s] - idleBefore.services[s]) / idleSeconds]));
  idle.postgres = (idleAfter.postgres - idleBefore.postgres) / idleSeconds;
  console.log(`idle CPU ms/s: ${Object.entries(idle).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);

  // BENCH_START_AT (Unix ms): two checkouts started side by side begin their scenarios at the same instant and
  // so share the machine's conditions (a paired comparison); their set-up times differ.
  const startAt = Number(process.env.BENCH_START_AT ?? 0);
  if (startAt > Date.now()) await new Promise((r) => setTimeout(r, startAt - Date.now()));
  else if (startAt) console.log(`BENCH_START_AT passed ${Date.now() - startAt} ms before the set-up ended: not paired`);

  // The order scenarios of bench.js, same names.
  const scenarios = [
    ['order placement, 1-3 items (direct)', () => ({ url: urls.order, duration: seconds, ...rate, requests: [orderRequest(randomItems)] })],
    ['order placement, 1-3 items (gateway)', () => ({ url: urls.gateway, duration: seconds, ...rate, requests: [orderRequest(randomItems)] })],
    ['order placement, 1-3 items (direct, 16 connections)', () => ({ url: urls.order, duration: seconds, connections: 16, ...rate, requests: [orderRequest(randomItems)] })],
    ['hot-item race (3000 orders, 500 units)', async () => {
      const id = await hotItem(500);
      return { url: urls.order, amount: 3000, ...rate, requests: [orderRequest(() => [{ productId: id, quantity: 1 }])] };
    }],
  ];
  // The catalog reads of bench.js too, but only when BENCH_ONLY names them (`list`, `read`): "per order" is then per request.
  const reads = [
    ['product list page, 20 items (direct)', () => ({ url: `${urls.product}/product?limit=20`, duration: seconds, ...rate })],
    ['product read by id (direct)', () => ({ url: urls.product, duration: seconds, ...rate, requests: readById() })],
  ];
  for (const [name, options] of [...scenarios, ...reads.filter(([name]) => only?.some((w) => name.includes(w)))]) {
    if (only && !only.some((w) => name.includes(w))) continue;
    const opts = await options();
    const statuses = {};
    await admin.query('SELECT pg_stat_statements_reset()');
    const before = await snapshot();
    const perf = startPerf(name);
    const started = performance.now();
    const r = await new Promise((ok, fail) => {
      const inst = autocannon({ connections, ...opts, setupClient: (c) => c.on('response', (s) => (statuses[s] = (statuses[s] ?? 0) + 1)) }, (err, res) => (err ? fail(err) : ok(res)));
      autocannon.track(inst, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
    });
    const elapsed = (performance.now() - started) / 1000;
    await perf?.stop();
    const after = await snapshot();
    const statements = (
      await admin.query(
        `SELECT r.rolname AS role, s.query, s.calls::float8 AS calls, s.total_exec_time AS ms FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
         WHERE r.rolname LIKE 'ecommerce_%' ORDER BY s.calls DESC`,
      )
    ).rows;
    const orders = Object.values(statuses).reduce((a, b) => a + b, 0);
    const per = (x) => x / orders;
    const cpu = Object.fromEntries(Object.keys(services).map((s) => [s, per(after.services[s] - before.services[s] - idle[s] * elapsed)]));
    cpu.postgres = per(after.postgres - before.postgres - idle.postgres * elapsed);
    const pgBy = {};
    for (const [pid, b] of after.backends) {
      const a = before.backends.get(pid);
      const key = (a?.app || b.app || 'other').replace(/-service$/, '');
      pgBy[key] = (pgBy[key] ?? 0) + per(b.cpu - (a?.cpu ?? 0));
    }
    cpu.driver = per(after.self - before.self);
    const byRole = {};
    for (const s of statements) byRole[s.role.replace('ecommerce_', '')] = (byRole[s.role.replace('ecommerce_', '')] ?? 0) + per(s.calls);
    const result = {
      name,
      idleCpuMsPerSecond: idle,
      orders,
      rps: orders / elapsed,
      statuses,
      errors: r.errors + r.timeouts,
      cpuMsPerOrder: cpu,
      postgresMsPerOrderBySession: pgBy,
      statementsPerOrder: byRole,
      commitsPerOrder: per(after.db.commits - before.db.commits),
      rollbacksPerOrder: per(after.db.rollbacks - before.db.rollbacks),
      walBytesPerOrder: per(after.wal.bytes - before.wal.bytes),
      walSyncsPerOrder: per(after.wal.syncs - before.wal.syncs),
      statements: statements.map((s) => ({ role: s.role.replace('ecommerce_', ''), perOrder: per(s.calls), msPerCall: s.ms / s.calls, query: s.query.replace(/\s+/g, ' ').replace(/^SELECT .{60,}? FROM /, 'SELECT ... FROM ').slice(0, 120) })),
    };
    results.push(result);
    const f = (x) => x.toFixed(3);
    console.log(`\n${name}: ${orders} orders in ${elapsed.toFixed(1)} s (${Math.round(result.rps)}/s), statuses ${JSON.stringify(statuses)}, errors ${result.errors}`);
    console.log(`  CPU ms/order: ${Object.entries(cpu).map(([k, v]) => `${k} ${f(v)}`).join(', ')}`);
    console.log(`  postgres CPU ms/order by session: ${Object.entries(pgBy).map(([k, v]) => `${k} ${f(v)}`).join(', ')}`);
    console.log(`  statements/order: ${Object.entries(byRole).map(([k, v]) => `${k} ${f(v)}`).join(', ')}; commits ${f(result.commitsPerOrder)}, rollbacks ${f(result.rollbacksPerOrder)}, WAL ${Math.round(result.walBytesPerOrder)} B, WAL syncs ${f(result.walSyncsPerOrder)}`);
    for (const s of result.statements.filter((x) => x.perOrder >= 0.01)) console.log(`    ${s.role.padEnd(8)} ${f(s.perOrder)}/order ${s.msPerCall.toFixed(3)} ms  ${s.query}`);
  }
} finally {
  await admin.end().catch(() => undefined);
  const pids = Object.fromEntries([...stack.children.entries()].map(([name, child]) => [child.pid, name]));
  await stack.stop();
  if (receiver) console.log(`\nreceiver: ${JSON.stringify(await receiver.stop())}`);
  if (profileTmp) {
    // --cpu-prof names files CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile; keep the services', named.
    mkdirSync(profileDir, { recursive: true });
    for (const file of readdirSync(profileTmp)) {
      const pid = file.split('.')[3];
      if (pids[pid]) copyFileSync(join(profileTmp, file), join(profileDir, `${pids[pid]}.cpuprofile`));
    }
    rmSync(profileTmp, { recursive: true, force: true });
  }
  if (process.env.BENCH_KEEP_DATA) console.log(`data and logs kept in ${dataDir}`);
  else rmSync(dataDir, { recursive: true, force: true });
}
if (process.env.BENCH_COST_JSON) writeFileSync(process.env.BENCH_COST_JSON, JSON.stringify({ checkout, seconds, results }, null, 2));

/** Runs this script for A and B at once, COST_ROUNDS times, and prints per scenario the medians of each side. */
async function sideBySide(a, b) {
  const rounds = Number(process.env.COST_ROUNDS ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'bench-cost-pair-'));
  const runs = { A: [], B: [] };
  for (let i = 1; i <= rounds; i++) {
    // Set-up (initdb, migrations, 50 products, 20 logins, warm-up) takes 30-60 s on a loaded machine.
    const startAt = Date.now() + Number(process.env.COST_SETUP_SECONDS ?? 90) * 1000;
    const one = (side, dirOf) =>
      new Promise((ok, fail) => {
        const file = join(dir, `${side}${i}.json`);
        // COST_ENV_A / COST_ENV_B (JSON objects) add settings to one side only, e.g. '{"BENCH_TRACING":"1"}'.
        const sideEnv = JSON.parse(process.env[`COST_ENV_${side}`] ?? '{}');
        const env = { BENCH_RATE: '60', ...process.env, ...sideEnv, BENCH_START_AT: String(startAt), BENCH_COST_JSON: file };
        const child = spawn(process.execPath, [fileURLToPath(import.meta.url), dirOf], { env, stdio: ['ignore', 'pipe', 'inherit'] });
        child.stdout.on('data', (d) => process.stdout.write(String(d).replace(/^(?=.)/gm, `[${side}${i}] `)));
        child.on('exit', (code) => (code === 0 ? ok(JSON.parse(readFileSync(file, 'utf8'))) : fail(new Error(`${side}${i}: exit ${code}`))));
      });
    const [ra, rb] = await Promise.all([one('A', a), one('B', b)]);
    runs.A.push(ra);
    runs.B.push(rb);
  }
  rmSync(dir, { recursive: true, force: true });
  const cpu = (k) => (r) => r.cpuMsPerOrder[k] ?? 0;
  const metrics = [
    ['orders/s', (r) => r.rps, 0],
    ...['order', 'product', 'gateway', 'user', 'postgres', 'receiver'].map((k) => [`CPU ms/order ${k}`, cpu(k), 3]),
    ['  postgres for order', (r) => r.postgresMsPerOrderBySession.order ?? 0, 3],
    ['  postgres for product', (r) => r.postgresMsPerOrderBySession.product ?? 0, 3],
    ['CPU ms/order, all', (r) => ['order', 'product', 'gateway', 'user', 'postgres', 'receiver'].reduce((n, k) => n + cpu(k)(r), 0), 3],
    ['statements/order order', (r) => r.statementsPerOrder.order ?? 0, 3],
    ['statements/order product', (r) => r.statementsPerOrder.product ?? 0, 3],
    ['commits/order', (r) => r.commitsPerOrder, 3],
    ['WAL bytes/order', (r) => r.walBytesPerOrder, 0],
  ];
  console.log(`\nA = ${a}\nB = ${b}\n${rounds} rounds side by side; median (min-max) per order, idle CPU subtracted`);
  for (const name of runs.A[0].results.map((r) => r.name)) {
    const [ra, rb] = ['A', 'B'].map((s) => runs[s].map((run) => run.results.find((r) => r.name === name)).filter(Boolean));
    console.log(`\n${name}\n| per order | A | B | B vs A |\n|---|---:|---:|---:|`);
    for (const [label, f, digits] of metrics) {
      const cell = (rs) => `${median(rs.map(f)).toFixed(digits)} (${Math.min(...rs.map(f)).toFixed(digits)}-${Math.max(...rs.map(f)).toFixed(digits)})`;
      const [x, y] = [median(ra.map(f)), median(rb.map(f))];
      console.log(`| ${label} | ${cell(ra)} | ${cell(rb)} | ${x ? `${y >= x ? '+' : ''}${(((y - x) / x) * 100).toFixed(0)}%` : ''} |`);
    }
  }
}
