// `node scripts/index-build-time.js <first order migration to time, e.g. 007> [orders, default 2000000]`: how long
// the order migrations that build an index hold writes to `orders` back, on a shop's worth of orders. On
// DATABASE_URL's server (an admin connection) it creates a database of its own (dropped at the end, also on failure),
// applies the order migrations before the first one timed (each file in a transaction, in schema `orders`, as the
// runner does), inserts the orders with generate_series (ids as uuidv7 makes them: in time order, random last digits;
// one line each with a product id, quantity, price and name; one in a thousand in flight, the rest final), VACUUM
// ANALYZE and CHECKPOINT, then runs each later migration file as the runner does (one transaction, lock_timeout 1 s)
// while a second connection updates an order and a third reads one every 20 ms. Prints per migration: its time, the
// longest write and read waits meanwhile, its sorts (trace_sort: who sorted, in memory or through files, how much)
// and the load average; and for an index built IF NOT EXISTS, the same index dropped and built by hand with CREATE
// INDEX CONCURRENTLY (docs/deploy.md, "Rolling updates and migrations"), with the same waits and whether it ended
// valid. The figures in docs/deploy.md come from it; about 2 minutes for 2,000,000 orders on 2 cores.
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const first = process.argv[2] ?? '';
const orders = Number(process.argv[3] ?? 2_000_000);
if (!/^\d{3}$/.test(first) || !Number.isInteger(orders) || orders < 1000) {
  console.error('usage: node scripts/index-build-time.js <first order migration to time, e.g. 007> [orders >= 1000] (DATABASE_URL: an admin connection)');
  process.exit(2);
}
if (!process.env.DATABASE_URL) {
  console.error('DATABASE_URL must name an admin connection to a PostgreSQL server');
  process.exit(2);
}
const dir = fileURLToPath(new URL('../services/order/migrations', import.meta.url));
const files = readdirSync(dir).filter((f) => /^\d{3}_.*\.sql$/.test(f)).sort();
const before = files.filter((f) => f.slice(0, 3) < first);
const timed = files.filter((f) => f.slice(0, 3) >= first);
if (timed.length === 0) {
  console.error(`no order migration from ${first} on (have ${files.join(', ')})`);
  process.exit(2);
}
const log = (...a) => console.log(new Date().toISOString().slice(11, 19), ...a);
const ms = (t) => `${Math.round(t).toLocaleString('en')} ms`;
/** The up part of a migration file (node-pg-migrate's SQL format). */
const upOf = (file) => readFileSync(join(dir, file), 'utf8').split(/^-- Down Migration/m)[0];

