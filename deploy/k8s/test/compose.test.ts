// deploy/docker/compose.yaml cannot be started here (no image registry), so it
// is checked for what would break it: references, mounts, targets, ports, and
// agreement with the Kubernetes manifests and the monitoring files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { dataOf, loadManifests, parseYaml, podTemplate, repoRoot, type K8sObject } from '../src/manifests.js';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; target: string };
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval?: string; retries?: number; start_period?: string };
  secrets?: string[];
  ports?: string[];
}
interface Compose {
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
}

const dockerDir = join(repoRoot, 'deploy/docker');
const compose = parseYaml(readFileSync(join(dockerDir, 'compose.yaml'), 'utf8'))[0] as Compose;
const services = compose.services;
const dockerfile = readFileSync(join(dockerDir, 'Dockerfile'), 'utf8');
const objects = loadManifests().map((o) => o.object);
const secret = (name: string): Record<string, string> => dataOf(objects.find((o) => o.kind === 'Secret' && o.metadata.name === name) as K8sObject);
/** The default of a `${VAR:-default}` value, as compose would use it without an .env file. */
const withDefaults = (value: string): string => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');

test('compose: the platform services are built from the Dockerfile targets', () => {
  for (const [name, target] of [['user-service', 'user'], ['product-service', 'product'], ['order-service', 'order'], ['gateway', 'gateway']] as const) {
    const svc = services[name];
    assert.ok(svc, name);
    assert.equal(svc.build?.target, target);
    assert.equal(resolve(dockerDir, svc.build?.context ?? ''), repoRoot);
    assert.ok(existsSync(join(repoRoot, svc.build?.dockerfile ?? '')));
    assert.match(dockerfile, new RegExp(`^FROM runtime AS ${target}$`, 'm'));
    assert.equal(svc.image, `ecommerce/${target}:0.1.0`);
    const stage = dockerfile.split(/^FROM /m).find((s) => s.startsWith(`runtime AS ${target}`)) ?? '';
    assert.equal(svc.environment?.['PORT'], /^EXPOSE (\d+)/m.exec(stage)?.[1], `${name}: PORT and EXPOSE differ`);
  }
});

test('compose and Kubernetes run the same version of every image both use (ours after the kustomization\'s images: tags)', () => {
  const versions = new Map<string, Set<string>>();
  const add = (image: string, where: string): void => {
    const [, repository = image, tag = 'latest'] = /^(.*?)(?::([\w][\w.-]*))?(?:@sha256:[0-9a-f]+)?$/.exec(image) ?? [];
    versions.set(repository, new Set([...(versions.get(repository) ?? []), `${tag} (${where})`]));
  };
  for (const o of objects) {
    const spec = podTemplate(o)?.spec;
    for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) add(c.image, 'kubernetes');
  }
  for (const svc of Object.values(services)) if (svc.image) add(svc.image, 'compose');
  const shared = [...versions].filter(([, tags]) => [...tags].some((t) => t.endsWith('(kubernetes)')) && [...tags].some((t) => t.endsWith('(compose)')));
  assert.ok(shared.length >= 10, `only ${shared.length} images in both`);
  for (const [repository, tags] of shared) {
    const distinct = new Set([...tags].map((t) => t.split(' ')[0]));
    assert.equal(distinct.size, 1, `${repository}: ${[...tags].join(', ')}`);
  }
});

