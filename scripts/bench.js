// `npm run bench`: starts the platform (scripts/stack.js) and measures it with autocannon on loopback.
// Every run is bounded in time (BENCH_SECONDS per scenario) or in count (the race). Prints one table.
// BENCH_TRACING=1 then starts a second platform with tracing on (the preload, 100% sampling, exporting
// to a local OTLP receiver) and runs the order scenarios on both in turn (compareTracing).
// BENCH_CHECKOUT=<dir> measures another checkout's platform (its scripts/stack.js) with the scenarios and method
// of this script, so two versions are compared by one method (scripts/bench-compare.js does).
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { root } from './stack.js';
import { json, median, seedShop } from './bench-kit.js';
import { startTraceReceiver } from './trace-receiver.js';

const checkout = resolve(process.env.BENCH_CHECKOUT ?? root);
const { peakRssMiB, startStack } = await import(pathToFileURL(join(checkout, 'scripts', 'stack.js')).href);

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const logLevel = process.env.BENCH_LOG_LEVEL ?? 'warn';

function run(opts) {
  return new Promise((resolve, reject) => {
    const inst = autocannon({ connections, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
    autocannon.track(inst, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
  });
}

// The set-up registers and logs in 20 customers at once from 127.0.0.1: above the user service's default budgets.
const budgets = { REGISTER_MAX_PER_ADDRESS: '1000', LOGIN_MAX_PER_ADDRESS: '1000', TOKEN_MAX_PER_ADDRESS: '1000' };
// Tracing stays off in the main run whatever the shell exports; BENCH_TRACING=1 measures it on, below.
const untraced = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_')));
const env = { ...budgets, ...untraced, LOG_LEVEL: logLevel, DATA_DIR: process.env.DATA_DIR ?? '.data/bench' };

function startPlatform(extraEnv = {}) {
  return startStack({
    env: { ...env, ...extraEnv },
    // Free ports: the bench runs next to `npm start` and never measures a server it did not start.
    freePorts: true,
    serviceEnv: { product: { DB_POOL_MAX: '20' }, order: {
        DB_POOL_MAX: '20',
        PRODUCT_CONNECTIONS: '64',
        // 20 customers placing thousands of orders a minute: far over a real shop's per-customer limit, which is
        // off here (0) unless set (docs/configuration.md; with it on, each customer's orders queue on its counter row).
        MAX_UNITS_PER_CUSTOMER_PER_HOUR: process.env.MAX_UNITS_PER_CUSTOMER_PER_HOUR ?? '0',
      },
    },
    onCrash: (name, code, signal) => {
      console.error(`the ${name} service died during the benchmark (code ${code}, signal ${signal})`);
      process.exit(1);
    },
  });
}

const rows = [];
console.log(`starting the platform${checkout === root ? '' : ` of ${checkout}`} (request logs at ${logLevel}; ${env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PostgreSQL'})...`);
const stack = await startPlatform();
/** With BENCH_TRACING=1 the platform stays up for the tracing comparison below, with its seed. */
let keptForTracing = null;
try {
  const { urls } = stack;
  const seeded = await seedShop(stack);
  const { readById, orderRequest, randomItems, hotItem } = seeded;

  // Not measured: a fresh process compiles its hot paths in its first seconds, and the first burst at full
  // concurrency opens the pools (PostgreSQL connections with their SCRAM log-in, keep-alive connections to the
  // product service). Without this the first scenario of each kind measured start-up, not throughput.
  const warmup = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
  if (warmup > 0) {
    process.stdout.write(`  warm-up (${warmup} s per path, not measured) ... `);
    for (const url of [urls.product, urls.gateway]) await run({ url, duration: warmup, requests: readById() });
    for (const url of [urls.order, urls.gateway]) await run({ url, duration: warmup, requests: [orderRequest(randomItems)] });
    console.log('done');
  }

  const scenarios = [
    ['product read by id (direct)', { url: urls.product, duration: seconds, requests: readById() }],
    ['product read by id (gateway)', { url: urls.gateway, duration: seconds, requests: readById() }],
    ['product list page, 20 items (direct)', { url: `${urls.product}/product?limit=20`, duration: seconds }],
    ['order placement, 1-3 items (direct)', { url: urls.order, duration: seconds, requests: [orderRequest(randomItems)] }],
    ['order placement, 1-3 items (gateway)', { url: urls.gateway, duration: seconds, requests: [orderRequest(randomItems)] }],
    // The same load at lower concurrency: latency is throughput-bound (Little's law), so this shows p99 when not queueing.
    ['order placement, 1-3 items (direct, 16 connections)', { url: urls.order, duration: seconds, connections: 16, requests: [orderRequest(randomItems)] }],
  ];
  // BENCH_ONLY=read,order runs the scenarios whose names contain one of the words (for profiling).
  const only = process.env.BENCH_ONLY?.split(',');
  for (const [name, opts] of scenarios) {
    if (only && !only.some((w) => name.includes(w))) continue;
    process.stdout.write(`  ${name} ... `);
    const r = await run(opts);
    rows.push({ name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx + r.timeouts, total: r.requests.total });
    console.log(`${Math.round(r.requests.average)} req/s`);
  }

  // Hot item: many more orders than units, all at once; afterwards the stock must be exactly 0.
  const units = 500;
  const attempts = 3000;
  const hot = await hotItem(units);
  process.stdout.write('  hot-item race ... ');
  const statuses = {};
  const race = await run({
    url: urls.order,
    amount: attempts,
    requests: [orderRequest(() => [{ productId: hot, quantity: 1 }])],
    setupClient: (client) => client.on('response', (status) => (statuses[status] = (statuses[status] ?? 0) + 1)),
  });
  const finalStock = (await json(`${urls.product}/product/${hot}`, 'GET')).stock;
  const raceErrors = race.errors + race.timeouts + Object.entries(statuses).filter(([s]) => s !== '201' && s !== '409').reduce((a, [, c]) => a + c, 0);
  rows.push({ name: `hot-item race (${attempts} orders, ${units} units)`, rps: race.requests.average, p50: race.latency.p50, p99: race.latency.p99, errors: raceErrors, total: attempts });
  console.log(`201=${statuses[201] ?? 0} 409=${statuses[409] ?? 0} final stock=${finalStock}`);

  const rss = Object.fromEntries([...stack.children.entries()].map(([name, child]) => [name, peakRssMiB(child.pid)]));
  const row = (prefix) => rows.find((r) => r.name.startsWith(prefix));
  const read = row('product read by id (direct)');
  const readGw = row('product read by id (gateway)');
  const order = row('order placement, 1-3 items (direct)');
  const order16 = row('order placement, 1-3 items (direct, 16 connections)');
  console.log(`\nBenchmark (${seconds} s per scenario, ${connections} connections, loopback, 2 cores shared by PostgreSQL, services, gateway and autocannon)\n`);
  console.log('| scenario | req/s | p50 ms | p99 ms | errors |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} |`);
  console.log(`\npeak RSS (MiB): ${Object.entries(rss).map(([k, v]) => `${k} ${v?.toFixed(0)}`).join(', ')}`);
  if (read && readGw) console.log(`gateway keeps ${((readGw.rps / read.rps) * 100).toFixed(0)}% of direct product-read throughput`);
  console.log(`hot item: confirmed ${statuses[201] ?? 0} of ${attempts} for ${units} units, rejected ${statuses[409] ?? 0}, final stock ${finalStock}`);
  const targets = [
    ['product read >= 8000 req/s direct', read && read.rps >= 8000],
    ['product read p99 <= 25 ms', read && read.p99 <= 25],
    ['order placement >= 1000 orders/s (16 connections)', order16 && order16.rps >= 1000],
    ['order placement p99 <= 60 ms (16 connections)', order16 && order16.p99 <= 60],
    ['order placement >= 1000 orders/s (50 connections)', order && order.rps >= 1000],
    ['order placement p99 <= 60 ms (50 connections)', order && order.p99 <= 60],
    ['order placement without errors', order && order16 && order.errors + order16.errors === 0],
    ['gateway >= 70% of direct', read && readGw && readGw.rps / read.rps >= 0.7],
    // 150 MB = 143 MiB
    ['every service < 150 MB RSS', Object.values(rss).every((v) => v !== null && v * 1.048576 < 150)],
    ['hot item: confirmed == units and stock 0', statuses[201] === units && finalStock === 0],
  ].filter(([, ok]) => ok !== undefined);
  console.log('\ntargets:');
  for (const [t, ok] of targets) console.log(`  ${ok ? 'met   ' : 'MISSED'} ${t}`);
  if (process.env.BENCH_TRACING === '1') keptForTracing = { stack, seed: seeded };
} finally {
  if (!keptForTracing) await stack.stop();
}

if (keptForTracing) {
  try {
    await compareTracing(keptForTracing);
  } finally {
    await keptForTracing.stack.stop();
  }
}

/**
 * Tracing off against on, interleaved: the platform above (untraced, still running) and a second one whose services
 * trace every request (always_on) to a local receiver take turns, off, on, off, on... BENCH_TRACING_ROUNDS (3)
 * times per order scenario, so a slow minute of the machine falls on both. Prints the medians and the median
 * of the paired changes (each "on" run against the "off" run just before it).
 */
async function compareTracing(off) {
  const rounds = Number(process.env.BENCH_TRACING_ROUNDS ?? 3);
  const receiver = await startTraceReceiver(root);
  console.log(`\ntracing on: starting a second platform, exporting every trace to ${receiver.url}; ${rounds} interleaved rounds...`);
  // Its own data folder: its own embedded PostgreSQL beside the first platform's.
  const on = await startPlatform({ DATA_DIR: `${env.DATA_DIR}-traced`, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: 'always_on', OTEL_BSP_SCHEDULE_DELAY: '1000' }).catch(async (err) => {
    await receiver.stop();
    throw err;
  });
  const results = [];
  let tracedRss;
  try {
    const onSeed = await seedShop(on);
    const sides = { off: { urls: off.stack.urls, ...off.seed }, on: { urls: on.urls, ...onSeed } };
    // The first platform is warm (JIT, pools, PostgreSQL's caches) from the runs above; the second one is not yet.
    const warmup = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
    for (const service of ['order', 'gateway']) await run({ url: on.urls[service], duration: warmup, requests: [onSeed.orderRequest(onSeed.randomItems)] });
    for (const [name, service] of [['order placement, 1-3 items (direct)', 'order'], ['order placement, 1-3 items (gateway)', 'gateway']]) {
      const runs = { off: [], on: [] };
      for (let i = 0; i < rounds; i++) {
        for (const side of ['off', 'on']) {
          const { urls, orderRequest, randomItems } = sides[side];
          const r = await run({ url: urls[service], duration: seconds, requests: [orderRequest(randomItems)] });
          runs[side].push({ rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx + r.timeouts });
        }
        console.log(`  ${name}, round ${i + 1}: off ${Math.round(runs.off[i].rps)}, on ${Math.round(runs.on[i].rps)} orders/s`);
      }
      results.push({ name, ...runs });
    }
    tracedRss = Object.fromEntries([...on.children.entries()].map(([name, child]) => [name, peakRssMiB(child.pid)]));
  } finally {
    await on.stop();
  }
  const stats = await receiver.stop();
  const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  console.log(`\nTracing cost (${seconds} s per run, ${rounds} interleaved rounds, ${connections} connections, 100% sampling, OTLP http/protobuf to a local receiver)\n`);
  console.log('| scenario | off orders/s (median, min-max) | on orders/s (median, min-max) | change of medians | median paired change | off p99 ms | on p99 ms | on errors |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const { name, off: o, on: t } of results) {
    const rps = (rs) => rs.map((r) => r.rps);
    const cell = (rs) => `${Math.round(median(rps(rs)))} (${Math.round(Math.min(...rps(rs)))}-${Math.round(Math.max(...rps(rs)))})`;
    const paired = median(t.map((r, i) => r.rps / o[i].rps - 1));
    const errors = t.reduce((n, r) => n + r.errors, 0);
    console.log(`| ${name} | ${cell(o)} | ${cell(t)} | ${pct(median(rps(t)) / median(rps(o)) - 1)} | ${pct(paired)} | ${median(o.map((r) => r.p99))} | ${median(t.map((r) => r.p99))} | ${errors} |`);
  }
  console.log(`\nreceiver: ${stats.spans} spans in ${stats.requests.protobuf} exports, ${stats.traces} traces`);
  console.log(`peak RSS with tracing (MiB): ${Object.entries(tracedRss).map(([k, v]) => `${k} ${v?.toFixed(0)}`).join(', ')}`);
}
