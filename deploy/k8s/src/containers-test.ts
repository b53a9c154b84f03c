// Containers for real (scripts/containers-test.sh runs this after building the
// base image): build every service image from deploy/docker/Dockerfile, run
// each one as Kubernetes would (non-root, read-only root filesystem, a tmpfs
// at /tmp, the env and limits of its Deployment), against a fresh database on
// the local PostgreSQL provisioned by the same script as the cluster's Job,
// then smoke-test the API through the gateway container and check that
// `docker stop` drains in-flight requests. The storefront image (the web app's
// static-only server) runs the same way, with its Deployment's env, probes and
// limits; it and the gateway must serve the app at `/` with its CSP and the
// hashed assets with immutable caching.
//
// Only loopback is used: --network host, every service bound to 127.0.0.1.
// Only the containers this run started are stopped or removed.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@ecommerce/kit';
import { containerEnv, dataOf, loadManifests, podTemplate, repoRoot, type Container, type EnvSource, type K8sObject } from './manifests.js';

const baseImage = argValue('--base') ?? 'local/node:24';
const pgUrl = process.env['CONTAINERS_TEST_PG'] ?? (await localPostgres());
const runId = `ct${process.pid}`;
const tag = 'ct';
const allTargets = ['user', 'product', 'order', 'gateway', 'storefront'] as const;
type Target = (typeof allTargets)[number];
// The storefront's Deployment listens on 8080 like the gateway; on the host
// network both run at once, so it gets the next port (PORT is overridden).
const defaultPorts: Record<Target, number> = { user: 3001, product: 3002, order: 3003, gateway: 8080, storefront: 8081 };
/** What each target needs in the tree to be built (the storefront is the gateway's static server plus web/). */
const sourcesOf: Record<Target, string[]> = {
  user: ['services/user/src/main.ts'],
  product: ['services/product/src/main.ts'],
  order: ['services/order/src/main.ts'],
  gateway: ['services/gateway/src/main.ts'],
  storefront: ['services/gateway/src/storefront-main.ts', 'web/package.json'],
};
const isDbService = (t: Target): t is 'user' | 'product' | 'order' => t === 'user' || t === 'product' || t === 'order';

const started: string[] = [];
const timings: Record<string, number> = {};
let passed = 0;
let failed = 0;

interface EmbeddedPostgres {
  adminUrl: string;
  stop(): Promise<void>;
}
let embedded: EmbeddedPostgres | undefined;

/**
 * The machine's PostgreSQL on 127.0.0.1:5432 (trust auth) when it answers;
 * otherwise the embedded server that `npm test` uses (scripts/embedded-db.js).
 */
