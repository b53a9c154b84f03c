// Grafana as each runtime starts it: the provisioning files expanded exactly
// as Grafana expands them (src/grafana-expand.ts, from Grafana's source) with
// the environment that runtime gives Grafana, and every datasource URL and
// dashboards path checked against what that runtime actually runs and mounts.
// The dashboards themselves are checked against Grafana's dashboard schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dataOf, parseYaml, podTemplate, renderKustomization, repoRoot, type K8sObject } from '../src/manifests.js';
import { expandProvisioning, goExpandEnv, grafanaInterpolate, type Env } from '../src/grafana-expand.js';
import { checkDashboardSchema } from '../src/dashboard-schema.js';

const monitoringDir = join(repoRoot, 'deploy/monitoring');
const dashboardsDir = join(monitoringDir, 'grafana/dashboards');
const dashboardFiles = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json')).sort();

/** What one runtime hands Grafana. */
interface Runtime {
  readonly name: string;
  readonly env: Env;
  /** Provisioning files by the directory Grafana reads them from, e.g. /etc/grafana/provisioning/datasources. */
  readonly provisioning: ReadonlyMap<string, readonly string[]>;
  /** Directories inside the container -> the dashboard file names found there. */
  readonly dashboardDirs: ReadonlyMap<string, readonly string[]>;
  /** Is there a network peer at host:port, as Grafana's container would resolve it? */
  serves(host: string, port: number): boolean;
}

function kubernetesRuntime(overlay: string): Runtime {
  const objects = renderKustomization(overlay);
  const find = (kind: string, name: string): K8sObject | undefined => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const grafana = find('Deployment', 'grafana');
  assert.ok(grafana, `${overlay}: no grafana Deployment`);
  const pod = podTemplate(grafana)?.spec as unknown as {
    containers: { name: string; env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[]; volumeMounts?: { name: string; mountPath: string }[] }[];
    volumes: { name: string; configMap?: { name: string }; projected?: { sources: { configMap?: { name: string } }[] } }[];
  };
  const container = pod.containers.find((c) => c.name === 'grafana');
  assert.ok(container);
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    // $(VAR) references are Kubernetes' own expansion; none are used here.
    if (e.value !== undefined) env[e.name] = e.value;
    const ref = e.valueFrom?.secretKeyRef;
    const secret = ref ? find('Secret', ref.name) : undefined;
    if (ref && secret) env[e.name] = dataOf(secret)[ref.key] ?? '';
  }
  const provisioning = new Map<string, string[]>();
  const dashboardDirs = new Map<string, string[]>();
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes.find((v) => v.name === mount.name);
    const maps = [volume?.configMap?.name, ...(volume?.projected?.sources ?? []).map((s) => s.configMap?.name)].filter((n): n is string => !!n);
    const files = maps.map((name) => find('ConfigMap', name)).filter((m): m is K8sObject => !!m).map((m) => dataOf(m));
    if (mount.mountPath.startsWith('/etc/grafana/provisioning/')) provisioning.set(mount.mountPath, files.flatMap((f) => Object.values(f)));
    dashboardDirs.set(mount.mountPath, files.flatMap((f) => Object.keys(f)));
  }
  return {
    name: `kubernetes (${overlay})`,
    env,
    provisioning,
    dashboardDirs,
    serves(host, port) {
      // Service DNS: <name>, <name>.<namespace>, <name>.<namespace>.svc[.cluster.local].
      const [name, namespace] = host.split('.');
      const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === name && (!namespace || o.metadata.namespace === namespace));
      return !!svc && (svc['spec'] as { ports: { port: number }[] }).ports.some((p) => p.port === port);
    },
  };
}

interface ComposeService {
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
}

/** Compose's own interpolation of a value, without an .env file: ${VAR:-default}, ${VAR-default}, ${VAR}, $$. */
function composeValue(value: string): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (whole, _name: string | undefined, fallback: string | undefined) =>
    whole === '$$' ? '$' : (fallback ?? ''),
  );
}

