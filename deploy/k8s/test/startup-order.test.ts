// Start-up order on Kubernetes, with the manifests' own scripts run against
// a real PostgreSQL (DATABASE_URL, a superuser): each service's init
// container waits, with a log line saying why, until PostgreSQL answers, its
// role can log in and its schema exists; then it lets the service start. The
// provisioning Job's script is idempotent, so GitOps tools may re-run it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataOf, loadManifests, podTemplate, type Container, type K8sObject } from '../src/manifests.js';

const objects = loadManifests().map((o) => o.object);
const find = (kind: string, name: string): K8sObject => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `no ${kind}/${name}`);
  return o;
};
// The storefront serves static files and has no database: not a service here.
const serviceDeployments = objects.filter((o) => o.kind === 'Deployment' && o.metadata.name !== 'storefront' && podTemplate(o)?.spec.containers.some((c) => c.image.startsWith('ecommerce/')));

/** A container's env with Secret, ConfigMap and $(VAR) references resolved, as the kubelet would. */
function envOf(c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const s = e.valueFrom?.secretKeyRef;
    const m = e.valueFrom?.configMapKeyRef;
    if (s) env[e.name] = dataOf(find('Secret', s.name))[s.key] ?? '';
    else if (m) env[e.name] = dataOf(find('ConfigMap', m.name))[m.key] ?? '';
    else env[e.name] = (e.value ?? '').replace(/\$\(([A-Z0-9_]+)\)/g, (_, n: string) => env[n] ?? '');
  }
  return env;
}

test('PostgreSQL has a startup probe long enough for crash recovery; liveness waits for it', () => {
  const postgres = find('StatefulSet', 'postgres');
  const c = podTemplate(postgres)?.spec.containers[0] as Container & {
    startupProbe?: { periodSeconds?: number; failureThreshold?: number; exec?: { command: string[] } };
    livenessProbe?: { initialDelaySeconds?: number };
  };
  const startup = c.startupProbe;
  assert.ok(startup && startup.exec?.command.includes('pg_isready'), 'no pg_isready startup probe');
  const budget = (startup.periodSeconds ?? 10) * (startup.failureThreshold ?? 3);
  assert.ok(budget >= 600, `startup probe allows only ${budget}s`);
  assert.equal(c.livenessProbe?.initialDelaySeconds, undefined, 'the startup probe replaces the initial delay');
});

test('every service waits for its own database, role and schema in an init container before it starts', () => {
  assert.equal(serviceDeployments.length, 3);
  for (const d of serviceDeployments) {
    const spec = podTemplate(d)?.spec as NonNullable<ReturnType<typeof podTemplate>>['spec'] & { volumes: { name: string; configMap?: { name: string } }[] };
    const init = spec.initContainers?.find((c) => c.name === 'wait-for-database') as (Container & { command?: string[]; volumeMounts?: { name: string; mountPath: string }[] }) | undefined;
    assert.ok(init, `${d.metadata.name}: no wait-for-database init container`);
    const main = spec.containers[0] as Container;
    const mainEnv = envOf(main);
    const initEnv = envOf(init);
    const url = new URL(mainEnv['DATABASE_URL'] ?? '');
    // The same server, database, role and password as the service itself uses (its role and password
    // as PGUSER and PGPASSWORD, read by node-postgres since the URL carries none: database-credentials.test.ts).
    assert.equal(initEnv['PGHOST'], url.hostname, d.metadata.name);
    assert.equal(initEnv['PGPORT'], url.port);
    assert.equal(initEnv['PGDATABASE'], url.pathname.slice(1));
    assert.equal(url.username, '', `${d.metadata.name}: a role inside DATABASE_URL`);
    assert.equal(url.password, '', `${d.metadata.name}: a password inside DATABASE_URL`);
    assert.equal(initEnv['PGUSER'], mainEnv['PGUSER']);
    assert.equal(initEnv['PGPASSWORD'], mainEnv['PGPASSWORD']);
    assert.ok(mainEnv['PGPASSWORD'], `${d.metadata.name}: no PGPASSWORD`);
    assert.equal(initEnv['DB_SCHEMA'], mainEnv['DB_SCHEMA']);
    // It runs the ConfigMap's script, mounted where the command looks.
    const mount = init.volumeMounts?.find((m) => init.command?.some((arg) => arg.startsWith(`${m.mountPath}/`)));
    assert.ok(mount, `${d.metadata.name}: the script is not mounted`);
    assert.equal(spec.volumes.find((v) => v.name === mount.name)?.configMap?.name, 'wait-for-database');
    assert.ok(init.command?.includes(`${mount.mountPath}/wait-for-database.sh`));
  }
});