async function localPostgres(): Promise<string> {
  const answers = await new Promise<boolean>((resolve) => {
    const socket = connect(5432, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
  if (answers) return 'postgres://postgres@127.0.0.1:5432/postgres';
  const module = (await import(pathToFileURL(join(repoRoot, 'scripts/embedded-db.js')).href)) as {
    startEmbeddedPostgres(opts: { dir: string; port: number }): Promise<EmbeddedPostgres>;
  };
  // A free port, never a fixed one another server could hold.
  const port = await freePort('127.0.0.1');
  embedded = await module.startEmbeddedPostgres({ dir: join(repoRoot, '.data', 'containers-test-postgres'), port });
  console.log(`[containers] no PostgreSQL on 127.0.0.1:5432: started the embedded one on ${port}`);
  return embedded.adminUrl;
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function log(message: string): void {
  console.log(`[containers] ${message}`);
}

function check(name: string, ok: boolean, detail = ''): void {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
}

function docker(args: string[], env?: NodeJS.ProcessEnv): string {
  return execFileSync('docker', args, { encoding: 'utf8', env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 }).trim();
}

async function timed<T>(label: string, fn: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings[label] = Math.round(performance.now() - t0) / 1000;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

// ---------------------------------------------------------------------------
// The manifests: env and limits of each Deployment, with the values that only
// make sense inside a cluster replaced by their loopback equivalents.
const objects = loadManifests().map((o) => o.object);
const find = (kind: string, name: string): K8sObject => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name} in deploy/k8s`);
  return o;
};

interface FromK8s {
  container: Container;
  labels: Record<string, string>;
  /** docker run --user: the container's (else the pod's) runAsUser:runAsGroup. */
  user: string;
  /** Size of the emptyDir mounted at /tmp, as a tmpfs size (16Mi -> 16m). */
  tmpSize: string;
}

function containerOf(target: Target): FromK8s | undefined {
  const deployment = objects.find((o) => o.kind === 'Deployment' && podTemplate(o)?.spec.containers.some((c) => c.image.startsWith(`ecommerce/${target}:`)));
  const template = deployment ? podTemplate(deployment) : undefined;
  const container = template?.spec.containers.find((c) => c.image.startsWith(`ecommerce/${target}:`));
  if (!template || !container) return undefined;
  const sc = { ...template.spec.securityContext, ...container.securityContext } as { runAsUser?: number; runAsGroup?: number };
  const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
  const sizeLimit = template.spec.volumes?.find((v) => v.name === tmp?.name)?.emptyDir?.sizeLimit;
  return {
    container,
    labels: template.metadata?.labels ?? {},
    user: `${sc.runAsUser ?? 10001}:${sc.runAsGroup ?? sc.runAsUser ?? 10001}`,
    tmpSize: sizeLimit ? sizeLimit.replace(/Mi$/, 'm').replace(/Gi$/, 'g') : '64m',
  };
}

/** The container's environment as the kubelet builds it (containerEnv), with `overrides` for what a host network changes. */
function resolveEnv(container: Container, labels: Record<string, string>, overrides: Record<string, string>): Record<string, string> {
  const resolve = (source: EnvSource): string => {
    if (source.secretKeyRef) return dataOf(find('Secret', source.secretKeyRef.name))[source.secretKeyRef.key] ?? '';
    if (source.configMapKeyRef) return dataOf(find('ConfigMap', source.configMapKeyRef.name))[source.configMapKeyRef.key] ?? '';
    const m = source.fieldRef ? /^metadata\.labels\['(.+)'\]$/.exec(source.fieldRef.fieldPath) : null;
    return m ? labels[m[1] ?? ''] ?? '' : '';
  };
  return containerEnv(container, resolve, overrides);
}

/** Kubernetes quantities to docker run flags: 384Mi -> 384m, 500m CPU -> 0.5. */
function limitFlags(container: Container): string[] {
  const limits = container.resources?.limits ?? {};
  const flags: string[] = [];
  const memory = limits['memory'];
  if (memory) flags.push('--memory', memory.replace(/Mi$/, 'm').replace(/Gi$/, 'g'));
  const cpu = limits['cpu'];
  if (cpu) flags.push('--cpus', cpu.endsWith('m') ? String(Number(cpu.slice(0, -1)) / 1000) : cpu);
  return flags;
}

// ---------------------------------------------------------------------------
// PostgreSQL: a fresh database and per-service roles for this run, made by the
// cluster's own provisioning script (postgres-deployment.yaml).
const database = `ecommerce_${runId}`;
const roles: Record<'user' | 'product' | 'order', string> = { user: `user_service_${runId}`, product: `product_service_${runId}`, order: `order_service_${runId}` };
const exporterRole = `postgres_exporter_${runId}`;
const pg = new URL(pgUrl);

function psql(sql: string, db = pg.pathname.slice(1) || 'postgres'): string {
  return execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', pg.hostname, '-p', pg.port || '5432', '-U', decodeURIComponent(pg.username || 'postgres'), '-d', db, '-tAc', sql], {
    encoding: 'utf8',
    env: { ...process.env, PGPASSWORD: decodeURIComponent(pg.password) },
  }).trim();
}

function provisionDatabase(): void {
  const script = dataOf(find('ConfigMap', 'postgres-provision'))['provision.sh'];
  if (!script) throw new Error('postgres-provision has no provision.sh');
  const secret = (name: string, key: string): string => dataOf(find('Secret', name))[key] ?? '';
  const result = spawnSync('sh', ['-c', script], {
    encoding: 'utf8',
    env: {
      ...process.env,
      PGHOST: pg.hostname, PGPORT: pg.port || '5432', PGUSER: decodeURIComponent(pg.username || 'postgres'), PGPASSWORD: decodeURIComponent(pg.password), PGDATABASE: database,
      USER_DB_HOST: pg.hostname, USER_DB_USER: roles.user, USER_DB_PASSWORD: secret('user-service-db', 'password'),
      PRODUCT_DB_HOST: pg.hostname, PRODUCT_DB_USER: roles.product, PRODUCT_DB_PASSWORD: secret('product-service-db', 'password'),
      ORDER_DB_HOST: pg.hostname, ORDER_DB_USER: roles.order, ORDER_DB_PASSWORD: secret('order-service-db', 'password'),
      EXPORTER_DB_USER: exporterRole, EXPORTER_DB_PASSWORD: secret('postgres-exporter-db', 'password'),
      PGOPTIONS: '-c client_min_messages=warning',
    },
  });
  if (result.status !== 0) throw new Error(`provision.sh failed: ${result.stderr}${result.stdout}`);
  log(result.stdout.trim().split('\n').join('; '));
}

function dropDatabase(): void {
  try {
    psql(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    for (const role of [...Object.values(roles), exporterRole]) psql(`DROP ROLE IF EXISTS "${role}"`);
  } catch (error) {
    log(`cleanup of ${database}: ${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------------------
// HTTP helpers (undici's fetch; loopback only).
interface Reply {
  status: number;
  body: unknown;
}

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<Reply> {
  const res = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (e.g. /metrics); keep the text.
  }
  return { status: res.status, body: parsed };
}

async function waitFor(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await call('GET', url, undefined, {}, 2000)).status === 200) return true;
    } catch {
      // Not listening yet.
    }
    await sleep(250);
  }
  return false;
}

