// @ts-check
// Assembles the minimal runtime tree of one service out of a built monorepo:
// the root package.json, the service and every packages/* workspace (compiled
// JavaScript and runtime assets only), and exactly the node_modules packages
// reachable from their production dependencies in package-lock.json.
//
// Why not `npm ci --omit=dev --workspace ...`: the services import the kit
// through the workspace link without always declaring it, and a plain
// `--omit=dev` install keeps every workspace's dependencies (kubernetes-models,
// the Grafana SDK, ...) in every image. Walking the lockfile gives each image
// only what its own code can load.
//
// Plain JavaScript (checked with @ts-check) because it runs inside the image
// build, before and independently of the TypeScript build of deploy/.
//
//   node deploy/docker/assemble-app.mjs <repo root> <workspace dir> <out dir>
//   e.g. node deploy/docker/assemble-app.mjs /src services/user /out/user
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [root, workspace, out] = process.argv.slice(2);
if (!root || !workspace || !out) {
  console.error('usage: assemble-app.mjs <repo root> <workspace dir> <out dir>');
  process.exit(2);
}

/** @typedef {{ link?: boolean, resolved?: string, dependencies?: Record<string,string>, optionalDependencies?: Record<string,string>, peerDependencies?: Record<string,string>, peerDependenciesMeta?: Record<string,{optional?: boolean}>, dev?: boolean }} LockEntry */
/** @type {{ packages: Record<string, LockEntry> }} */
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const entries = lock.packages;

/** Lock key of the folder that encloses `key` for module resolution ('' = repo root). */
function parentOf(/** @type {string} */ key) {
  const i = key.lastIndexOf('/node_modules/');
  if (i >= 0) return key.slice(0, i);
  return '';
}

/** Node's resolution walk, expressed on lock keys: nearest node_modules/<name> up the tree. */
function resolve(/** @type {string} */ from, /** @type {string} */ name) {
  for (let dir = from; ; dir = parentOf(dir)) {
    const key = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (entries[key] && existsSync(join(root, key))) return key;
    if (dir === '') return undefined;
  }
}

const workspaces = Object.keys(entries).filter((k) => k !== '' && !k.includes('node_modules'));
// Every service loads the kit and the contracts (packages/*), whether or not it declares them; the test
// support is for tests only and stays out of images.
const roots = [workspace, ...workspaces.filter((w) => w.startsWith('packages/') && w !== 'packages/test-support')];
if (!entries[workspace]) {
  console.error(`${workspace} is not a workspace in package-lock.json`);
  process.exit(2);
}

/** @type {Set<string>} */
const keep = new Set();
const queue = [...roots];
while (queue.length > 0) {
  const key = /** @type {string} */ (queue.pop());
  if (keep.has(key)) continue;
  keep.add(key);
  const entry = entries[key] ?? {};
  if (entry.link && entry.resolved) {
    queue.push(entry.resolved);
    continue;
  }
  // Optional peers (e.g. node-pg-migrate's @types/pg) are never loaded at run time.
  const peers = Object.keys(entry.peerDependencies ?? {}).filter((n) => !entry.peerDependenciesMeta?.[n]?.optional);
  const wanted = { ...Object.fromEntries(peers.map((n) => [n, ''])), ...entry.optionalDependencies, ...entry.dependencies };
  for (const name of Object.keys(wanted)) {
    const found = resolve(key, name);
    // Optional and peer dependencies may be absent (other platforms, unused peers).
    if (found) queue.push(found);
    else if (entry.dependencies?.[name]) throw new Error(`${key}: dependency ${name} is not installed`);
  }
}

// The workspace links (node_modules/@ecommerce/kit -> ../../packages/kit) of what we keep.
for (const [key, entry] of Object.entries(entries)) {
  if (entry.link && entry.resolved && keep.has(entry.resolved)) keep.add(key);
}

/** Files a running service never reads: TypeScript sources, tests, build info, maps, declarations. */
function isRuntimeFile(/** @type {string} */ rel) {
  const parts = rel.split('/');
  if (parts.includes('test') || parts.includes('node_modules')) return false;
  // Code runs from dist/; src/ contributes only non-code assets (e.g. .sql),
  // never stray compiler output that may sit next to the sources.
  if (parts[0] === 'src' && /\.([cm]?js|ts|map)$/.test(rel)) return false;
  if (parts[0] === 'dist' && /\.(d\.ts|map|tsbuildinfo)$/.test(rel)) return false;
  return !/^tsconfig.*\.json$|\.tsbuildinfo$|^README/.test(parts[parts.length - 1] ?? '');
}

function copyWorkspace(/** @type {string} */ key) {
  const walk = (/** @type {string} */ rel) => {
    for (const name of readdirSync(join(root, key, rel))) {
      const relPath = rel ? `${rel}/${name}` : name;
      const src = join(root, key, relPath);
      if (lstatSync(src).isDirectory()) {
        if (isRuntimeFile(`${relPath}/x`)) walk(relPath);
      } else if (isRuntimeFile(relPath)) {
        mkdirSync(dirname(join(out, key, relPath)), { recursive: true });
        cpSync(src, join(out, key, relPath));
      }
    }
  };
  walk('');
}

mkdirSync(out, { recursive: true });
cpSync(join(root, 'package.json'), join(out, 'package.json'));
let packages = 0;
for (const key of [...keep].sort()) {
  const src = join(root, key);
  const entry = entries[key] ?? {};
  if (!key.includes('node_modules')) {
    copyWorkspace(key);
  } else if (entry.link) {
    mkdirSync(dirname(join(out, key)), { recursive: true });
    symlinkSync(readlinkSync(src), join(out, key));
  } else {
    // Nested node_modules are lock entries of their own and copied only if reachable.
    cpSync(src, join(out, key), { recursive: true, filter: (s) => !s.slice(src.length).includes('/node_modules') });
    packages++;
  }
}
console.log(`${workspace}: ${packages} packages, ${[...keep].filter((k) => !k.includes('node_modules')).join(', ')}`);