test('compose: depends_on names existing services, and service_healthy waits only on services with a healthcheck', () => {
  const imageHealthcheck = /^HEALTHCHECK /m.test(dockerfile);
  for (const [name, svc] of Object.entries(services)) {
    for (const [dep, { condition }] of Object.entries(svc.depends_on ?? {})) {
      const target = services[dep];
      assert.ok(target, `${name} depends on unknown ${dep}`);
      assert.ok(['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition));
      if (condition === 'service_healthy') {
        assert.ok(target.healthcheck || (target.build && imageHealthcheck), `${name} waits for ${dep}, which has no healthcheck`);
      }
    }
  }
});

test("compose: a healthcheck that others wait on (service_healthy) gives a start as long as the component's Kubernetes startup probe", async () => {
  // Compose's and Docker's durations here (`5s`, `15m`, `120s`) are Prometheus durations too: the monitoring package's reader.
  const { parseDuration } = (await import(pathToFileURL(join(repoRoot, 'deploy/monitoring/dist/src/duration.js')).href)) as { parseDuration(text: string): number };
  const durationSeconds = (text: string): number => parseDuration(text) / 1000;
  // Until unhealthy: the start period, then `retries` failed checks `interval` apart (Docker's defaults: 0, 3, 30 s).
  // PostgreSQL had 100 s against the cluster's 15 minutes of crash recovery, the services 50 s against the 2 minutes
  // their migrations get: past that, compose failed every service waiting on it ("dependency failed to start").
  const image = /^HEALTHCHECK (.*) \\$/m.exec(dockerfile)?.[1] ?? '';
  const flag = (name: string, dflt: string) => new RegExp(`--${name}=(\\S+)`).exec(image)?.[1] ?? dflt;
  const budget = (svc: ComposeService): number => {
    const h = svc.healthcheck ?? { test: [], interval: flag('interval', '30s'), retries: Number(flag('retries', '3')), start_period: flag('start-period', '0s') };
    return durationSeconds(h.start_period ?? '0s') + durationSeconds(h.interval ?? '30s') * (h.retries ?? 3);
  };
  const startup = new Map<string, number>();
  for (const o of objects) {
    for (const c of podTemplate(o)?.spec?.containers ?? []) {
      const p = c.startupProbe;
      if (p) startup.set(c.name, (p.initialDelaySeconds ?? 0) + (p.periodSeconds ?? 10) * (p.failureThreshold ?? 3));
    }
  }
  const waitedOn = new Set(Object.values(services).flatMap((svc) => Object.entries(svc.depends_on ?? {}).filter(([, d]) => d.condition === 'service_healthy').map(([dep]) => dep)));
  let compared = 0;
  for (const name of waitedOn) {
    const k8s = startup.get(name.replace(/-service$/, ''));
    if (k8s === undefined) continue;
    compared++;
    assert.ok(budget(services[name]!) >= k8s, `${name}: unhealthy after ${budget(services[name]!)} s in compose, ${k8s} s allowed by its startup probe`);
  }
  assert.ok(compared >= 4, `only ${compared} compared`);
});

// The HEALTHCHECK is a process Docker starts in the container every 10 s, with the container's environment: the
// image's NODE_OPTIONS (its --import preload) and, under compose, OTEL_EXPORTER_OTLP_ENDPOINT. Run as a service, the
// preload started the whole tracing SDK in each check: 0.58 s of CPU instead of 0.16 s, +20 MB, and 0.4-2.9 s of wall
// time on a loaded 2-core machine against the check's 3 s timeout (an unhealthy service holds back compose's
// service_healthy dependants). The check must ask /readyz and nothing else.
test("the image's HEALTHCHECK asks /readyz without running the preload of the image's NODE_OPTIONS", async () => {
  const command = /^HEALTHCHECK [^\n]*\\\n\s+CMD (\[.*\])$/m.exec(dockerfile)?.[1];
  assert.ok(command, 'no exec-form HEALTHCHECK CMD');
  const argv = JSON.parse(command) as string[];
  const imageNodeOptions = /^\s+NODE_OPTIONS="([^"]*)"/m.exec(dockerfile)?.[1] ?? '';
  assert.match(imageNodeOptions, /--import=\/app\/packages\/telemetry\/dist\/src\/register\.js/, 'the image preloads the tracing module');
  const dir = mkdtempSync(join(tmpdir(), 'healthcheck-'));
  const marker = join(dir, 'preloaded');
  const probe = join(dir, 'preload.mjs');
  writeFileSync(probe, `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(marker)}, 'loaded\\n');\n`);
  // The image's NODE_OPTIONS, with its preload swapped for one that leaves a mark when it runs.
  const nodeOptions = imageNodeOptions.replace(/--import=\S+/, `--import=${pathToFileURL(probe).href}`);
  let status = 200;
  const server = createServer((request, response) => {
    response.statusCode = request.url === '/readyz' ? status : 404;
    response.end();
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const port = (server.address() as AddressInfo).port;
  const check = (): Promise<number> =>
    new Promise((done) => {
      execFile(argv[0] ?? '', argv.slice(1), { env: { PATH: process.env.PATH, NODE_OPTIONS: nodeOptions, PORT: String(port) }, timeout: 20_000 }, (error) =>
        done(error ? Number((error as { code?: unknown }).code ?? -1) : 0),
      );
    });
  try {
    assert.equal(await check(), 0, 'healthy when /readyz answers 200');
    status = 503;
    assert.equal(await check(), 1, 'unhealthy when /readyz answers 503');
    assert.equal(existsSync(marker), false, `the check ran the preload (${argv.join(' ')})`);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compose: every bind mount and secret file exists in the repo', () => {
  for (const [name, svc] of Object.entries(services)) {
    for (const volume of svc.volumes ?? []) {
      const source = volume.split(':')[0] ?? '';
      if (!source.startsWith('.')) {
        assert.ok(source in compose.volumes, `${name}: undeclared volume ${source}`);
        continue;
      }
      assert.ok(existsSync(resolve(dockerDir, source)), `${name}: ${source} does not exist`);
    }
    for (const s of svc.secrets ?? []) assert.ok(compose.secrets[s], `${name}: undeclared secret ${s}`);
  }
  // With .env's overrides unset (a fresh checkout): a secret's file may be ${VAR:-default}.
  for (const { file } of Object.values(compose.secrets)) assert.ok(existsSync(resolve(dockerDir, withDefaults(file))), file);
});

test('compose provisions PostgreSQL with the same script as the Kubernetes Job', () => {
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'postgres-provision') as K8sObject;
  assert.equal(readFileSync(join(dockerDir, 'postgres-provision.sh'), 'utf8'), dataOf(configMap)['provision.sh']);
});

test('compose development credentials agree with each other and with the Kubernetes Secrets', () => {
  const env = (svc: string): Record<string, string> => Object.fromEntries(Object.entries(services[svc]?.environment ?? {}).map(([k, v]) => [k, withDefaults(String(v))]));
  const provision = env('postgres-provision');
  for (const [svc, prefix, k8sSecret] of [['user-service', 'USER', 'user-service-db'], ['product-service', 'PRODUCT', 'product-service-db'], ['order-service', 'ORDER', 'order-service-db']] as const) {
    // Role and password outside the URL (PGUSER, PGPASSWORD), so that any .env password works.
    const url = new URL(env(svc)['DATABASE_URL'] ?? '');
    assert.equal(url.username + url.password, '', `${svc}: credentials inside DATABASE_URL`);
    assert.equal(env(svc)['PGUSER'], provision[`${prefix}_DB_USER`], `${svc}: role`);
    assert.equal(env(svc)['PGPASSWORD'], provision[`${prefix}_DB_PASSWORD`], `${svc}: password`);
    assert.equal(env(svc)['PGPASSWORD'], secret(k8sSecret)['password'], `${svc}: differs from ${k8sSecret}`);
    assert.equal(env(svc)['PGUSER'], secret(k8sSecret)['username']);
    // An .env password reaches the service unchanged: compose copies the value, and node-postgres reads it.
    const raw = String(services[svc]?.environment?.['PGPASSWORD']);
    assert.equal(raw, `\${${prefix}_DB_PASSWORD:-${provision[`${prefix}_DB_PASSWORD`]}}`);
  }
  const order = env('order-service');
  assert.equal(order['SERVICE_CLIENT_SECRET'], secret('order-service-client')['client-secret']);
  assert.equal(readFileSync(join(dockerDir, 'dev-secrets/jwt-private-key.pem'), 'utf8'), secret('user-service-jwt')['private-key.pem']);
  // postgres_exporter escapes DATA_SOURCE_USER and DATA_SOURCE_PASS into its URL itself.
  const exporter = env('postgres-exporter');
  assert.equal(exporter['DATA_SOURCE_NAME'], undefined, 'DATA_SOURCE_NAME wins over DATA_SOURCE_URI');
  assert.equal(exporter['DATA_SOURCE_USER'], provision['EXPORTER_DB_USER']);
  assert.equal(exporter['DATA_SOURCE_PASS'], provision['EXPORTER_DB_PASSWORD']);
  assert.match(exporter['DATA_SOURCE_URI'] ?? '', /^postgres:5432\/ecommerce\?/);
});

// docs/deploy.md tells to override ORDER_CLIENT_SECRET in .env. The user service read its client list from
// dev-secrets/service-clients.json, which kept the default: the order service then sent a secret the user service
// did not know, got no service token, and no order could be placed.
test('compose: an ORDER_CLIENT_SECRET from .env is the order client\'s secret at the user service too (its real config code)', async () => {
  const { loadUserConfig } = (await import(pathToFileURL(join(repoRoot, 'services/user/dist/src/config.js')).href)) as { loadUserConfig(env: Record<string, string>): { SERVICE_CLIENTS?: string; SERVICE_CLIENTS_FILE?: string } };
  const { parseServiceClients } = (await import(pathToFileURL(join(repoRoot, 'services/user/dist/src/model/service-client.js')).href)) as { parseServiceClients(inline?: string, file?: string): { id: string; secret: string }[] };
  const fromDotEnv = 'from-.env "quoted" \\ and $dollars';
  // Compose's interpolation with ORDER_CLIENT_SECRET set (other variables at their defaults); secrets mounted where the file says.
  const env = (svc: string): Record<string, string> => Object.fromEntries(Object.entries(services[svc]?.environment ?? {}).map(([k, v]) => [k, withDefaults(String(v).replace(/\$\{ORDER_CLIENT_SECRET:-[^}]*\}/g, fromDotEnv))]));
  const user = env('user-service');
  const mounted = (path: string | undefined): string | undefined => {
    const name = path?.startsWith('/run/secrets/') ? path.slice('/run/secrets/'.length) : undefined;
    return name && compose.secrets[name] ? resolve(dockerDir, withDefaults(compose.secrets[name].file)) : path;
  };
  const config = loadUserConfig({ ...user, DATABASE_URL: 'postgres://127.0.0.1:5432/ecommerce' });
  const clients = parseServiceClients(config.SERVICE_CLIENTS, mounted(config.SERVICE_CLIENTS_FILE));
  const order = env('order-service');
  assert.equal(order['SERVICE_CLIENT_SECRET'], fromDotEnv);
  assert.equal(clients.find((c) => c.id === order['SERVICE_CLIENT_ID'])?.secret, fromDotEnv);
});

test('compose: a monitoring container is configured from deploy/monitoring, beside the local and Kubernetes copies', () => {
  const monitoringDir = join(repoRoot, 'deploy/monitoring');
  const elsewhere: string[] = [];
  for (const name of ['prometheus', 'alertmanager', 'grafana', 'postgres-exporter', 'otel-collector']) {
    const svc = services[name];
    assert.ok(svc, `no ${name} in compose`);
    const files = (svc.volumes ?? []).map((v) => v.split(':')[0] ?? '').filter((source) => source.startsWith('.'));
    for (const source of files) if (!resolve(dockerDir, source).startsWith(`${monitoringDir}/`)) elsewhere.push(`${name}: ${source}`);
  }
  assert.deepEqual(elsewhere, []);
});

test('compose Prometheus scrapes every platform service on its port and loads the repo rules', () => {
  const config = parseYaml(readFileSync(join(repoRoot, 'deploy/monitoring/prometheus/prometheus-compose.yml'), 'utf8'))[0] as { scrape_configs: { static_configs: { targets: string[] }[] }[]; rule_files: string[] };
  const targets = config.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets));
  for (const name of ['user-service', 'product-service', 'order-service']) {
    assert.ok(targets.includes(`${name}:${services[name]?.environment?.['PORT']}`), `${name} is not scraped`);
  }
  // The gateway's own metrics are on METRICS_PORT, off its public port.
  assert.ok(targets.includes(`gateway:${services['gateway']?.environment?.['METRICS_PORT']}`), 'gateway is not scraped');
  assert.ok(targets.includes('postgres-exporter:9187'));
  const mounts = services['prometheus']?.volumes ?? [];
  assert.ok(mounts.some((v) => v.startsWith('../monitoring/rules:/etc/prometheus/rules')));
  assert.deepEqual(config.rule_files, ['/etc/prometheus/rules/*.yml']);
});