function composeRuntime(): Runtime {
  const dockerDir = join(repoRoot, 'deploy/docker');
  const compose = parseYaml(readFileSync(join(dockerDir, 'compose.yaml'), 'utf8'))[0] as { services: Record<string, ComposeService> };
  const grafana = compose.services['grafana'];
  assert.ok(grafana, 'compose: no grafana service');
  const env = Object.fromEntries(Object.entries(grafana.environment ?? {}).map(([k, v]) => [k, composeValue(String(v))]));
  const provisioning = new Map<string, string[]>();
  const dashboardDirs = new Map<string, string[]>();
  for (const volume of grafana.volumes ?? []) {
    const [source = '', target = ''] = volume.split(':');
    if (!source.startsWith('.')) continue;
    const host = resolve(dockerDir, source);
    const files = readdirSync(host, { withFileTypes: true });
    // A bind mount of one provisioning folder (datasources, dashboards), as the Kubernetes Deployment mounts them.
    if (target.startsWith('/etc/grafana/provisioning/')) {
      provisioning.set(target, files.filter((f) => f.isFile() && /\.(ya?ml|json)$/.test(f.name)).map((f) => readFileSync(join(host, f.name), 'utf8')));
    }
    // A bind mount of the whole provisioning folder: Grafana reads each subfolder.
    for (const dir of files.filter((f) => f.isDirectory())) {
      const inner = readdirSync(join(host, dir.name)).filter((f) => /\.(ya?ml|json)$/.test(f));
      provisioning.set(`${target}/${dir.name}`, inner.map((f) => readFileSync(join(host, dir.name, f), 'utf8')));
    }
    dashboardDirs.set(target, files.filter((f) => f.isFile()).map((f) => f.name));
  }
  return {
    name: 'compose',
    env,
    provisioning,
    dashboardDirs,
    serves(host, port) {
      const svc = compose.services[host];
      if (!svc) return false;
      const published = (svc.ports ?? []).map((p) => Number(p.split(':').at(-1)));
      const probed = (svc.healthcheck?.test ?? []).flatMap((t) => [...t.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])));
      return [...published, ...probed].includes(port);
    },
  };
}

interface Datasource {
  name: string;
  uid: string;
  type: string;
  url: string;
}
interface Provider {
  name: string;
  type: string;
  options: { path: string };
}

/** Everything that keeps Grafana from showing our dashboards in this runtime. */
function provisioningProblems(runtime: Runtime): string[] {
  const problems: string[] = [];
  const read = (dir: string): unknown[] =>
    (runtime.provisioning.get(`/etc/grafana/provisioning/${dir}`) ?? []).flatMap((text) => parseYaml(text).map((doc) => expandProvisioning(doc, { env: runtime.env })));
  const datasources = read('datasources').flatMap((doc) => (doc as { datasources?: Datasource[] }).datasources ?? []);
  const providers = read('dashboards').flatMap((doc) => (doc as { providers?: Provider[] }).providers ?? []);
  // The generated dashboards refer to these uids (deploy/monitoring/src/dashboards/common.ts).
  for (const uid of ['prometheus', 'alertmanager']) {
    if (!datasources.some((d) => d.uid === uid)) problems.push(`no datasource with uid ${uid}`);
  }
  for (const ds of datasources) {
    let url: URL;
    try {
      url = new URL(ds.url);
    } catch {
      problems.push(`datasource ${ds.name}: url ${JSON.stringify(ds.url)} is not a URL`);
      continue;
    }
    if (!/^https?:$/.test(url.protocol)) problems.push(`datasource ${ds.name}: ${ds.url} is not http(s)`);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    if (!runtime.serves(url.hostname, port)) problems.push(`datasource ${ds.name}: nothing serves ${url.hostname}:${port}`);
  }
  if (providers.length === 0) problems.push('no dashboard provider');
  for (const provider of providers) {
    const files = runtime.dashboardDirs.get(provider.options.path);
    if (!files) {
      problems.push(`provider ${provider.name}: path ${JSON.stringify(provider.options.path)} is not mounted`);
      continue;
    }
    const missing = dashboardFiles.filter((f) => !files.includes(f));
    if (missing.length > 0) problems.push(`provider ${provider.name}: ${provider.options.path} lacks ${missing.join(', ')}`);
  }
  return problems;
}

