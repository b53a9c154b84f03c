// After `vite build`: writes .br and .gz beside every text file (the gateway serves them precompressed),
// prints the JavaScript a first visit downloads (the entry module and what index.html preloads), gzip-compressed,
// and fails the build when it is 100 KB or more (the budget in docs/web.md).
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dir = process.argv[2] ?? join(import.meta.dirname, '..', 'dist', 'app');
function compressAll(d) {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) compressAll(p);
    else if (/\.(js|css|html|svg|json|txt)$/.test(name)) {
      const body = readFileSync(p);
      writeFileSync(`${p}.gz`, gzipSync(body, { level: 9 }));
      writeFileSync(`${p}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    }
  }
}
compressAll(dir);
const html = readFileSync(join(dir, 'index.html'), 'utf8');
const initial = [...html.matchAll(/<(?:script[^>]*src|link[^>]*rel="modulepreload"[^>]*href)="\/([^"]+\.js)"/g)].map((m) => m[1]);
const gz = (file) => gzipSync(readFileSync(join(dir, file)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const initialBytes = initial.reduce((n, f) => n + gz(f), 0);
const all = readdirSync(join(dir, 'assets')).filter((f) => f.endsWith('.js'));
const css = readdirSync(join(dir, 'assets')).filter((f) => f.endsWith('.css'));
console.log(`web: initial JavaScript ${kb(initialBytes)} gzip (${initial.join(', ')}); all JS ${kb(all.reduce((n, f) => n + gz(join('assets', f)), 0))} in ${all.length} files; CSS ${kb(css.reduce((n, f) => n + gz(join('assets', f)), 0))}`);
const BUDGET = 100 * 1024;
if (initialBytes >= BUDGET) {
  console.error(`web: initial JavaScript ${kb(initialBytes)} gzip is over the ${kb(BUDGET)} budget`);
  process.exit(1);
}
