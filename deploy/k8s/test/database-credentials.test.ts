// A database password may hold any character: one synced from a secret manager
// (External Secrets) can contain @ : / ? # % ' " or a space. Kubernetes pastes a
// $(VAR) value into another verbatim (it cannot percent-encode), so a role or
// password inside a URL breaks it. Here the dev overlay's workloads run with
// Secrets whose role names and passwords are full of such characters, their env
// built as the kubelet builds it, against a PostgreSQL that checks passwords
// (scram-sha-256; a private embedded server: the shared one may trust every
// local connection, where a wrong password would pass too):
//   the provisioning Job's script creates the roles; each service's init
//   container (psql) lets it start; the service's own database code (the kit's
//   config and Database, node-postgres) logs in as its role; postgres_exporter
//   (when installed) reports pg_up 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '@ecommerce/kit';
import { containerEnv, dataOf, devOverlay, podTemplate, renderKustomization, repoRoot, type Container, type EnvSource, type K8sObject } from '../src/manifests.js';

const PASSWORD = `p@ss:w/rd?#%' "x`;
/**
 * postgres_exporter (every release up to v0.20.1) splits its DSN on spaces to name the server
 * (parseFingerprint in cmd/postgres_exporter/util.go, exporter/util.go from v0.19), so whitespace in its role or
 * password fails it ("malformed dsn") however the DSN is given; fixed upstream after v0.20.1. Everything else goes.
 */
const EXPORTER_PASSWORD = PASSWORD.replace(' ', '');
const has = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;

