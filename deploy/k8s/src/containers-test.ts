// Containers for real (scripts/containers-test.sh runs this after building the
// base image): build every service image from deploy/docker/Dockerfile, run
// each one as Kubernetes would (non-root, read-only root filesystem, a tmpfs
// at /tmp, the env and limits of its Deployment), against a fresh database on
// the local PostgreSQL provisioned by the same script as the cluster's Job,
// then smoke-test the API through the gateway container and check that
// `docker stop` drains in-flight requests.
//
// Only loopback is used: --network host, every service bound to 127.0.0.1.
// Only the containers this run started are stopped or removed.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dataOf, loadManifests, podTemplate, repoRoot, type Container, type K8sObject } from './manifests.js';

const baseImage = argValue('--base') ?? 'local/node:24';
const pgUrl = process.env['CONTAINERS_TEST_PG'] ?? (await localPostgres());
const runId = `ct${process.pid}`;
const tag = 'ct';
const allTargets = ['user', 'product', 'order', 'gateway'] as const;
type Target = (typeof allTargets)[number];
const defaultPorts: Record<Target, number> = { user: 3001, product: 3002, order: 3003, gateway: 8080 };

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
  embedded = await module.startEmbeddedPostgres({ dir: join(repoRoot, '.data', 'containers-test-postgres'), port: 54331 });
  console.log('[containers] no PostgreSQL on 127.0.0.1:5432: started the embedded one on 54331');
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

function containerOf(target: Target): { container: Container; labels: Record<string, string> } | undefined {
  const deployment = objects.find((o) => o.kind === 'Deployment' && podTemplate(o)?.spec.containers.some((c) => c.image.startsWith(`ecommerce/${target}:`)));
  const template = deployment ? podTemplate(deployment) : undefined;
  const container = template?.spec.containers[0];
  return container ? { container, labels: template?.metadata?.labels ?? {} } : undefined;
}

function resolveEnv(container: Container, labels: Record<string, string>, overrides: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    let value: string;
    if (e.valueFrom?.secretKeyRef) value = dataOf(find('Secret', e.valueFrom.secretKeyRef.name))[e.valueFrom.secretKeyRef.key] ?? '';
    else if (e.valueFrom?.configMapKeyRef) value = dataOf(find('ConfigMap', e.valueFrom.configMapKeyRef.name))[e.valueFrom.configMapKeyRef.key] ?? '';
    else if (e.valueFrom?.fieldRef) {
      const m = /^metadata\.labels\['(.+)'\]$/.exec(e.valueFrom.fieldRef.fieldPath);
      value = m ? labels[m[1] ?? ''] ?? '' : '';
    } else value = (e.value ?? '').replace(/\$\(([A-Z0-9_]+)\)/g, (_, name: string) => env[name] ?? '');
    env[e.name] = overrides[e.name] ?? value;
  }
  return env;
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
  // The services that exist so far (all four once the platform is complete).
  const targets = allTargets.filter((t) => existsSync(join(repoRoot, 'services', t, 'src/main.ts')));
  const missing = allTargets.filter((t) => !targets.includes(t));
  if (missing.length > 0) log(`not built (no services/<name>/src/main.ts yet): ${missing.join(', ')}`);
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
      docker(['build', '--network', 'host', '--build-arg', `NODE_IMAGE=${baseImage}`, '--build-arg', `SERVICES=${targets.join(' ')}`,
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
    const fromK8s = containerOf(t);
    if (fromK8s) {
      // Only what differs on a host network: listen on loopback (the host's
      // interfaces are shared), reach the database and peers on 127.0.0.1.
      const dbOverrides: Record<string, string> = t === 'gateway' ? {} : { DB_HOST: pg.hostname, DB_PORT: pg.port || '5432', DB_NAME: database, DB_USER: roles[t] };
      env = resolveEnv(fromK8s.container, fromK8s.labels, { HOST: '127.0.0.1', PORT: String(port(t)), ...dbOverrides, ...urls });
      flags = limitFlags(fromK8s.container);
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
      '--network', 'host', '--read-only', '--tmpfs', '/tmp:rw,noexec,nosuid,size=64m', '--user', '10001:10001',
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
    const inspect = JSON.parse(docker(['inspect', names[t] ?? ''])) as { Config: { User: string }; HostConfig: { ReadonlyRootfs: boolean } }[];
    check(`${t}: runs as 10001 with a read-only root`, inspect[0]?.Config.User === '10001:10001' && inspect[0]?.HostConfig.ReadonlyRootfs === true);
    // The gateway serves its metrics on METRICS_PORT (default 9464), not on its public port.
    const metricsPort = t === 'gateway' ? 9464 + offset : port(t);
    const metrics = await call('GET', `http://127.0.0.1:${metricsPort}/metrics`).catch(() => ({ status: 0, body: '' }));
    check(`${t}: /metrics exposes http_server_request_duration_seconds`, metrics.status === 200 && String(metrics.body).includes('http_server_request_duration_seconds'));
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