const superuser = process.env['DATABASE_URL'] ? new URL(process.env['DATABASE_URL']) : undefined;

function psql(database: string, sql: string): void {
  assert.ok(superuser);
  const result = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', database, '-c', sql], {
    encoding: 'utf8',
    env: { ...process.env, PGHOST: superuser.hostname, PGPORT: superuser.port || '5432', PGUSER: decodeURIComponent(superuser.username), PGPASSWORD: decodeURIComponent(superuser.password) },
  });
  assert.equal(result.status, 0, result.stderr);
}

/** Runs a manifest script with sh and collects its output; resolves when it exits. */
function run(script: string, env: Record<string, string>): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn('sh', ['-c', script], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

async function until(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the init container waits (and says why) until the provisioning Job has run, then lets the service start; the Job is idempotent', { skip: !superuser || spawnSync('psql', ['--version']).status !== 0 ? 'needs DATABASE_URL and psql' : false, timeout: 120_000 }, async () => {
  assert.ok(superuser);
  const suffix = randomBytes(4).toString('hex');
  const database = `k8s_startup_${suffix}`;
  const role = `wait_user_${suffix}`;
  const host = superuser.hostname;
  const port = superuser.port || '5432';
  const user = serviceDeployments.find((d) => d.metadata.name === 'user-service') as K8sObject;
  const init = podTemplate(user)?.spec.initContainers?.[0] as Container;
  const waitScript = dataOf(find('ConfigMap', 'wait-for-database'))['wait-for-database.sh'] ?? '';
  const provisionScript = dataOf(find('ConfigMap', 'postgres-provision'))['provision.sh'] ?? '';
  // The manifests' env, with only the cluster's host and names replaced by this machine's.
  const waitEnv: Record<string, string> = { ...envOf(init), PGHOST: host, PGPORT: port, PGDATABASE: database, PGUSER: role, WAIT_TIMEOUT_SECONDS: '90' };
  const db = (name: string): Record<string, string> => dataOf(find('Secret', name));
  const provisionEnv: Record<string, string> = {
    PGHOST: host, PGPORT: port, PGDATABASE: database,
    PGUSER: decodeURIComponent(superuser.username), PGPASSWORD: decodeURIComponent(superuser.password),
    USER_DB_HOST: host, USER_DB_USER: role, USER_DB_PASSWORD: db('user-service-db')['password'] ?? '',
    PRODUCT_DB_HOST: host, PRODUCT_DB_USER: `wait_product_${suffix}`, PRODUCT_DB_PASSWORD: db('product-service-db')['password'] ?? '',
    ORDER_DB_HOST: host, ORDER_DB_USER: `wait_order_${suffix}`, ORDER_DB_PASSWORD: db('order-service-db')['password'] ?? '',
    EXPORTER_DB_USER: `wait_exporter_${suffix}`, EXPORTER_DB_PASSWORD: db('postgres-exporter-db')['password'] ?? '',
  };
  const waiter = run(waitScript, waitEnv);
  try {
    // 1. Nothing exists yet: it waits, naming the reason, and does not exit.
    await until('a "waiting" line', () => /waiting for the database \(\d+s\): .*(does not exist|authentication failed)/.test(waiter.output()), 20_000);
    assert.equal(waiter.child.exitCode, null, waiter.output());
    // 2. The role exists but its schema not yet (the Job is half-way): still waiting.
    psql('postgres', `CREATE DATABASE ${database}`);
    psql('postgres', `CREATE ROLE ${role} LOGIN PASSWORD '${waitEnv['PGPASSWORD'] ?? ''}'`);
    await until('the missing-schema reason', () => waiter.output().includes('schema users is missing or not owned by'), 20_000);
    assert.equal(waiter.child.exitCode, null);
    // 3. The provisioning Job's script: then the waiter lets the service start.
    const first = run(provisionScript, provisionEnv);
    assert.equal(await first.exit, 0, first.output());
    assert.equal(await waiter.exit, 0, waiter.output());
    assert.match(waiter.output(), new RegExp(`database ready: role ${role} owns schema users in ${database}`));
    // 4. Re-run (what Argo CD / Flux / a re-created Job do): same result, no error.
    const second = run(provisionScript, provisionEnv);
    assert.equal(await second.exit, 0, second.output());
    const again = run(waitScript, waitEnv);
    assert.equal(await again.exit, 0, again.output());
    // 5. A setup that never becomes ready fails loudly after its timeout.
    const never = run(waitScript, { ...waitEnv, PGUSER: `nobody_${suffix}`, WAIT_TIMEOUT_SECONDS: '1' });
    assert.equal(await never.exit, 1);
    assert.match(never.output(), /gave up after \d+s: .*nobody_/);
  } finally {
    waiter.child.kill('SIGKILL');
    psql('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    for (const r of [role, `wait_product_${suffix}`, `wait_order_${suffix}`, `wait_exporter_${suffix}`]) psql('postgres', `DROP ROLE IF EXISTS ${r}`);
  }
});

test('the provisioning Job can be re-run by kubectl, Argo CD and Flux (it is idempotent: see the test above)', () => {
  const job = find('Job', 'postgres-provision');
  const annotations = job.metadata.annotations ?? {};
  // Argo CD: a Sync hook, deleted before each new run, so a sync never fails on the immutable template.
  assert.equal(annotations['argocd.argoproj.io/hook'], 'Sync');
  assert.equal(annotations['argocd.argoproj.io/hook-delete-policy'], 'BeforeHookCreation');
  // Flux: re-created when its template changes.
  assert.equal(annotations['kustomize.toolkit.fluxcd.io/force'], 'enabled');
  // kubectl: removed after it finished, so the next apply creates it again.
  const ttl = (job['spec'] as { ttlSecondsAfterFinished?: number }).ttlSecondsAfterFinished;
  assert.ok(ttl !== undefined && ttl > 0 && ttl <= 3600, `ttlSecondsAfterFinished ${ttl}`);
});

test('the init container checks a managed database\'s certificate against the system roots with verify-full (libpq has no root.crt there)', async () => {
  const waitScript = dataOf(find('ConfigMap', 'wait-for-database'))['wait-for-database.sh'] ?? '';
  // A psql that answers "ready" and reports what libpq would be given.
  const bin = mkdtempSync(join(tmpdir(), 'fake-psql-'));
  const report = join(bin, 'report');
  writeFileSync(join(bin, 'psql'), `#!/bin/sh\necho "sslrootcert=\${PGSSLROOTCERT:-unset}" > '${report}'\necho ready\n`, { mode: 0o755 });
  const env = { PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, PGHOST: 'db.example', PGPORT: '5432', PGDATABASE: 'ecommerce', PGUSER: 'user_service', DB_SCHEMA: 'users', WAIT_TIMEOUT_SECONDS: '5' };
  const rootcert = async (extra: Record<string, string>): Promise<string> => {
    const waiter = run(waitScript, { ...env, ...extra });
    assert.equal(await waiter.exit, 0, waiter.output());
    return /sslrootcert=(\S+)/.exec(readFileSync(report, 'utf8'))?.[1] ?? '';
  };
  try {
    assert.equal(await rootcert({ PGSSLMODE: 'verify-full' }), 'system');
    assert.equal(await rootcert({ PGSSLMODE: 'verify-full', PGSSLROOTCERT: '/etc/ssl/rds-ca.pem' }), '/etc/ssl/rds-ca.pem', 'a private CA bundle wins');
    // libpq 16+ refuses sslrootcert=system with any weaker mode: left alone.
    for (const mode of ['disable', 'require', 'verify-ca']) assert.equal(await rootcert({ PGSSLMODE: mode }), 'unset', mode);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});