/** Runs a shell script (a manifest's) with exactly this env (and PATH); resolves with its exit code and output. */
function run(script: string, env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; output: string }> {
  const child = spawn('sh', ['-c', script, 'sh', ...args], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

/**
 * What the service's process does with its env at start-up: the kit's config check, then its Database (node-postgres
 * pool, with the service's schema) runs one query. Prints the role, database and schema it got, or the error.
 */
const SERVICE_PROBE = `
const { Database, DatabaseEnv, Metrics, loadConfig } = await import(process.argv[1]);
try {
  const config = loadConfig(DatabaseEnv);
  const db = new Database({ url: config.DATABASE_URL, schema: process.env.DB_SCHEMA, poolMax: 1, applicationName: 'credentials-test', metrics: new Metrics('credentials-test', '0', { defaultMetrics: false }) });
  try {
    const { rows } = await db.query('whoami', 'SELECT current_user AS role, current_database() AS database, current_schema() AS schema');
    console.log(JSON.stringify(rows[0]));
  } finally {
    await db.close();
  }
} catch (err) {
  console.log(JSON.stringify({ error: String(err.message ?? err) }));
}
`;

function connectAsService(env: Record<string, string>): { role?: string; database?: string; schema?: string; error?: string } {
  const kit = import.meta.resolve('@ecommerce/kit');
  // Only the container's env: nothing of this process (its DATABASE_URL, PG*) leaks in.
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', SERVICE_PROBE, kit], { env, encoding: 'utf8', timeout: 30_000 });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as { role?: string; error?: string };
  } catch {
    return { error: `no answer (exit ${result.status}): ${result.stdout}${result.stderr}` };
  }
}

async function exporterReports(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const child = spawn('prometheus-postgres-exporter', [`--web.listen-address=127.0.0.1:${port}`], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  try {
    const deadline = Date.now() + 20_000;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
        last = /^pg_up .*$/m.exec(text)?.[0] ?? 'no pg_up';
        if (last === 'pg_up 1') return last;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return `${last}; exporter log: ${log.slice(-800)}`;
  } finally {
    child.kill('SIGTERM');
  }
}

test(`the services, their init containers and postgres_exporter log in with a role and password full of URL syntax (${PASSWORD})`, {
  skip: has('psql') ? false : 'psql is not installed',
  timeout: 180_000,
}, async (t) => {
  const { startEmbeddedPostgres } = (await import(pathToFileURL(join(repoRoot, 'scripts/embedded-db.js')).href)) as {
    startEmbeddedPostgres: (o: { dir: string; port: number }) => Promise<{ adminUrl: string; stop: () => Promise<void> }>;
  };
  // The server runs as the postgres user when this is root: its folder must be reachable.
  const tmp = mkdtempSync(join(tmpdir(), 'k8s-credentials-'));
  chmodSync(tmp, 0o755);
  const server = await startEmbeddedPostgres({ dir: join(tmp, 'data'), port: await freePort() });
  try {
    const admin = new URL(server.adminUrl);
    const suffix = randomBytes(3).toString('hex');
    const database = `creds_${suffix}`;
    const roleOf = (client: string): string => `${client} @:/?#%'"${suffix}`;
    const clients = { 'user-service-db': roleOf('user'), 'product-service-db': roleOf('product'), 'order-service-db': roleOf('order'), 'postgres-exporter-db': roleOf('exporter').replace(' ', '') };

    // The dev overlay, its database Secrets pointed at this server with those roles and the password.
    const objects = renderKustomization(devOverlay);
    const secrets = new Map(objects.filter((o) => o.kind === 'Secret').map((o) => [o.metadata.name, dataOf(o)]));
    for (const [name, role] of Object.entries(clients)) {
      const password = name === 'postgres-exporter-db' ? EXPORTER_PASSWORD : PASSWORD;
      secrets.set(name, { ...secrets.get(name), host: admin.hostname, port: admin.port, database, username: role, password, sslmode: 'disable' });
    }
    secrets.set('postgres-superuser', { username: admin.username, password: decodeURIComponent(admin.password) });
    const configMaps = new Map(objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, dataOf(o)]));
    const resolve = (source: EnvSource): string => {
      const ref = source.secretKeyRef ?? source.configMapKeyRef;
      const value = ref ? (source.secretKeyRef ? secrets : configMaps).get(ref.name)?.[ref.key] : undefined;
      assert.ok(value !== undefined, `${JSON.stringify(source)} resolves to nothing`);
      return value;
    };
    const find = (kind: string, name: string): K8sObject => {
      const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
      assert.ok(o, `no ${kind}/${name}`);
      return o;
    };
    const container = (workload: string, kind = 'Deployment', init = false): Container => {
      const spec = podTemplate(find(kind, workload))!.spec;
      const c = (init ? spec.initContainers : spec.containers)?.[0];
      assert.ok(c, `${workload}: no container`);
      return c;
    };
    const script = (configMap: string, key: string): string => configMaps.get(configMap)?.[key] ?? '';

    // 1. The provisioning Job creates the roles with the password. Its server address is a literal in the Job.
    const jobEnv = { ...containerEnv(container('postgres-provision', 'Job'), resolve), PGHOST: admin.hostname, PGPORT: admin.port, PGDATABASE: database };
    const provision = await run(script('postgres-provision', 'provision.sh'), jobEnv);
    assert.equal(provision.code, 0, provision.output);
    try {
      // The server checks passwords: a wrong one is refused.
      const refused = connectAsService({ PGUSER: clients['user-service-db'], PGPASSWORD: 'wrong', DATABASE_URL: `postgres://${admin.host}/${database}`, DB_SCHEMA: 'users' });
      assert.match(refused.error ?? '', /password authentication failed/, JSON.stringify(refused));

      for (const [service, schema] of [['user', 'users'], ['product', 'catalog'], ['order', 'orders']] as const) {
        const role = clients[`${service}-service-db`];
        await t.test(`${service}-service`, async () => {
          // 2. Its init container (psql) sees the role own its schema.
          const waiter = await run(script('wait-for-database', 'wait-for-database.sh'), { ...containerEnv(container(`${service}-service`, 'Deployment', true), resolve), WAIT_TIMEOUT_SECONDS: '20' });
          assert.equal(waiter.code, 0, waiter.output);
          assert.match(waiter.output, /database ready/);
          // 3. The service itself.
          const env = containerEnv(container(`${service}-service`), resolve);
          assert.deepEqual(connectAsService(env), { role, database, schema }, `DATABASE_URL ${env['DATABASE_URL']}`);
        });
      }
      await t.test('postgres-exporter', { skip: has('prometheus-postgres-exporter') || process.env['MONITORING_TOOLS'] === 'required' ? false : 'prometheus-postgres-exporter is not installed (scripts/install-monitoring.sh)' }, async () => {
        // The Debian exporter (0.11) reads DATA_SOURCE_* with the same code as the image's v0.17.1 (getDataSources in
        // cmd/postgres_exporter/datasource.go: url.UserPassword escapes the role and password into the URL).
        assert.equal(await exporterReports(containerEnv(container('postgres-exporter'), resolve)), 'pg_up 1');
      });
    } finally {
      const roles = Object.values(clients);
      const drop = await run(`psql -X -q -v ON_ERROR_STOP=1 -d postgres -v db="$1" -v r1="$2" -v r2="$3" -v r3="$4" -v r4="$5" <<'SQL'
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
DROP ROLE IF EXISTS :"r1", :"r2", :"r3", :"r4";
SQL`, { ...jobEnv, PGOPTIONS: '-c client_min_messages=warning' }, [database, ...roles]);
      assert.equal(drop.code, 0, drop.output);
    }
  } finally {
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
});

// The user service's SERVICE_CLIENTS is JSON; Kubernetes pastes a $(VAR) value into another verbatim. A client secret
// from a secret manager (AWS's random passwords include " and \) pasted into that JSON broke it, and the user service
// refused to start. The manifest names the variable instead (secretEnv); the user service's own config code reads it.
test('any order-service client secret reaches the user service intact through the manifests\' env (quotes, backslashes, $)', async () => {
  const fc = (await import('fast-check')).default;
  const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(join(repoRoot, file)).href)) as T;
  const { loadUserConfig } = await load<{ loadUserConfig(env: Record<string, string>): { SERVICE_CLIENTS?: string } }>('services/user/dist/src/config.js');
  const { parseServiceClients } = await load<{ parseServiceClients(inline?: string, file?: string): { id: string; secret: string }[] }>('services/user/dist/src/model/service-client.js');
  const objects = renderKustomization(devOverlay);
  const secrets = new Map(objects.filter((o) => o.kind === 'Secret').map((o) => [o.metadata.name, dataOf(o)]));
  const configMaps = new Map(objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, dataOf(o)]));
  const mainContainer = (name: string): Container => {
    const o = objects.find((x) => x.kind === 'Deployment' && x.metadata.name === name);
    const c = o && podTemplate(o)?.spec.containers[0];
    assert.ok(c, name);
    return c;
  };
  const examples = ['a"b\\c$(HOME)d\'e%f g{h}[i]', '\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\', '"'.repeat(20)];
  fc.assert(
    fc.property(fc.oneof(fc.constantFrom(...examples), fc.string({ minLength: 16, maxLength: 64 }).filter((s) => !s.includes('\u0000'))), (clientSecret) => {
      const resolve = (source: EnvSource): string => {
        const ref = source.secretKeyRef ?? source.configMapKeyRef;
        const data = source.secretKeyRef ? secrets.get(ref?.name ?? '') : configMaps.get(ref?.name ?? '');
        const value = source.secretKeyRef?.name === 'order-service-client' && ref?.key === 'client-secret' ? clientSecret : data?.[ref?.key ?? ''];
        assert.ok(value !== undefined, JSON.stringify(source));
        return value;
      };
      const user = containerEnv(mainContainer('user-service'), resolve);
      const order = containerEnv(mainContainer('order-service'), resolve);
      const clients = parseServiceClients(loadUserConfig(user).SERVICE_CLIENTS, undefined);
      assert.equal(clients.find((c) => c.id === order['SERVICE_CLIENT_ID'])?.secret, order['SERVICE_CLIENT_SECRET']);
      assert.equal(order['SERVICE_CLIENT_SECRET'], clientSecret);
    }),
    { numRuns: 50 },
  );
});
