// The platform as real child processes (user, product, order, gateway) on free loopback ports, with the
// V8 heap cap the stack and the images use, against a database of the test's own. Used by the fuzz suite
// and the availability tests: a request that kills a process or a fault that makes one exit shows here.
import { spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT, calculateJwkThumbprint, exportJWK, importPKCS8 } from 'jose';
import { createTestDatabase, freePort, type TestDatabase } from '@ecommerce/test-support';
import { repoRoot } from './paths.js';

/** The same cap as scripts/stack.js (NODE_HEAP_ARGS) and the images. */
export const NODE_HEAP_ARGS = ['--max-old-space-size=128', '--max-semi-space-size=8'];
const SERVICES = ['user', 'product', 'order', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * A latency bound that holds on a machine with a core per runnable process. Where the machine is
 * overloaded (1-minute load above the core count, as when several suites share it) it scales with the
 * load, at most 4x, so a test measures the services and not their neighbours. Never scaled in CI.
 */
export function latencyBound(baseMs: number): number {
  // CI runs alone on its machine: there the bound is the issue's own figure, unscaled.
  if (process.env.CI === 'true') return baseMs;
  return Math.round(baseMs * Math.min(4, Math.max(1, loadavg()[0]! / availableParallelism())));
}

interface ServiceProcess {
  name: ServiceName;
  child: ChildProcess;
  base: string;
  /** Every stdout/stderr line, in order. */
  lines: string[];
  exited: boolean;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
}

export interface Platform {
  db: TestDatabase;
  /** Connection URL per service (for a service started again by a test). */
  urls: Record<ServiceName, string>;
  procs: Record<ServiceName, ServiceProcess>;
  admin: { email: string; password: string };
  orderClient: { id: string; secret: string };
  /** A user access token signed with the user service's own key (any claims: for forged-but-signed tests). */
  signUserToken(claims: Record<string, unknown>, sub: string): Promise<string>;
  envOf(name: ServiceName): Record<string, string>;
  start(name: ServiceName): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

async function waitReady(base: string, proc: ServiceProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exited) throw new Error(`${proc.name} exited during start-up (${JSON.stringify(proc.exit)}):\n${proc.lines.slice(-20).join('\n')}`);
    try {
      const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(150);
  }
  throw new Error(`${proc.name} did not become ready in ${timeoutMs} ms:\n${proc.lines.slice(-20).join('\n')}`);
}

/**
 * Starts the four services as processes. `adminUrl` defaults to DATABASE_URL (npm test's server); a test
 * with a PostgreSQL of its own passes that one. `serviceEnv` adds variables per service.
 */
export async function startPlatform(opts: { adminUrl?: string; serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>; logLevel?: string } = {}): Promise<Platform> {
  const savedUrl = process.env.DATABASE_URL;
  if (opts.adminUrl) process.env.DATABASE_URL = opts.adminUrl;
  let db: TestDatabase;
  try {
    db = await createTestDatabase();
  } finally {
    process.env.DATABASE_URL = savedUrl;
  }
  const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const publicJwk = await exportJWK(createPublicKey(pem));
  const kid = await calculateJwkThumbprint(publicJwk);
  const signingKey = await importPKCS8(pem, 'EdDSA');
  const admin = { email: 'admin@example.test', password: `admin-${randomBytes(6).toString('hex')}` };
  const orderClient = { id: 'order-service', secret: randomBytes(18).toString('base64url') };
  const ports = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await freePort()]))) as Record<ServiceName, number>;
  const metricsPort = await freePort();
  const base = (s: ServiceName) => `http://127.0.0.1:${ports[s]}`;
  const common = {
    HOST: '127.0.0.1',
    LOG_LEVEL: opts.logLevel ?? 'warn',
    NODE_ENV: 'test',
    USER_SERVICE_URL: base('user'),
    PRODUCT_SERVICE_URL: base('product'),
    ORDER_SERVICE_URL: base('order'),
  };
  const perService: Record<ServiceName, Record<string, string>> = {
    user: {
      DATABASE_URL: db.urls.user,
      JWT_PRIVATE_KEY: pem,
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
      SERVICE_CLIENTS: JSON.stringify([{ id: orderClient.id, secret: orderClient.secret, scopes: ['reservations:write', 'reservations:read'] }]),
    },
    product: { DATABASE_URL: db.urls.product, SEED_DEMO_DATA: 'false' },
    order: { DATABASE_URL: db.urls.order, SERVICE_CLIENT_ID: orderClient.id, SERVICE_CLIENT_SECRET: orderClient.secret },
    gateway: { METRICS_PORT: String(metricsPort) },
  };
  const envOf = (name: ServiceName) => ({ ...common, ...perService[name], PORT: String(ports[name]), ...(opts.serviceEnv?.[name] ?? {}) });
  const procs = {} as Record<ServiceName, ServiceProcess>;
  const launch = (name: ServiceName): ServiceProcess => {
    const main = join(repoRoot, 'services', name, 'dist', 'src', 'main.js');
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...envOf(name) };
    const child = spawn(process.execPath, [...NODE_HEAP_ARGS, main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc: ServiceProcess = { name, child, base: base(name), lines: [], exited: false, exit: null };
    for (const stream of [child.stdout, child.stderr]) {
      let buf = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          proc.lines.push(buf.slice(0, i));
          if (proc.lines.length > 5000) proc.lines.splice(0, 1000);
          buf = buf.slice(i + 1);
        }
      });
    }
    child.on('exit', (code, signal) => {
      proc.exited = true;
      proc.exit = { code, signal };
    });
    procs[name] = proc;
    return proc;
  };
  const start = async (name: ServiceName) => {
    const proc = launch(name);
    await waitReady(proc.base, proc);
    return proc;
  };
  const stop = async () => {
    for (const p of Object.values(procs)) if (!p.exited) p.child.kill('SIGTERM');
    const deadline = Date.now() + 15_000;
    while (Object.values(procs).some((p) => !p.exited) && Date.now() < deadline) await sleep(50);
    for (const p of Object.values(procs)) if (!p.exited) p.child.kill('SIGKILL');
    await db.drop().catch(() => undefined);
  };
  try {
    for (const name of ['user', 'product', 'order'] as const) launch(name);
    await Promise.all((['user', 'product', 'order'] as const).map((n) => waitReady(procs[n].base, procs[n])));
    await start('gateway');
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    db,
    urls: { user: db.urls.user, product: db.urls.product, order: db.urls.order, gateway: '' },
    procs,
    admin,
    orderClient,
    envOf,
    start,
    stop,
    signUserToken: (claims, sub) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
        .setSubject(sub)
        .setIssuer('ecommerce-user-service')
        .setAudience('ecommerce')
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(signingKey),
  };
}