// ---------------------------------------------------------------------------
async function main(): Promise<void> {
  const t0 = performance.now();
  // The images whose sources exist (all five once the platform is complete).
  const targets = allTargets.filter((t) => sourcesOf[t].every((f) => existsSync(join(repoRoot, f))));
  const missing = allTargets.filter((t) => !targets.includes(t));
  if (missing.length > 0) log(`not built (sources missing): ${missing.map((t) => `${t} (${sourcesOf[t].join(', ')})`).join('; ')}`);
  // The build stage compiles services; the storefront target takes the gateway's output.
  const services = targets.filter((t) => t !== 'storefront');
  if (targets.length === 0) throw new Error('no service to build');

  // Ports: the Deployment's own, unless something else on this machine (a
  // developer's `npm start`) holds them; then all of them move by an offset.
  let offset = Number(process.env['CONTAINERS_TEST_PORT_OFFSET'] ?? 0);
  if (offset === 0) {
    for (const t of targets) if (!(await portFree(defaultPorts[t]))) offset = 20000;
  }
  const port = (t: Target): number => defaultPorts[t] + offset;
  if (offset) log(`ports ${targets.map((t) => defaultPorts[t]).join(', ')} are busy here: using +${offset}`);

  const revision = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).stdout.trim() || 'unknown';
  for (const t of targets) {
    await timed(`build ${t}`, () => {
      docker(['build', '--network', 'host', '--build-arg', `NODE_IMAGE=${baseImage}`, '--build-arg', `SERVICES=${services.join(' ')}`,
        '--build-arg', `REVISION=${revision}`, '--build-arg', `CREATED=${new Date().toISOString()}`,
        '-f', 'deploy/docker/Dockerfile', '--target', t, '-t', `ecommerce/${t}:${tag}`, '.'].concat(), undefined);
    });
    log(`built ecommerce/${t}:${tag} in ${timings[`build ${t}`]} s`);
  }

  await timed('provision database', provisionDatabase);

  const common = dataOf(find('ConfigMap', 'ecommerce-config'));
  const urls: Record<string, string> = {
    USER_SERVICE_URL: `http://127.0.0.1:${port('user')}`,
    PRODUCT_SERVICE_URL: `http://127.0.0.1:${port('product')}`,
    ORDER_SERVICE_URL: `http://127.0.0.1:${port('order')}`,
  };
  const names: Partial<Record<Target, string>> = {};
  const startContainer = (t: Target): void => {
    let env: Record<string, string>;
    let flags: string[];
    let user = '10001:10001';
    let tmpSize = '64m';
    const fromK8s = containerOf(t);
    if (fromK8s) {
      // Only what differs on a host network: listen on loopback (the host's
      // interfaces are shared), reach the database and peers on 127.0.0.1.
      const dbOverrides: Record<string, string> = isDbService(t) ? { DB_HOST: pg.hostname, DB_PORT: pg.port || '5432', DB_NAME: database, PGUSER: roles[t] } : {};
      env = resolveEnv(fromK8s.container, fromK8s.labels, { HOST: '127.0.0.1', PORT: String(port(t)), ...dbOverrides, ...urls });
      flags = limitFlags(fromK8s.container);
      user = fromK8s.user;
      tmpSize = fromK8s.tmpSize;
    } else {
      // The gateway has no Deployment (the ingress plays its part in a
      // cluster): the shared ConfigMap and the image's defaults.
      env = { NODE_ENV: common['NODE_ENV'] ?? 'production', LOG_LEVEL: common['LOG_LEVEL'] ?? 'info', SHUTDOWN_TIMEOUT_MS: common['SHUTDOWN_TIMEOUT_MS'] ?? '10000', HOST: '127.0.0.1', PORT: String(port(t)), METRICS_PORT: String(9464 + offset), ...urls };
      flags = ['--memory', '256m', '--cpus', '1'];
    }
    const name = `ecommerce-${t}-${runId}`;
    // Values travel through the docker CLI's environment (-e NAME), never on
    // its command line, so secrets do not show up in the process list.
    const args = ['run', '-d', '--name', name, '--label', `ecommerce.containers-test=${runId}`,
      '--network', 'host', '--read-only', '--tmpfs', `/tmp:rw,noexec,nosuid,size=${tmpSize}`, '--user', user,
      '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', ...flags,
      ...Object.keys(env).flatMap((k) => ['-e', k]), `ecommerce/${t}:${tag}`];
    docker(args, { ...process.env, ...env });
    started.push(name);
    names[t] = name;
  };

  await timed('start and ready', async () => {
    for (const t of targets) startContainer(t);
    for (const t of targets) {
      const base = `http://127.0.0.1:${port(t)}`;
      const live = await waitFor(`${base}/livez`, 60_000);
      const ready = live && (await waitFor(`${base}/readyz`, 60_000));
      check(`${t}: /livez and /readyz answer 200 (read-only root, uid 10001)`, ready, ready ? '' : docker(['logs', '--tail', '30', names[t] ?? '']).slice(-3000));
    }
  });
  log(`all ready ${timings['start and ready']} s after start`);

  for (const t of targets) {
    const inspect = JSON.parse(docker(['inspect', names[t] ?? ''])) as {
      Config: { User: string };
      HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[] | null; SecurityOpt: string[] | null; Memory: number; NanoCpus: number; Tmpfs: Record<string, string> | null };
    }[];
    const host = inspect[0]?.HostConfig;
    check(`${t}: runs as 10001 with a read-only root, all capabilities dropped, no new privileges`,
      inspect[0]?.Config.User === '10001:10001' && host?.ReadonlyRootfs === true && (host.CapDrop ?? []).includes('ALL') && (host.SecurityOpt ?? []).includes('no-new-privileges'),
      JSON.stringify({ user: inspect[0]?.Config.User, readOnly: host?.ReadonlyRootfs, capDrop: host?.CapDrop, securityOpt: host?.SecurityOpt }));
    const fromK8s = containerOf(t);
    if (fromK8s) {
      // The Deployment's limits and /tmp emptyDir size, as Docker applied them.
      const limits = fromK8s.container.resources?.limits ?? {};
      const mi = /^(\d+)Mi$/.exec(limits['memory'] ?? '');
      const cpu = limits['cpu'] ?? '';
      const cpus = cpu.endsWith('m') ? Number(cpu.slice(0, -1)) / 1000 : Number(cpu);
      check(`${t}: runs with its Deployment's limits (${limits['memory']}, ${cpu} CPU) and /tmp size (${fromK8s.tmpSize})`,
        mi !== null && host?.Memory === Number(mi[1]) * 1024 * 1024 && host.NanoCpus === Math.round(cpus * 1e9) && (host.Tmpfs?.['/tmp'] ?? '').includes(`size=${fromK8s.tmpSize}`),
        JSON.stringify({ memory: host?.Memory, nanoCpus: host?.NanoCpus, tmpfs: host?.Tmpfs }));
    }
    // Every HTTP probe of the Deployment, on the port the container listens on.
    const probes = probesOf(t);
    for (const [kind, path] of probes) {
      const reply = await call('GET', `http://127.0.0.1:${port(t)}${path}`).catch((e: Error) => ({ status: 0, body: e.message }));
      check(`${t}: ${kind} GET ${path} is 200`, reply.status === 200, `${reply.status} ${JSON.stringify(reply.body).slice(0, 200)}`);
    }
    if (t === 'storefront') {
      // Static files only: nothing to scrape, and no /metrics for the ingress to leak.
      const metrics = await call('GET', `http://127.0.0.1:${port(t)}/metrics`).catch(() => ({ status: 0, body: '' }));
      check(`${t}: serves no /metrics`, metrics.status === 404, String(metrics.status));
      continue;
    }
    // The gateway serves its metrics on METRICS_PORT (default 9464), not on its public port.
    const metricsPort = t === 'gateway' ? 9464 + offset : port(t);
    const metrics = await call('GET', `http://127.0.0.1:${metricsPort}/metrics`).catch(() => ({ status: 0, body: '' }));
    check(`${t}: /metrics exposes http_server_request_duration_seconds`, metrics.status === 200 && String(metrics.body).includes('http_server_request_duration_seconds'));
  }

  // The Deployments' preStop hooks run inside the image: the command must exist there.
  await timed('preStop hooks', async () => {
    await Promise.all(targets.map(async (t) => {
      const command = containerOf(t)?.container.lifecycle?.preStop?.exec?.command;
      if (!command) return;
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn('docker', ['exec', names[t] ?? '', ...command], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
      check(`${t}: the preStop hook ${JSON.stringify(command)} runs in the image`, result.code === 0, `exit ${result.code} ${result.stderr.trim()}`);
    }));
  });

  // The app at `/`: from its own image, and from the gateway's as under npm start.
  let storefrontIndex: string | undefined;
  if (targets.includes('storefront')) storefrontIndex = await appChecks('storefront', `http://127.0.0.1:${port('storefront')}`);
  if (targets.includes('gateway')) {
    const gatewayIndex = await appChecks('gateway', `http://127.0.0.1:${port('gateway')}`);
    if (storefrontIndex !== undefined) check('gateway and storefront images serve the same build of the app', gatewayIndex === storefrontIndex);
  }

  if (targets.includes('gateway')) await smokeTests(`http://127.0.0.1:${port('gateway')}`, targets);
  else log('no gateway image: API smoke tests skipped');

  // Docker's own HEALTHCHECK (node + fetch on /readyz) must turn healthy.
  await timed('healthchecks', async () => {
    for (const t of targets) {
      let status = '';
      for (let i = 0; i < 60 && status !== 'healthy'; i++) {
        status = docker(['inspect', '-f', '{{.State.Health.Status}}', names[t] ?? '']);
        if (status !== 'healthy') await sleep(500);
      }
      check(`${t}: Docker HEALTHCHECK reports healthy`, status === 'healthy', status);
    }
  });

  if (targets.includes('user')) await drainTest('user', `http://127.0.0.1:${port('user')}`, names.user ?? '');

  // Everything else stops cleanly too: exit code 0, well before the kill timeout.
  for (const t of targets) {
    if (t === 'user') continue;
    const t1 = performance.now();
    docker(['stop', '-t', '20', names[t] ?? '']);
    const seconds = (performance.now() - t1) / 1000;
    const code = docker(['inspect', '-f', '{{.State.ExitCode}}', names[t] ?? '']);
    check(`${t}: docker stop exits 0 by itself`, code === '0' && seconds < 15, `exit ${code} after ${seconds.toFixed(1)} s`);
  }

  console.log('\nimage sizes:');
  for (const t of targets) {
    const bytes = Number(docker(['image', 'inspect', '-f', '{{.Size}}', `ecommerce/${t}:${tag}`]));
    console.log(`  ecommerce/${t}:${tag}  ${(bytes / 1e6).toFixed(0)} MB`);
  }
  console.log(`  base ${baseImage}  ${(Number(docker(['image', 'inspect', '-f', '{{.Size}}', baseImage])) / 1e6).toFixed(0)} MB`);
  console.log('timings (s):');
  for (const [k, v] of Object.entries(timings)) console.log(`  ${k}: ${v}`);
  console.log(`  total: ${(Math.round(performance.now() - t0) / 1000).toFixed(1)}`);
}

