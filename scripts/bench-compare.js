// `node scripts/bench-compare.js <checkout A> <checkout B>`: runs each checkout's own `scripts/bench.js`
// alternately, A B, B A, ... (COMPARE_ROUNDS rounds, default 3), each run on fresh free ports and a fresh data
// folder, and prints per scenario the median and min-max req/s of each side and the change of B's median
// against A's. Alternating spreads a machine's slow minutes over both sides; the min-max says how much one
// run can be trusted. BENCH_ONLY, BENCH_SECONDS, BENCH_CONNECTIONS... are passed to every run. Both sides are
// measured by B's bench.js (BENCH_CHECKOUT: same scenarios, warm-up and method) unless COMPARE_OWN_SCRIPTS=1.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freshDataDir, median, platformPortsEnv } from './bench-kit.js';

const [a, b] = process.argv.slice(2).map((p) => resolve(p));
if (!a || !b) {
  console.error('usage: node scripts/bench-compare.js <checkout A (before)> <checkout B (after)>   (COMPARE_ROUNDS=3)');
  process.exit(2);
}
for (const dir of [a, b]) if (!existsSync(join(dir, 'scripts', 'bench.js'))) throw new Error(`${dir} has no scripts/bench.js`);
const rounds = Number(process.env.COMPARE_ROUNDS ?? 3);
const oneMethod = process.env.COMPARE_OWN_SCRIPTS !== '1' && readFileSync(join(b, 'scripts', 'bench.js'), 'utf8').includes('BENCH_CHECKOUT');

/** One `npm run bench` of a checkout; resolves to { scenario: { rps, p99, errors } } from its result table. */
async function bench(dir, label) {
  const dataDir = freshDataDir('bench-compare-');
  // Older checkouts listen on fixed ports unless told otherwise: free ones for every run.
  const ports = await platformPortsEnv(dir);
  // One method for both sides: B's bench.js measures each checkout's platform (BENCH_CHECKOUT), unless
  // COMPARE_OWN_SCRIPTS=1 or B's script cannot; then each checkout runs its own bench.js.
  const script = oneMethod ? join(b, 'scripts', 'bench.js') : join(dir, 'scripts', 'bench.js');
  const child = spawn(process.execPath, [script], { cwd: dir, env: { ...process.env, ...ports, DATA_DIR: dataDir, ...(oneMethod ? { BENCH_CHECKOUT: dir } : {}) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    process.stdout.write(`  [${label}] ${String(d).replace(/\n(?=.)/g, `\n  [${label}] `)}`);
  });
  const code = await new Promise((r) => child.on('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`${label}: bench.js exited with ${code}`);
  const rows = {};
  for (const m of out.matchAll(/^\| ([^|]+?) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$/gm)) rows[m[1]] = { rps: Number(m[2]), p99: Number(m[4]), errors: Number(m[5]) };
  return rows;
}

const runs = { A: [], B: [] };
for (let i = 1; i <= rounds; i++) {
  // A B, then B A, ...: neither side always runs first in its round (a machine warming up or slowing down).
  const order = i % 2 ? [['A', a], ['B', b]] : [['B', b], ['A', a]];
  for (const [side, dir] of order) {
    console.log(`round ${i}/${rounds}: ${side} = ${dir}`);
    runs[side].push(await bench(dir, `${side}${i}`));
  }
}

const scenarios = [...new Set([...runs.A, ...runs.B].flatMap((r) => Object.keys(r)))];
console.log(`\nA = ${a}\nB = ${b}\n${oneMethod ? "both measured by B's scripts/bench.js" : 'each measured by its own scripts/bench.js'}; ${rounds} rounds (A B, B A, ...); req/s per scenario; paired: the median of B/A within each round\n`);
console.log('| scenario | A median | A min-max | B median | B min-max | B vs A (medians) | B vs A (paired) | errors A/B |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
let slower = 0;
for (const name of scenarios) {
  const side = (s) => runs[s].map((r) => r[name]).filter(Boolean);
  const [ra, rb] = [side('A'), side('B')];
  if (!ra.length || !rb.length) continue;
  const [ma, mb] = [median(ra.map((r) => r.rps)), median(rb.map((r) => r.rps))];
  const change = ((mb - ma) / ma) * 100;
  const pairs = runs.A.map((r, i) => [r[name], runs.B[i]?.[name]]).filter(([x, y]) => x && y);
  const paired = (median(pairs.map(([x, y]) => y.rps / x.rps)) - 1) * 100;
  if (paired < -5) slower++;
  const pct = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;
  const range = (rs) => `${Math.min(...rs.map((r) => r.rps))}-${Math.max(...rs.map((r) => r.rps))}`;
  const errors = (rs) => rs.reduce((n, r) => n + r.errors, 0);
  console.log(`| ${name} | ${Math.round(ma)} | ${range(ra)} | ${Math.round(mb)} | ${range(rb)} | ${pct(change)} | ${pct(paired)} | ${errors(ra)}/${errors(rb)} |`);
}
console.log(`\n${slower ? `${slower} scenario(s) more than 5% slower in B` : 'no scenario more than 5% slower in B'} (paired medians; compare with the min-max spread before concluding)`);