const database = `index_build_time_${process.pid}`;
const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
const url = new URL(process.env.DATABASE_URL);
url.pathname = `/${database}`;
const connect = async () => {
  const c = new pg.Client({ connectionString: url.href, options: '-c search_path=orders' });
  await c.connect();
  return c;
};
const clients = [];
try {
  const db = await connect();
  clients.push(db);
  const settings = await db.query(
    `SELECT current_setting('server_version') AS version, current_setting('maintenance_work_mem') AS mem,
            current_setting('max_parallel_maintenance_workers') AS workers`,
  );
  const s = settings.rows[0];
  log(`PostgreSQL ${s.version}, maintenance_work_mem ${s.mem}, max_parallel_maintenance_workers ${s.workers}; ${availableParallelism()} cores`);
  await db.query('CREATE SCHEMA orders');
  for (const file of before) {
    await db.query('BEGIN');
    await db.query(upOf(file));
    await db.query('COMMIT');
  }
  log(`applied ${before.join(', ')}`);

  let t = performance.now();
  // uuidv7: 48 bits of milliseconds (one order a second from Nov 2023), version 7, then random bits (md5 of i).
  await db.query(
    `INSERT INTO orders (id, user_id, status, items, total_cents, currency, idempotency_key, request_hash, deadline_at,
                         lease_until, created_at, updated_at, traceparent)
     SELECT (lpad(to_hex(1700000000000 + i * 1000), 12, '0') || '7' || substr(md5(i::text), 1, 3) || '8' || substr(md5(i::text), 4, 15))::uuid,
       ('00000000-0000-7000-8000-' || lpad(to_hex(1 + i % 50000), 12, '0'))::uuid,
       CASE WHEN i % 1000 = 1 THEN 'pending' WHEN i % 1000 = 2 THEN 'cancelling' WHEN i % 200 = 3 THEN 'failed'
            WHEN i % 50 = 7 THEN 'cancelled' WHEN i % 40 = 9 THEN 'rejected' ELSE 'confirmed' END,
       jsonb_build_array(jsonb_build_object('productId', ('00000000-0000-7000-9000-' || lpad(to_hex(i % 5000), 12, '0'))::uuid,
         'quantity', 1 + i % 3, 'unitPriceCents', 499 + i % 9000, 'name', 'Product ' || (i % 5000))),
       (1 + i % 3) * (499 + i % 9000), 'USD', md5('key' || i), md5('a' || i) || md5('b' || i),
       to_timestamp(1700000030 + i), NULL, to_timestamp(1700000000 + i), to_timestamp(1700000001 + i),
       '00-' || md5('t' || i) || '-' || substr(md5('s' || i), 1, 16) || '-01'
     FROM generate_series(1, $1::int) i`,
    [orders],
  );
  log(`inserted ${orders.toLocaleString('en')} orders in ${ms(performance.now() - t)}`);
  t = performance.now();
  await db.query('VACUUM ANALYZE orders');
  // The load's dirty pages written out first, so the builds timed are not also paying for the insert's I/O.
  await db.query('CHECKPOINT');
  const size = await db.query(`SELECT pg_size_pretty(pg_table_size('orders')) AS heap, pg_size_pretty(pg_indexes_size('orders')) AS indexes`);
  log(`VACUUM ANALYZE, CHECKPOINT in ${ms(performance.now() - t)}; orders: ${size.rows[0].heap} of rows, ${size.rows[0].indexes} of indexes`);

  const ids = (await db.query('SELECT id FROM orders ORDER BY id DESC LIMIT 2')).rows.map((r) => r.id);
  const writer = await connect();
  const reader = await connect();
  clients.push(writer, reader);
  /** Runs `work` while the writer updates ids[0] and the reader reads ids[1] over and over: the longest wait of each. */
  const underTraffic = async (work) => {
    let done = false;
    const loop = async (client, text, id) => {
      let longest = 0;
      let count = 0;
      while (!done) {
        const start = performance.now();
        await client.query(text, [id]);
        longest = Math.max(longest, performance.now() - start);
        count += 1;
        await sleep(20);
      }
      return { longest, count };
    };
    const writes = loop(writer, 'UPDATE orders SET updated_at = now() WHERE id = $1', ids[0]);
    const reads = loop(reader, 'SELECT status FROM orders WHERE id = $1', ids[1]);
    await sleep(100);
    const start = performance.now();
    try {
      await work();
    } finally {
      done = true;
    }
    const took = performance.now() - start;
    return { took, writes: await writes, reads: await reads };
  };
  const say = (what, r) =>
    log(`${what}: ${ms(r.took)}; meanwhile the longest write waited ${ms(r.writes.longest)} (${r.writes.count} writes), the longest read ${ms(r.reads.longest)} (${r.reads.count} reads); load average ${loadavg()[0].toFixed(1)}`);

  for (const file of timed) {
    const sql = upOf(file);
    // As the kit's migrate runs a file: one transaction, lock_timeout 1 s (MIGRATION_LOCK_TIMEOUT_MS).
    const sorts = [];
    // trace_sort: "parallel external sort of worker 0 ended, 108 disk blocks used: ...", "internal sort of worker -1
    // ended, 64 KB used: ..." (worker -1 is the backend itself; a parallel build's sorts always go through temporary files).
    const onNotice = (n) => {
      const m = /^(?:parallel )?(internal|external) sort of worker (-?\d+) ended, (\d+ (?:KB|disk blocks)) used/.exec(n.message ?? '');
      if (m) sorts.push(`${m[2] === '-1' ? 'backend' : `worker ${m[2]}`} ${m[1]}, ${m[3]}`);
    };
    db.on('notice', onNotice);
    const migrated = await underTraffic(async () => {
      await db.query('BEGIN');
      await db.query("SET LOCAL lock_timeout = 1000; SET LOCAL trace_sort = on; SET LOCAL client_min_messages = 'log'");
      await db.query(sql);
      await db.query('COMMIT');
    });
    db.off('notice', onNotice);
    say(`${file} (as migrated, in a transaction; sorts: ${sorts.join(', ') || 'none seen'})`, migrated);
    const index = /CREATE INDEX IF NOT EXISTS (\w+)/.exec(sql)?.[1];
    if (!index) continue;
    await db.query(`DROP INDEX ${index}`);
    const concurrently = sql.replace(/CREATE INDEX IF NOT EXISTS/, 'CREATE INDEX CONCURRENTLY IF NOT EXISTS');
    const r = await underTraffic(() => db.query(concurrently));
    const valid = await db.query(`SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders.${index}'::regclass`);
    say(`${index} by hand, CREATE INDEX CONCURRENTLY (valid: ${valid.rows[0]?.indisvalid})`, r);
  }
} finally {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}