// ---------------------------------------------------------------------------
async function smokeTests(gateway: string, targets: readonly Target[]): Promise<void> {
  const email = `ct-${runId}-${Date.now()}@example.com`;
  const password = 'correct horse battery staple';
  const registered = await call('POST', `${gateway}/user/register`, { email, password, name: 'Container Test' });
  check('gateway -> user: POST /user/register is 201', registered.status === 201, JSON.stringify(registered.body).slice(0, 300));
  const login = await call('POST', `${gateway}/user/login`, { email, password });
  const token = (login.body as { accessToken?: string } | undefined)?.accessToken ?? '';
  check('gateway -> user: POST /user/login is 200 with an access token', login.status === 200 && token.length > 0, String(login.status));
  const me = await call('GET', `${gateway}/user/me`, undefined, { authorization: `Bearer ${token}` });
  check('gateway -> user: GET /user/me returns the account', me.status === 200 && (me.body as { email?: string }).email === email, JSON.stringify(me.body).slice(0, 300));
  const internal = await call('GET', `${gateway}/internal/reservations/x`);
  check('gateway does not route /internal', internal.status === 404, String(internal.status));

  if (!targets.includes('product')) return;
  const list = await call('GET', `${gateway}/product?limit=5`);
  check('gateway -> product: GET /product lists', list.status === 200 && Array.isArray((list.body as { items?: unknown }).items), JSON.stringify(list.body).slice(0, 300));

  // The admin from ADMIN_EMAIL/ADMIN_PASSWORD (user-service-admin Secret) creates a product.
  const admin = dataOf(find('Secret', 'user-service-admin'));
  const adminLogin = await call('POST', `${gateway}/user/login`, { email: admin['email'], password: admin['password'] });
  const adminToken = (adminLogin.body as { accessToken?: string } | undefined)?.accessToken ?? '';
  check('the admin from the Secret can log in', adminLogin.status === 200, String(adminLogin.status));
  const created = await call('POST', `${gateway}/product`, { sku: `CT-${runId}-${Date.now()}`, name: 'Container test mug', priceCents: 1250, currency: 'USD', stock: 5 }, { authorization: `Bearer ${adminToken}` });
  const productId = (created.body as { id?: string } | undefined)?.id ?? '';
  check('gateway -> product: admin POST /product is 201 (JWT verified via JWKS)', created.status === 201 && productId !== '', JSON.stringify(created.body).slice(0, 300));

  if (!targets.includes('order') || !productId) return;
  const order = await call('POST', `${gateway}/order`, { items: [{ productId, quantity: 2 }] }, { authorization: `Bearer ${token}`, 'idempotency-key': `ct-${runId}` });
  const body = order.body as { id?: string; status?: string; totalCents?: number } | undefined;
  check('gateway -> order -> product: POST /order is 201 confirmed (service token, reservation)', order.status === 201 && body?.status === 'confirmed' && body.totalCents === 2500, JSON.stringify(order.body).slice(0, 300));
  const replay = await call('POST', `${gateway}/order`, { items: [{ productId, quantity: 2 }] }, { authorization: `Bearer ${token}`, 'idempotency-key': `ct-${runId}` });
  check('POST /order replay with the same Idempotency-Key returns the same order', replay.status === 200 && (replay.body as { id?: string }).id === body?.id, String(replay.status));
  const tooMany = await call('POST', `${gateway}/order`, { items: [{ productId, quantity: 4 }] }, { authorization: `Bearer ${token}`, 'idempotency-key': `ct-${runId}-2` });
  check('POST /order beyond the stock is 409', tooMany.status === 409, String(tooMany.status));
  const cancelled = await call('POST', `${gateway}/order/${body?.id ?? ''}/cancel`, undefined, { authorization: `Bearer ${token}` });
  check('POST /order/:id/cancel is 200 cancelled', cancelled.status === 200 && (cancelled.body as { status?: string }).status === 'cancelled', String(cancelled.status));
  const after = await call('GET', `${gateway}/product/${productId}`);
  check('the stock is back after the cancel', (after.body as { stock?: number }).stock === 5, JSON.stringify(after.body).slice(0, 200));
}