test("Grafana's expansion, reproduced: only $VAR and ${VAR}, the braces' whole text is the name, $$ is a literal $", () => {
  const env = { A: 'x', HOME_URL: 'http://h:1', 'A:-d': 'weird' };
  const cases: [string, string][] = [
    ['${A}', 'x'],
    ['$A/b', 'x/b'],
    ['$__env{A}', 'x'],
    // No shell defaults: the name is "HOME_URL:-http://d", which is unset.
    ['${HOME_URL:-http://d}', ''],
    ['${UNSET}', ''],
    ['$$A', '$A'],
    ['a$$b$$', 'a$b$'],
    ['${}', ''],
    ['cost: 5$', 'cost: 5$'],
    ['$-x', 'x'],
    ['$1x', 'x'],
    // An unclosed "${" is eaten, the rest stays.
    ['${A', 'A'],
  ];
  for (const [input, expected] of cases) assert.equal(grafanaInterpolate(input, { env }), expected, input);
  // The expander regex matched "A:-d" as a name: proof that it takes the braces' whole text.
  assert.equal(grafanaInterpolate('${A:-d}', { env }), 'weird');
  assert.equal(grafanaInterpolate('$__file{/secret}', { env, readFile: () => ' s3cret\n' }), 's3cret');
  assert.throws(() => grafanaInterpolate('$__vault{x}', { env }), /not reproduced/);
  assert.equal(goExpandEnv('${A}${A}$A', env), 'xxx');
});

for (const runtime of [kubernetesRuntime('deploy/k8s/overlays/dev'), kubernetesRuntime('deploy/k8s/overlays/production'), composeRuntime()]) {
  test(`${runtime.name}: every Grafana datasource URL reaches a running service and the dashboards path holds every dashboard`, () => {
    assert.ok(runtime.provisioning.has('/etc/grafana/provisioning/datasources'), 'datasources are not mounted where Grafana reads them');
    assert.ok(runtime.provisioning.has('/etc/grafana/provisioning/dashboards'), 'dashboard providers are not mounted where Grafana reads them');
    assert.deepEqual(provisioningProblems(runtime), []);
  });
}

// The image has its own empty provisioning folders besides ours (alerting, plugins, access-control): Grafana reads
// each at start and logs an error for one that is missing (pkg/services/provisioning/alerting reads
// <provisioning>/alerting). A mount over the whole folder hides them; one mount per folder of ours, as the
// Deployment has, keeps them.
for (const runtime of [kubernetesRuntime('deploy/k8s/overlays/dev'), composeRuntime()]) {
  test(`${runtime.name}: Grafana's provisioning folders are mounted one by one, the image's other folders kept`, () => {
    const over = [...runtime.dashboardDirs.keys()].filter((target) => /^\/etc\/grafana(\/provisioning)?\/?$/.test(target));
    assert.deepEqual(over, [], 'a mount over the whole provisioning folder hides the image\'s alerting and plugins folders');
    assert.deepEqual([...runtime.provisioning.keys()].sort(), ['/etc/grafana/provisioning/dashboards', '/etc/grafana/provisioning/datasources']);
  });
}

test("the check fails on the old `${VAR:-default}` syntax, with the variable set (Grafana leaves the url empty)", () => {
  const runtime = kubernetesRuntime('deploy/k8s/overlays/dev');
  assert.equal(runtime.env['PROMETHEUS_URL'], 'http://prometheus:9090');
  const dir = '/etc/grafana/provisioning/datasources';
  const old = (runtime.provisioning.get(dir) ?? []).map((text) => text.replace('${PROMETHEUS_URL}', '${PROMETHEUS_URL:-http://prometheus:9090}'));
  assert.notDeepEqual(old, runtime.provisioning.get(dir), 'the datasources file no longer reads ${PROMETHEUS_URL}');
  const problems = provisioningProblems({ ...runtime, provisioning: new Map([...runtime.provisioning, [dir, old]]) });
  assert.deepEqual(problems, ['datasource Prometheus: url "" is not a URL']);
  // And a path that is not mounted, or a Service that does not exist, is caught too.
  const wrongHost = (runtime.provisioning.get(dir) ?? []).map((text) => text.replace('${PROMETHEUS_URL}', 'http://prometheus-server:9090'));
  assert.match(provisioningProblems({ ...runtime, provisioning: new Map([...runtime.provisioning, [dir, wrongHost]]) }).join(), /nothing serves prometheus-server:9090/);
  const noEnv = provisioningProblems({ ...runtime, env: {} });
  assert.equal(noEnv.length, 2, noEnv.join('\n'));
});

