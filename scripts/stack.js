// Starts the whole platform as child processes: PostgreSQL (DATABASE_URL or embedded), one role and
// schema per service, the user, product and order services and the gateway, all on 127.0.0.1.
// Used by `npm start`, `npm run bench` and the live monitoring test, so all run the same way.
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { provisionDatabase, serviceUrl } from '@ecommerce/kit';
import { startEmbeddedPostgres } from './embedded-db.js';

export const root = resolve(import.meta.dirname, '..');
export const SERVICES = ['user', 'product', 'order', 'gateway'];
// V8 grows the old generation lazily up to a quarter of the machine's memory; capped, it collects
// earlier; a smaller young generation (semi-space 8 MB, default 16) trims the peak further. Under load
// a service then stays near 100-130 MiB instead of 200+, at a few percent of throughput.
// The images set the same value (deploy/docker/Dockerfile), sized for the Deployments' 256Mi limit.
export const NODE_HEAP_ARGS = ['--max-old-space-size=128', '--max-semi-space-size=8'];

/** Secrets for a local run, generated once and kept under the data folder so restarts keep sessions valid. */
function localSecrets(dataDir) {
  const file = join(dataDir, 'secrets.json');
  const existing = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const gen = () => randomBytes(18).toString('base64url');
  const secrets = { adminPassword: gen(), orderClientSecret: gen(), userDbPassword: gen(), productDbPassword: gen(), orderDbPassword: gen(), ...existing };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  const keyFile = join(dataDir, 'jwt-private.pem');
  if (!existsSync(keyFile)) writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  return { ...secrets, keyFile };
}

async function waitReady(name, base, isStopping, child, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !isStopping()) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited during start-up (code ${child.exitCode}, signal ${child.signalCode}); see its log`);
    try {
      const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(150);
  }
  if (!isStopping()) throw new Error(`${name} did not become ready within ${timeoutMs / 1000} s`);
}

/**
 * @param {{ env?: NodeJS.ProcessEnv, dataDir?: string, onLine?: (service: string, line: string) => void,
 *           onCrash?: (service: string, code: number|null, signal: string|null, tail: string[]) => void,
 *           serviceEnv?: Record<string, Record<string,string>>, nodeArgs?: Record<string, string[]> }} opts
 */
export async function startStack(opts = {}) {
  const env = opts.env ?? process.env;
  const dataDir = resolve(opts.dataDir ?? env.DATA_DIR ?? join(root, '.data'));
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const port = (name, dflt) => Number(env[name] ?? dflt);
  const ports = { user: port('USER_PORT', 3001), product: port('PRODUCT_PORT', 3002), order: port('ORDER_PORT', 3003), gateway: port('GATEWAY_PORT', 8080) };
  // The gateway's own metrics are off its public port, like an ingress controller's.
  const gatewayMetricsPort = port('GATEWAY_METRICS_PORT', 9464);
  const urls = Object.fromEntries(Object.entries(ports).map(([k, p]) => [k, `http://127.0.0.1:${p}`]));
  const children = new Map();
  let stopping = false;
  let db = null;

  async function stop() {
    if (stopping) return;
    stopping = true;
    for (const child of children.values()) child.kill('SIGTERM');
    const deadline = Date.now() + 15_000;
    while ([...children.values()].some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < deadline) await sleep(100);
    for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (db) await db.stop().catch(() => undefined);
  }

  try {
    const secrets = localSecrets(dataDir);
    let adminUrl = env.DATABASE_URL;
    let embedded = false;
    if (!adminUrl) {
      db = await startEmbeddedPostgres({ dir: join(dataDir, 'postgres'), port: port('EMBEDDED_PG_PORT', 54329) });
      adminUrl = db.adminUrl;
      embedded = true;
    }
    const database = env.DATABASE_NAME ?? (embedded ? 'ecommerce' : new URL(adminUrl).pathname.slice(1) || 'ecommerce');
    const roles = {
      user: { role: 'ecommerce_user', password: secrets.userDbPassword, schema: 'users' },
      product: { role: 'ecommerce_product', password: secrets.productDbPassword, schema: 'catalog' },
      order: { role: 'ecommerce_order', password: secrets.orderDbPassword, schema: 'orders' },
    };
    await provisionDatabase(adminUrl, database, Object.values(roles));
    const admin = { email: env.ADMIN_EMAIL ?? 'admin@ecommerce.local', password: env.ADMIN_PASSWORD ?? secrets.adminPassword };
    const orderClient = { id: 'order-service', secret: secrets.orderClientSecret, scopes: ['reservations:write', 'reservations:read'] };
    const adminDbUrl = new URL(adminUrl);
    adminDbUrl.pathname = `/${database}`;
    writeFileSync(join(dataDir, 'stack.json'), JSON.stringify({ databaseUrl: adminDbUrl.toString(), ports }, null, 2), { mode: 0o600 });

    const common = { HOST: env.HOST ?? '127.0.0.1', USER_SERVICE_URL: urls.user, PRODUCT_SERVICE_URL: urls.product, ORDER_SERVICE_URL: urls.order };
    const perService = {
      user: { DATABASE_URL: serviceUrl(adminUrl, database, roles.user), JWT_PRIVATE_KEY_FILE: secrets.keyFile, ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password, SERVICE_CLIENTS: JSON.stringify([orderClient]) },
      product: { DATABASE_URL: serviceUrl(adminUrl, database, roles.product) },
      order: { DATABASE_URL: serviceUrl(adminUrl, database, roles.order), SERVICE_CLIENT_ID: orderClient.id, SERVICE_CLIENT_SECRET: orderClient.secret },
      gateway: { METRICS_PORT: String(gatewayMetricsPort) },
    };
    const launch = (name) => {
      const main = join(root, 'services', name, 'dist', 'src', 'main.js');
      if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
      const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
      const child = spawn(process.execPath, [...NODE_HEAP_ARGS, ...(opts.nodeArgs?.[name] ?? []), main], {
        env: { ...env, ...common, ...perService[name], PORT: String(ports[name]), ...(opts.serviceEnv?.[name] ?? {}) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.set(name, child);
      const tail = [];
      for (const stream of [child.stdout, child.stderr]) {
        let buf = '';
        stream.on('data', (chunk) => {
          buf += chunk;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            log.write(`${line}\n`);
            tail.push(line);
            if (tail.length > 20) tail.shift();
            opts.onLine?.(name, line);
          }
        });
      }
      child.on('exit', (code, signal) => {
        if (!stopping && children.get(name) === child) opts.onCrash?.(name, code, signal, tail);
      });
      return child;
    };
    /** Starts one service again with the same environment (after a crash or a kill in a fault test). */
    const restartService = async (name) => {
      const old = children.get(name);
      if (old && old.exitCode === null && old.signalCode === null) {
        old.kill('SIGTERM');
        await new Promise((r) => old.once('exit', r));
      }
      const child = launch(name);
      await waitReady(name, urls[name], () => stopping, child);
      return child;
    };
    for (const name of SERVICES) launch(name);
    await Promise.all(SERVICES.filter((n) => n !== 'gateway').map((n) => waitReady(n, urls[n], () => stopping, children.get(n))));
    await waitReady('gateway', urls.gateway, () => stopping, children.get('gateway'));
    return { adminUrl: adminDbUrl.toString(), database, ports, gatewayMetricsPort, urls, admin, children, logDir, embedded, stop, restart: restartService, secrets, orderClient };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Peak resident set (VmHWM) of a process, in MiB, from /proc. */
export function peakRssMiB(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}