/**
 * SIGTERM drains: requests accepted before `docker stop` all complete with
 * 2xx, and the container exits 0 by itself before Docker's kill timeout.
 * Logins are the slow requests here (argon2id), so many are still in flight
 * when the signal arrives.
 */
async function drainTest(t: Target, base: string, name: string): Promise<void> {
  const email = `drain-${runId}-${Date.now()}@example.com`;
  const password = 'correct horse battery staple';
  await call('POST', `${base}/user/register`, { email, password, name: 'Drain' });
  const total = 24;
  let answered = 0;
  let stopSent = false;
  let drainedAfterStop = 0;
  const requests = Array.from({ length: total }, () =>
    call('POST', `${base}/user/login`, { email, password }, {}, 30_000).then(
      (r) => {
        answered++;
        if (stopSent && r.status >= 200 && r.status < 300) drainedAfterStop++;
        return r.status;
      },
      (e: Error) => `error ${e.message}`,
    ),
  );
  // Wait until the server has read every request (its http_server_active_requests
  // plus those already answered make the total): each is then in its hands, and a
  // CPU-limited container may take a while to read them all.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const metrics = await call('GET', `${base}/metrics`).catch(() => ({ status: 0, body: '' }));
    const active = String(metrics.body)
      .split('\n')
      .filter((line) => line.startsWith('http_server_active_requests{'))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    if (active + answered >= total || Date.now() > deadline) break;
    await sleep(20);
  }
  const inFlight = total - answered;
  const t1 = performance.now();
  stopSent = true;
  const stopped = new Promise<number>((resolve) => {
    const child = spawn('docker', ['stop', '-t', '20', name], { stdio: 'ignore' });
    child.on('exit', () => resolve((performance.now() - t1) / 1000));
  });
  const statuses = await Promise.all(requests);
  const seconds = await stopped;
  const ok = statuses.filter((s) => typeof s === 'number' && s >= 200 && s < 300).length;
  const summary = [...new Set(statuses.map(String))].map((s) => `${s} x${statuses.filter((x) => String(x) === s).length}`).join(', ');
  // Not vacuous: enough requests must still have been open when SIGTERM was sent.
  check(`${t}: requests were in flight at docker stop`, inFlight >= 4, `${inFlight} of ${total} unanswered`);
  // Drained: every request the server had read when the signal came finishes with 2xx.
  check(`${t}: docker stop drains them, all ${total} 2xx`, ok === total && drainedAfterStop >= 4, `${drainedAfterStop} answered 2xx after the signal; ${summary}`);
  const code = docker(['inspect', '-f', '{{.State.ExitCode}}', name]);
  check(`${t}: exits 0 after the drain, before the kill timeout`, code === '0' && seconds < 20, `exit ${code} after ${seconds.toFixed(1)} s`);
  const refused = await call('GET', `${base}/livez`, undefined, {}, 2000).then(() => false, () => true);
  check(`${t}: no longer accepts connections after stop`, refused);
}