test("every dashboard is valid against Grafana's dashboard schema (the foundation SDK's Dashboard type)", () => {
  assert.ok(dashboardFiles.length >= 5);
  const texts = Object.fromEntries(dashboardFiles.map((f) => [f, readFileSync(join(dashboardsDir, f), 'utf8')]));
  assert.deepEqual(checkDashboardSchema(texts), []);
  // What Grafana's provisioning refuses or silently drops: an empty title, a
  // uid over 40 characters, two files with one uid (only one is loaded).
  const uids = new Set<string>();
  for (const [file, text] of Object.entries(texts)) {
    const dashboard = JSON.parse(text) as { uid?: string; title?: string };
    assert.ok(dashboard.title?.trim(), `${file}: no title`);
    assert.ok(dashboard.uid && /^[A-Za-z0-9_-]{1,40}$/.test(dashboard.uid), `${file}: uid ${dashboard.uid}`);
    assert.ok(!uids.has(dashboard.uid), `${file}: uid ${dashboard.uid} is used twice`);
    uids.add(dashboard.uid);
  }
});

test('the dashboard schema check rejects what Grafana would refuse (so it is not vacuous)', () => {
  const base = JSON.parse(readFileSync(join(dashboardsDir, dashboardFiles[0] ?? ''), 'utf8')) as Record<string, unknown>;
  const broken: [string, (d: Record<string, unknown> & { panels: Record<string, unknown>[] }) => void, RegExp][] = [
    ['panels not a list', (d) => void (d['panels'] = { a: 1 } as never), /'"a"' does not exist/],
    ['schemaVersion a string', (d) => void (d['schemaVersion'] = '42'), /schemaVersion|number/],
    ['gridPos without h', (d) => void (d.panels[0] = { ...d.panels[0], gridPos: { w: 6, x: 0, y: 0 } }), /'h'|\bh\b/],
    ['a panel without type', (d) => void delete d.panels[0]?.['type'], /type/],
    ['an unknown threshold mode', (d) => void ((d.panels[0]?.['fieldConfig'] as { defaults: { thresholds: { mode: string } } }).defaults.thresholds.mode = 'absolut'), /absolut/],
    ['a misspelt field', (d) => void (d['titel'] = 'x'), /titel/],
    ['templating missing', (d) => void delete d['templating'], /templating/],
  ];
  // One program for all of them (each type-check costs seconds).
  const texts: Record<string, string> = {};
  for (const [what, mutate] of broken) {
    const dashboard = structuredClone(base) as Record<string, unknown> & { panels: Record<string, unknown>[] };
    mutate(dashboard);
    texts[what] = JSON.stringify(dashboard, null, 2);
  }
  const problems = checkDashboardSchema(texts);
  for (const [what, , message] of broken) {
    const mine = problems.filter((p) => p.file === what).map((p) => p.message);
    assert.ok(mine.length > 0, `${what}: accepted`);
    assert.match(mine.join('\n'), message, what);
  }
  assert.throws(() => checkDashboardSchema({ 'broken.json': '{"title": ' }), SyntaxError);
});