test('compose published ports bind to 127.0.0.1 only', () => {
  for (const [name, svc] of Object.entries(services)) {
    for (const port of svc.ports ?? []) assert.match(port, /^127\.0\.0\.1:/, `${name} publishes ${port} on every interface`);
  }
});

/**
 * The installed Compose (`docker compose`, else docker-compose) as [command, prefix arguments]; undefined after
 * skipping `t` when there is none. CI installs it (.ci/run), so there a missing tool is a failure, not a skip.
 */
function installedCompose(t: { skip(message: string): void }): [string, string[]] | undefined {
  for (const [cmd, prefix] of [['docker', ['compose']], ['docker-compose', []]] as [string, string[]][]) {
    try {
      execFileSync(cmd, [...prefix, 'version'], { stdio: 'ignore' });
      return [cmd, prefix];
    } catch {
      continue;
    }
  }
  if (process.env.CI) throw new Error('neither `docker compose` nor docker-compose is installed (.ci/run installs docker-compose)');
  t.skip('neither `docker compose` nor docker-compose is installed');
  return undefined;
}

/** `compose config` of a copy of deploy/docker whose .env holds `env` (the real Compose, as the docs run it). */
function composeConfigWithEnv(compose: [string, string[]], env: string): string {
  const root = mkdtempSync(join(tmpdir(), 'compose-env-'));
  try {
    cpSync(dockerDir, join(root, 'deploy/docker'), { recursive: true });
    writeFileSync(join(root, 'deploy/docker/.env'), env);
    const [cmd, prefix] = compose;
    return execFileSync(cmd, [...prefix, '-p', 'ecommerce', '-f', 'deploy/docker/compose.yaml', 'config'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('compose config is accepted by Docker Compose (when installed)', (t) => {
  const compose = installedCompose(t);
  if (compose) execFileSync(compose[0], [...compose[1], '-f', join(dockerDir, 'compose.yaml'), 'config', '-q'], { stdio: ['ignore', 'pipe', 'pipe'] });
});

// Compose reads `.env` from the project directory, the folder of the first -f file, not the working directory:
// with `docker compose -f deploy/docker/compose.yaml` run from the repository root (every documented command), an
// .env at the root is silently ignored and the public development passwords stay in force.
test('docs/deploy.md names the .env that compose reads for the documented command, and git keeps it out', (t) => {
  const deployDoc = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
  const named = /\*\*`([^`]*\.env)`\*\*/.exec(deployDoc)?.[1];
  assert.ok(named, 'docs/deploy.md does not say where the .env for compose goes');
  assert.equal(resolve(repoRoot, dirname(named)), dockerDir, `${named} is not next to compose.yaml: compose would ignore it`);
  assert.match(readFileSync(join(dockerDir, 'compose.yaml'), 'utf8'), new RegExp(named.replace(/[.]/g, '\\.')));
  // A secrets file must never be committed by accident.
  execFileSync('git', ['check-ignore', '-q', named], { cwd: repoRoot });
  const compose = installedCompose(t);
  if (!compose) return;
  // The real Compose, run from a copy of the repository root as the docs run it, with an .env at the named path only.
  const out = composeConfigWithEnv(compose, 'POSTGRES_PASSWORD=from-the-documented-env\n');
  assert.match(out, /POSTGRES_PASSWORD: from-the-documented-env/, `compose did not read ${named}`);
});

/**
 * Every `docker compose` (or `docker-compose`) command a page shows, with the project and file it acts on, as Compose
 * finds them: without -f it looks for compose.yaml, compose.yml, docker-compose.yml or docker-compose.yaml in the
 * working directory and its parents only (compose-spec/compose-go cli/options.go WithDefaultConfigPath,
 * DefaultFileNames), so from the repository root it finds none ("no configuration file provided: not found"); and
 * without -p (and with no top-level `name:`) the project is the folder of that file (withNamePrecedenceLoad: "docker"
 * for deploy/docker), not the one the documented `up` started, so `logs`, `ps` or `exec` see no container of it.
 */
function composeCommands(files: Readonly<Record<string, string>>): { file: string; command: string }[] {
  const found: { file: string; command: string }[] = [];
  for (const [file, text] of Object.entries(files)) {
    for (const m of text.replace(/\\\n\s*/g, ' ').matchAll(/docker[ -]compose\b[^`\n]*/g)) found.push({ file, command: m[0].replace(/\s+#.*$/, '').trim() });
  }
  return found;
}

test('every docker compose command the docs show acts on the project the documented `up` starts (its -p and -f)', () => {
  const pages = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
    ...['deploy/docker', 'deploy/docker/dev-secrets', 'deploy/k8s', 'deploy/monitoring', 'scripts'].map((d) => `${d}/README.md`)];
  const files = Object.fromEntries(pages.map((f) => [f, readFileSync(join(repoRoot, f), 'utf8')]));
  const commands = composeCommands(files);
  const up = commands.find((c) => c.file === 'docs/deploy.md' && / up\b/.test(c.command));
  assert.ok(up, 'docs/deploy.md shows no `docker compose ... up`');
  const project = / -p (\S+)/.exec(up.command)?.[1];
  const composeFile = / -f (\S+)/.exec(up.command)?.[1];
  assert.equal(composeFile, 'deploy/docker/compose.yaml');
  assert.ok(project, `the documented up names no project: ${up.command}`);
  assert.ok(!/^name:/m.test(readFileSync(join(dockerDir, 'compose.yaml'), 'utf8')), 'compose.yaml names its project itself: revisit this check');
  const wrong = (list: { file: string; command: string }[]) => list
    .filter((c) => !c.command.includes(` -p ${project} `) || !c.command.includes(` -f ${composeFile} `))
    .map((c) => `${c.file}: ${c.command}`);
  assert.ok(commands.length >= 5, `found ${commands.length} compose commands`);
  assert.deepEqual(wrong(commands), []);
  // Not vacuous: the runbook's old form, and a prose `docker compose up`.
  assert.deepEqual(wrong(composeCommands({ a: 'compose: `docker compose logs otel-collector`): "Exporting', b: 'so that a fresh `docker compose up` works' })), [
    'a: docker compose logs otel-collector',
    'b: docker compose up',
  ]);
});

// dev-secrets/README.md used to say "make your own signing key here", over the tracked development key that the
// test above requires to equal the Kubernetes development Secret: following it broke npm test and left git dirty.
// A key of one's own now lives outside the checkout and compose reads its path from JWT_SIGNING_KEY_FILE in .env.
test('compose reads the signing key from JWT_SIGNING_KEY_FILE in .env, as dev-secrets/README.md says', (t) => {
  const readme = readFileSync(join(dockerDir, 'dev-secrets/README.md'), 'utf8');
  assert.match(readme, /`JWT_SIGNING_KEY_FILE=\/[^`]+`/, 'dev-secrets/README.md does not say how compose finds a key of your own');
  assert.match(readme, /outside the checkout/);
  assert.doesNotMatch(readme, /make your own signing key here/);
  const compose = installedCompose(t);
  if (!compose) return;
  const own = '/srv/keys/own-jwt-private-key.pem';
  const secretFile = (config: string) => (parseYaml(config)[0] as { secrets: Record<string, { file: string }> }).secrets['jwt_private_key']?.file;
  assert.equal(secretFile(composeConfigWithEnv(compose, `JWT_SIGNING_KEY_FILE=${own}\n`)), own);
  // Unset: the tracked development key, so a fresh `up` still works.
  assert.match(secretFile(composeConfigWithEnv(compose, '')) ?? '', /\/deploy\/docker\/dev-secrets\/jwt-private-key\.pem$/);
});

// dev-secrets/README.md tells how to replace the development signing key. Compose bind-mounts a secret file into
// the container with its owner and mode (its uid/mode options need Swarm), and openssl writes a private key 0600
// for whoever runs it: the user service, uid 10001, then could not read it and exited (EACCES) with the stack.
test('a signing key made as dev-secrets/README.md says can be read by the user service under compose', (t) => {
  const readme = readFileSync(join(dockerDir, 'dev-secrets/README.md'), 'utf8');
  const commands = /```sh\n([\s\S]*?)```/.exec(readme)?.[1]?.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  assert.ok(commands?.some((c) => c.startsWith('openssl genpkey')), 'dev-secrets/README.md has no command block making the key');
  const svc = services['user-service'] as ComposeService & { user?: string; '<<'?: { user?: string } };
  const [uid, gid] = String(svc.user ?? svc['<<']?.user ?? '').split(':').map(Number);
  assert.ok(Number.isInteger(uid) && Number.isInteger(gid), 'user-service runs as a numeric uid:gid');
  assert.ok(svc.secrets?.includes('jwt_private_key'));
  if (spawnSync('openssl', ['version']).status !== 0) {
    t.skip('openssl is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'dev-secrets-'));
  // Only the file's own owner and mode count in the container (the bind mount hides the folders above it).
  chmodSync(dir, 0o755);
  try {
    // As a user's shell runs them, in the folder compose reads the file from (compose.yaml: ./dev-secrets/).
    execFileSync('sh', ['-ec', `umask 022\n${(commands ?? []).join('\n')}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const key = join(dir, 'jwt-private-key.pem');
    const { mode, uid: owner, gid: group } = statSync(key);
    const readable = (mode & 0o004) !== 0 || (owner === uid && (mode & 0o400) !== 0) || (group === gid && (mode & 0o040) !== 0);
    assert.ok(readable, `uid ${uid} cannot read a key of mode ${(mode & 0o777).toString(8)} owned by ${owner}:${group}`);
    // Where this test runs as root, read it for real as that uid.
    if (process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0) {
      const read = spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', 'cat', key], { encoding: 'utf8' });
      assert.match(read.stdout, /^-----BEGIN PRIVATE KEY-----/, read.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The postgres image reads POSTGRES_PASSWORD only when it initialises an empty data directory (the pgdata volume):
// a password put in .env after the first `up` (the docs' order: start, then override) leaves the server on the old
// one, and postgres-provision, which logs in with the new one, fails, so no service starts.
test('docs/deploy.md says POSTGRES_PASSWORD only counts on a new volume, and how to change it afterwards', () => {
  const doc = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
  const credentials = /^Credentials:[\s\S]*?\n\n/m.exec(doc)?.[0] ?? '';
  assert.match(credentials, /`POSTGRES_PASSWORD`/);
  const postgres = services['postgres'] as ComposeService & { volumes?: string[] };
  const volume = postgres.volumes?.find((v) => v.endsWith(':/var/lib/postgresql/data'))?.split(':')[0];
  assert.ok(volume && volume in compose.volumes, 'the PostgreSQL data is a named volume');
  assert.match(credentials, new RegExp(`\`POSTGRES_PASSWORD\` is read only when the \`${volume}\` volume is first\\s+created`));
  // The remedy is runnable: compose exec of the postgres service, psql over the socket, as the superuser.
  assert.match(credentials, /`docker compose -p ecommerce -f deploy\/docker\/compose\.yaml exec postgres psql -U postgres -c "ALTER USER postgres PASSWORD '[^']+'"`/);
  assert.equal(postgres.environment?.['POSTGRES_USER'], 'postgres');
  assert.match(credentials, /`down -v`/);
});

// Grafana creates its admin once, in its database on the `grafana` volume: GF_SECURITY_ADMIN_PASSWORD changed later
// is not applied, so the docs must not suggest that a new GRAFANA_ADMIN_PASSWORD logs in.
test('docs/deploy.md says GRAFANA_ADMIN_PASSWORD only counts on a new grafana volume', () => {
  const doc = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
  const grafana = services['grafana'] as ComposeService & { volumes?: string[] };
  const volume = grafana.volumes?.find((v) => v.endsWith(':/var/lib/grafana'))?.split(':')[0];
  assert.ok(volume && volume in compose.volumes, "Grafana's database is on a named volume");
  assert.match(String(grafana.environment?.['GF_SECURITY_ADMIN_PASSWORD']), /\$\{GRAFANA_ADMIN_PASSWORD:-/);
  assert.match(doc, new RegExp(`\\$GRAFANA_ADMIN_PASSWORD\`,\\s+default \`admin\`; like \`POSTGRES_PASSWORD\` below it counts only when its volume,\\s+\`${volume}\`, is new`));
});