/** The Deployment's HTTP probes of a target: [probe kind, path]. */
function probesOf(t: Target): [string, string][] {
  const c = containerOf(t)?.container;
  if (!c) return [['livez', '/livez'], ['readyz', '/readyz']];
  return (['startupProbe', 'readinessProbe', 'livenessProbe'] as const).flatMap((kind): [string, string][] => {
    const path = c[kind]?.httpGet?.path;
    return path ? [[kind, path]] : [];
  });
}

interface RawReply {
  status: number;
  headers: Headers;
  text: string;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<RawReply> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, headers: res.headers, text: await res.text() };
  } catch (error) {
    return { status: 0, headers: new Headers(), text: (error as Error).message };
  }
}

/**
 * The single-page app as a browser gets it: index.html (not cached, with the
 * strict CSP, no inline script the CSP would block) at `/` and at client routes,
 * its hashed entry script cached for a year as immutable and precompressed,
 * 304 on revalidation, 404 (not index.html) for an unknown asset, nothing
 * outside the app's folder. Returns index.html's text.
 */
async function appChecks(t: Target, base: string): Promise<string> {
  const index = await get(`${base}/`, { 'accept-encoding': 'br, gzip' });
  const csp = index.headers.get('content-security-policy') ?? '';
  const directives = ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"];
  check(`${t}: GET / is index.html, not cached`, index.status === 200 && (index.headers.get('content-type') ?? '').startsWith('text/html') && index.text.includes('<div id="root">') && index.headers.get('cache-control') === 'no-cache',
    `${index.status} ${index.headers.get('content-type')} cache-control ${index.headers.get('cache-control')}`);
  check(`${t}: GET / carries the strict CSP (self only, no unsafe-*)`, directives.every((d) => csp.split(/;\s*/).includes(d)) && !csp.includes('unsafe-'), csp || 'no content-security-policy header');
  const scripts = [...index.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  check(`${t}: index.html has no inline script (script-src 'self')`, scripts.length > 0 && scripts.every((m) => /\bsrc="/.test(m[1] ?? '') && (m[2] ?? '').trim() === ''), `${scripts.length} script tags`);
  const entry = /<script\b[^>]*\bsrc="(\/assets\/[^"]+\.js)"/.exec(index.text)?.[1];
  check(`${t}: index.html loads a hashed entry script`, entry !== undefined && /^\/assets\/[\w.-]+-[\w-]{8,}\.js$/.test(entry), String(entry));
  if (entry) {
    const asset = await get(`${base}${entry}`, { 'accept-encoding': 'br, gzip' });
    check(`${t}: ${entry} is cached for a year as immutable`,
      asset.status === 200 && asset.headers.get('cache-control') === 'public, max-age=31536000, immutable' && /javascript/.test(asset.headers.get('content-type') ?? '') && asset.text.length > 1000,
      `${asset.status} cache-control ${asset.headers.get('cache-control')} ${asset.headers.get('content-type')} ${asset.text.length} chars`);
    check(`${t}: ${entry} is sent precompressed (br)`, asset.headers.get('content-encoding') === 'br', String(asset.headers.get('content-encoding')));
    const etag = asset.headers.get('etag');
    // The same Accept-Encoding as the first request: the ETag belongs to the .br representation.
    const again = etag ? await get(`${base}${entry}`, { 'accept-encoding': 'br, gzip', 'if-none-match': etag }) : undefined;
    check(`${t}: ${entry} revalidates with 304`, again?.status === 304 && again.text === '', `etag ${etag} -> ${again?.status}`);
  }
  const route = await get(`${base}/orders/00000000-0000-0000-0000-000000000000`);
  check(`${t}: a client route (/orders/:id) answers index.html`, route.status === 200 && route.text === index.text && route.headers.get('content-security-policy') === csp, String(route.status));
  const unknown = await get(`${base}/assets/index-00000000.js`);
  check(`${t}: an unknown asset is 404, not index.html`, unknown.status === 404 && !unknown.text.includes('<div id="root">'), String(unknown.status));
  const escapes = await Promise.all(['/..%2fpackage.json', '/assets/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/%2e%2e/package.json'].map((p) => get(`${base}${p}`)));
  check(`${t}: nothing outside the app's folder is served`, escapes.every((r) => r.status >= 400 && r.status < 500 && !r.text.includes('"dependencies"') && !r.text.includes('"workspaces"')), escapes.map((r) => r.status).join(', '));
  return index.text;
}

function cleanup(): void {
  if (failed > 0) {
    for (const name of started) {
      try {
        console.error(`--- last log lines of ${name}:\n${execFileSync('docker', ['logs', '--tail', '15', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })}`);
      } catch {
        // Container never started.
      }
    }
  }
  for (const name of started) {
    try {
      if (process.env['KEEP_CONTAINERS'] !== '1') docker(['rm', '-f', name]);
    } catch {
      // Already gone.
    }
  }
  dropDatabase();
}

process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

try {
  await main();
} catch (error) {
  failed++;
  console.error(`FAIL containers test aborted: ${(error as Error).stack ?? String(error)}`);
} finally {
  cleanup();
  await embedded?.stop();
}
console.log(`containers: ${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