test('every datasource a dashboard names is one the provisioning creates (by uid and type)', () => {
  const runtime = kubernetesRuntime('deploy/k8s/overlays/dev');
  const provisioned = (runtime.provisioning.get('/etc/grafana/provisioning/datasources') ?? [])
    .flatMap((text) => parseYaml(text).flatMap((doc) => (doc as { datasources?: Datasource[] }).datasources ?? []));
  const byUid = new Map(provisioned.map((d) => [d.uid, d.type]));
  let refs = 0;
  const visit = (node: unknown, file: string): void => {
    if (Array.isArray(node)) return node.forEach((n) => visit(n, file));
    if (node === null || typeof node !== 'object') return;
    const ds = (node as { datasource?: unknown }).datasource;
    if (ds && typeof ds === 'object' && typeof (ds as { uid?: unknown }).uid === 'string') {
      const { uid, type } = ds as { uid: string; type?: string };
      // A template variable ("${ds}") or Grafana's built-in sources resolve at view time.
      if (!uid.startsWith('$') && !uid.startsWith('-- ') && uid !== 'grafana') {
        refs++;
        assert.ok(byUid.has(uid), `${file}: datasource uid ${uid} is not provisioned`);
        if (type) assert.equal(type, byUid.get(uid), `${file}: datasource ${uid} has type ${byUid.get(uid)}, not ${type}`);
      }
    }
    for (const value of Object.values(node)) visit(value, file);
  };
  for (const file of dashboardFiles) visit(JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')), file);
  assert.ok(refs > 10, `only ${refs} datasource references`);
});

// Kubernetes ("Configure Liveness, Readiness and Startup Probes"; the Probe API reference): while a startupProbe
// has not succeeded, the liveness and readiness probes do not run, so a slow start is given
// failureThreshold x periodSeconds instead of a guessed initialDelaySeconds, after which liveness restarts a hung
// process as quickly as before; a startup or liveness probe's successThreshold must be 1. Grafana serves HTTP only
// after its database migrations, which on a first start on a slow disk can outlast 30 s + 4 x 20 s.
test('Grafana: a startup probe gives its first start (database migrations) 5 minutes; liveness starts after it, without an initial delay', () => {
  interface TimedProbe { httpGet?: { path: string; port: string | number }; initialDelaySeconds?: number; periodSeconds?: number; timeoutSeconds?: number; failureThreshold?: number; successThreshold?: number }
  for (const overlay of ['deploy/k8s/overlays/dev', 'deploy/k8s/overlays/production']) {
    const grafana = renderKustomization(overlay).find((o) => o.kind === 'Deployment' && o.metadata.name === 'grafana');
    assert.ok(grafana);
    const c = podTemplate(grafana)!.spec.containers.find((x) => x.name === 'grafana') as { startupProbe?: TimedProbe; livenessProbe?: TimedProbe; readinessProbe?: TimedProbe } | undefined;
    const startup = c?.startupProbe;
    assert.ok(startup, `${overlay}: Grafana has no startupProbe`);
    assert.deepEqual(startup.httpGet, c?.livenessProbe?.httpGet, 'the startup probe asks what liveness asks');
    const budget = (startup.periodSeconds ?? 10) * (startup.failureThreshold ?? 3);
    assert.ok(budget >= 300, `startup budget ${budget}s`);
    assert.equal(startup.successThreshold ?? 1, 1);
    assert.ok((startup.timeoutSeconds ?? 1) >= 2, 'a 1 s timeout fails on a busy node');
    assert.equal(c?.livenessProbe?.initialDelaySeconds, undefined, 'the startup probe replaces the initial delay');
    assert.ok((c?.livenessProbe?.timeoutSeconds ?? 1) >= 2, 'a 1 s liveness timeout restarts Grafana on a busy node');
  }
});

// docs/deploy.md, minikube step 7, lists the data sources through Grafana's API and shows what it prints.
// Grafana's GET /api/datasources sorts its answer by name, case-insensitively (pkg/api/datasources.go sorts a
// dtos.DataSourceList, whose Less compares strings.ToLower of the names), whatever the provisioning file's order.
test("docs/deploy.md: the expected /api/datasources output is every provisioned data source, with its URL, in Grafana's order", () => {
  const doc = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
  const step = /```sh\n((?:(?!```)[\s\S])*\/api\/datasources(?:(?!```)[\s\S])*)```\s*```\n((?:(?!```)[\s\S])*)```/.exec(doc);
  assert.ok(step, 'docs/deploy.md: no command block with /api/datasources followed by its output');
  assert.match(step[1] ?? '', /jq -r '\.\[\] \| "\\\(\.name\) \\\(\.url\)"'/, 'the command prints "name url" per data source');
  const shown = (step[2] ?? '').split('\n').map((line) => line.trim()).filter((line) => /^\S+ https?:\/\/\S+$/.test(line));
  const runtime = kubernetesRuntime('deploy/k8s/overlays/dev');
  const datasources = (runtime.provisioning.get('/etc/grafana/provisioning/datasources') ?? [])
    .flatMap((text) => parseYaml(text).map((d) => expandProvisioning(d, { env: runtime.env })))
    .flatMap((d) => (d as { datasources?: Datasource[] }).datasources ?? []);
  const expected = datasources
    .map((d) => ({ name: d.name, line: `${d.name} ${d.url}` }))
    .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : a.name.toLowerCase() > b.name.toLowerCase() ? 1 : 0))
    .map((d) => d.line);
  assert.deepEqual(shown, expected);
});
