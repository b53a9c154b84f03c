// Monitoring as it runs in a real cluster: what Prometheus scrapes and with
// which permissions, kube-state-metrics, the exporter's version against the
// PostgreSQL we run, and the Alertmanager receiver that must exist where
// alertmanager.yml sends. Relabelling is checked by a real Prometheus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dataOf, devOverlay, loadManifests, parseYaml, podTemplate, renderKustomization, repoRoot, type Container, type K8sObject } from '../src/manifests.js';
import { renderedPrometheusConfig } from '../src/prometheus-config.js';

const objects = loadManifests().map((o) => o.object);
const find = (kind: string, name: string): K8sObject => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `no ${kind}/${name}`);
  return o;
};
type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[]; nonResourceURLs?: string[] };
interface SdConfig { role: string; namespaces?: { own_namespace?: boolean; names?: string[] } }
interface ScrapeJob {
  job_name: string;
  scheme?: string;
  kubernetes_sd_configs?: SdConfig[];
  file_sd_configs?: { files: string[] }[];
  tls_config?: { ca_file?: string; insecure_skip_verify?: boolean };
  authorization?: { credentials_file?: string };
  relabel_configs?: { source_labels?: string[]; regex?: string; action?: string }[];
  metric_relabel_configs?: { source_labels?: string[]; regex?: string; action?: string }[];
}
// As the Prometheus pod reads it: written by its init container (our namespace in place of __NAMESPACE__).
const prometheusConfig = (): { scrape_configs: ScrapeJob[]; rule_files?: string[]; alerting?: unknown } =>
  parseYaml(renderedPrometheusConfig(objects))[0] as { scrape_configs: ScrapeJob[] };
const rulesOf = (kind: 'Role' | 'ClusterRole', name: string): Rule[] => find(kind, name)['rules'] as Rule[];
const allows = (rules: Rule[], group: string, resource: string, verb: string): boolean =>
  rules.some((r) => (r.apiGroups ?? []).includes(group) && (r.resources ?? []).includes(resource) && r.verbs.includes(verb));

test('Prometheus discovers pods and services in its own namespace only, with a namespaced Role; cluster-wide only nodes and nodes/proxy', () => {
  const config = prometheusConfig();
  for (const job of config.scrape_configs) {
    for (const sd of job.kubernetes_sd_configs ?? []) {
      if (sd.role === 'node') continue;
      // The ingress controller's pods, in its namespace only (a Role there: deploy/k8s/ingress-nginx/prometheus-discovery.yaml).
      if (job.job_name === 'ingress-nginx' && JSON.stringify(sd.namespaces) === '{"names":["ingress-nginx"]}') continue;
      assert.equal(sd.namespaces?.own_namespace, true, `${job.job_name}: ${sd.role} discovery is cluster-wide`);
    }
  }
  const deployment = find('Deployment', 'prometheus');
  const account = (podTemplate(deployment)?.spec as { serviceAccountName?: string }).serviceAccountName;
  assert.equal(account, 'prometheus');
  const bound = (kind: string, roleKind: string): string[] =>
    objects.filter((o) => o.kind === kind && (o['subjects'] as { kind: string; name: string; namespace?: string }[]).some((s) => s.kind === 'ServiceAccount' && s.name === account && s.namespace === 'ecommerce'))
      .map((b) => (b['roleRef'] as { kind: string; name: string }))
      .filter((ref) => ref.kind === roleKind)
      .map((ref) => ref.name);
  const [role] = bound('RoleBinding', 'Role');
  const [clusterRole] = bound('ClusterRoleBinding', 'ClusterRole');
  assert.ok(role && clusterRole);
  for (const resource of ['pods', 'services', 'endpoints']) {
    for (const verb of ['list', 'watch']) assert.ok(allows(rulesOf('Role', role), '', resource, verb), `Role ${role}: ${verb} ${resource}`);
  }
  const cluster = rulesOf('ClusterRole', clusterRole);
  assert.ok(allows(cluster, '', 'nodes', 'list') && allows(cluster, '', 'nodes/proxy', 'get'), 'nodes, nodes/proxy');
  // Nothing namespaced is granted cluster-wide.
  const clusterResources = cluster.flatMap((r) => r.resources ?? []).sort();
  assert.deepEqual(clusterResources, ['nodes', 'nodes/proxy']);
  assert.ok(cluster.every((r) => !r.nonResourceURLs), 'no non-resource URLs needed');
});

test('kubelet and cAdvisor are scraped through the API server proxy with the service account CA (never skipping verification)', () => {
  const config = prometheusConfig();
  for (const name of ['kubernetes-cadvisor', 'kubernetes-kubelet']) {
    const job = config.scrape_configs.find((j) => j.job_name === name);
    assert.ok(job, name);
    assert.equal(job.scheme, 'https');
    assert.equal(job.tls_config?.ca_file, '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt');
    assert.notEqual(job.tls_config?.insecure_skip_verify, true);
    assert.equal(job.authorization?.credentials_file, '/var/run/secrets/kubernetes.io/serviceaccount/token');
  }
  // The API server is reachable from Prometheus' pod: its NetworkPolicy allows 443/6443.
  const policy = find('NetworkPolicy', 'prometheus');
  const egress = (policy['spec'] as { egress: { to?: unknown[]; ports?: { port: number }[] }[] }).egress;
  for (const port of [443, 6443]) assert.ok(egress.some((rule) => !rule.to && rule.ports?.some((p) => p.port === port)), `egress to the API server on ${port}`);
});

interface Target { scrapePool: string; scrapeUrl: string; labels: Record<string, string>; discoveredLabels: Record<string, string> }
const noPrometheus = spawnSync('prometheus', ['--version']).status !== 0 ? 'prometheus is not installed' : false;

/** A file_sd group as Kubernetes discovery would hand it over: target addresses and their __meta_ labels. */
interface Discovered { targets: string[]; labels: Record<string, string> }

/**
 * The active targets a real Prometheus makes of `config` when discovery finds `discovered(role, namespaces)`
 * (Debian's Prometheus has no Kubernetes discovery: each kubernetes_sd_config becomes a file_sd with what
 * that role in those namespaces would produce). Waits until `enough` holds for them.
 */
async function activeTargets(
  config: ReturnType<typeof prometheusConfig>,
  discovered: (role: string, namespaces: SdConfig['namespaces']) => Discovered[],
  enough: (active: Target[]) => boolean,
): Promise<Target[]> {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-prom-'));
  writeFileSync(join(dir, 'token'), 'x');
  // Prometheus drops a scrape pool whose CA file holds no certificate: make a real one.
  const ca = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=test-ca', '-days', '1', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt')], { encoding: 'utf8' });
  assert.equal(ca.status, 0, ca.stderr);
  for (const job of config.scrape_configs) {
    if (job.kubernetes_sd_configs) {
      job.file_sd_configs = job.kubernetes_sd_configs.map((sd, i) => {
        const file = join(dir, `${job.job_name}-${i}.json`);
        writeFileSync(file, JSON.stringify(discovered(sd.role, sd.namespaces)));
        return { files: [file] };
      });
    }
    delete job.kubernetes_sd_configs;
    if (job.tls_config?.ca_file) job.tls_config.ca_file = join(dir, 'ca.crt');
    if (job.authorization?.credentials_file) job.authorization.credentials_file = join(dir, 'token');
  }
  delete config.rule_files;
  delete config.alerting;
  // Targets only: an hour-long interval keeps Prometheus from actually
  // scraping (and resolving kubernetes.default.svc) while the test looks.
  (config as { global?: Record<string, string> }).global = { scrape_interval: '1h', scrape_timeout: '10s' };
  const { startPrometheus } = (await import(pathToFileURL(join(repoRoot, 'deploy/monitoring/dist/src/prometheus-process.js')).href)) as {
    startPrometheus(o: { config: string }): Promise<{ url: string; stop(): Promise<void> }>;
  };
  const { stringify } = await import('yaml');
  const prometheus = await startPrometheus({ config: stringify(config) });
  try {
    let active: Target[] = [];
    // Discovery hands targets to the scrape manager every 5 s.
    for (let i = 0; i < 300 && !enough(active); i++) {
      const body = (await (await fetch(`${prometheus.url}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: Target[] } };
      active = body.data.activeTargets;
      await new Promise((r) => setTimeout(r, 100));
    }
    return active;
  } finally {
    await prometheus.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('relabelling in a real Prometheus: one target per node at the API server proxy path; only our kube-state-metrics Service', { skip: noPrometheus, timeout: 60_000 }, async () => {
  const nodes = [
    { targets: ['192.168.49.2:10250'], labels: { __meta_kubernetes_node_name: 'minikube', __meta_kubernetes_node_label_kubernetes_io_hostname: 'minikube' } },
    { targets: ['192.168.49.3:10250'], labels: { __meta_kubernetes_node_name: 'minikube-m02', __meta_kubernetes_node_label_kubernetes_io_hostname: 'minikube-m02' } },
  ];
  const services = [
    { targets: ['kube-state-metrics.ecommerce.svc:8080'], labels: { __meta_kubernetes_namespace: 'ecommerce', __meta_kubernetes_service_label_app_kubernetes_io_name: 'kube-state-metrics', __meta_kubernetes_service_port_name: 'http-metrics' } },
    { targets: ['kube-state-metrics.ecommerce.svc:8081'], labels: { __meta_kubernetes_namespace: 'ecommerce', __meta_kubernetes_service_label_app_kubernetes_io_name: 'kube-state-metrics', __meta_kubernetes_service_port_name: 'telemetry' } },
  ];
  const active = await activeTargets(prometheusConfig(), (role) => (role === 'node' ? nodes : role === 'service' ? services : []), (found) => found.filter((t) => t.scrapePool !== 'kubernetes-pods').length >= 5);
  for (const [pool, path] of [['kubernetes-cadvisor', '/metrics/cadvisor'], ['kubernetes-kubelet', '/metrics']] as const) {
    const targets = active.filter((t) => t.scrapePool === pool).sort((a, b) => (a.labels['instance'] ?? '').localeCompare(b.labels['instance'] ?? ''));
    assert.deepEqual(targets.map((t) => t.scrapeUrl), [
      `https://kubernetes.default.svc:443/api/v1/nodes/minikube/proxy${path}`,
      `https://kubernetes.default.svc:443/api/v1/nodes/minikube-m02/proxy${path}`,
    ], pool);
    assert.deepEqual(targets.map((t) => [t.labels['instance'], t.labels['node']]), [['minikube', 'minikube'], ['minikube-m02', 'minikube-m02']]);
  }
  const ksm = active.filter((t) => t.scrapePool === 'kube-state-metrics');
  assert.deepEqual(ksm.map((t) => t.scrapeUrl), ['http://kube-state-metrics.ecommerce.svc:8080/metrics']);
});

/** Kubernetes labels or annotations as discovery's meta labels: `prefix` + the name with what Prometheus does not allow in one as `_`. */
const meta = (prefix: string, map: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(map ?? {}).map(([k, v]) => [`${prefix}${k.replace(/[^a-zA-Z0-9_]/g, '_')}`, v]));

/** What Kubernetes pod discovery reports for `objects` once they run: one pod per replica (the HPA's minReplicas where one scales it), a target per container port, one per container without a port (init containers too), labels and annotations sanitised as Prometheus does. */
function discoveredPods(objects: K8sObject[]): Discovered[] {
  let ip = 0;
  return objects.flatMap((o) => {
    const template = podTemplate(o);
    if (!template || !['Deployment', 'StatefulSet', 'Job'].includes(o.kind)) return [];
    const hpa = objects.find((h) => h.kind === 'HorizontalPodAutoscaler' && (h['spec'] as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef.name === o.metadata.name);
    const replicas = hpa ? (hpa['spec'] as { minReplicas: number }).minReplicas : ((o['spec'] as { replicas?: number }).replicas ?? 1);
    return Array.from({ length: replicas }, (_, i) => {
      const podIp = `10.244.0.${++ip}`;
      const pod = {
        __meta_kubernetes_namespace: o.metadata.namespace ?? '',
        __meta_kubernetes_pod_name: `${o.metadata.name}-${i}`,
        __meta_kubernetes_pod_ip: podIp,
        // A Job's pod has finished by the time the docs look.
        __meta_kubernetes_pod_phase: o.kind === 'Job' ? 'Succeeded' : 'Running',
        ...meta('__meta_kubernetes_pod_label_', template.metadata?.labels),
        ...meta('__meta_kubernetes_pod_annotation_', template.metadata?.annotations),
      };
      const containers = [...(template.spec.initContainers ?? []).map((c) => [c, 'true'] as const), ...template.spec.containers.map((c) => [c, 'false'] as const)];
      return containers.flatMap(([c, init]) => {
        const labels = { ...pod, __meta_kubernetes_pod_container_name: c.name, __meta_kubernetes_pod_container_init: init };
        if (!c.ports?.length) return [{ targets: [podIp], labels }];
        return c.ports.map((p) => ({ targets: [`${podIp}:${p.containerPort}`], labels: { ...labels, __meta_kubernetes_pod_container_port_name: p.name ?? '', __meta_kubernetes_pod_container_port_number: String(p.containerPort), __meta_kubernetes_pod_container_port_protocol: 'TCP' } }));
      });
    }).flat();
  });
}

test("docs/deploy.md step 7: the targets it shows per job are what a real Prometheus makes of the dev overlay on a one-node minikube", { skip: noPrometheus, timeout: 60_000 }, async () => {
  const docs = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
  const after = docs.slice(docs.indexOf('.data.activeTargets[]'));
  const documented = [...after.slice(0, after.indexOf('alert-log listening')).matchAll(/^\s+(\d+) (\S+) up$/gm)].map((m) => `${m[2]} ${m[1]}`).sort();
  assert.ok(documented.length >= 5, 'docs/deploy.md step 7 lists the targets per job');
  const dev = renderKustomization(join(repoRoot, devOverlay));
  const pods = discoveredPods(dev);
  const services = dev.filter((o) => o.kind === 'Service').flatMap((svc) => (svc['spec'] as { ports: { name?: string; port: number }[] }).ports.map((p) => ({
    targets: [`${svc.metadata.name}.${svc.metadata.namespace}.svc:${p.port}`],
    labels: { __meta_kubernetes_namespace: svc.metadata.namespace ?? '', __meta_kubernetes_service_name: svc.metadata.name, __meta_kubernetes_service_port_name: p.name ?? '', ...meta('__meta_kubernetes_service_label_', svc.metadata.labels) },
  })));
  // minikube's ingress addon: the controller (with the metrics port step 1 patches in) and its finished admission Jobs.
  const controllerPod = { __meta_kubernetes_namespace: 'ingress-nginx', __meta_kubernetes_pod_name: 'ingress-nginx-controller-0', __meta_kubernetes_pod_phase: 'Running', __meta_kubernetes_pod_label_app_kubernetes_io_name: 'ingress-nginx', __meta_kubernetes_pod_label_app_kubernetes_io_component: 'controller', __meta_kubernetes_pod_container_name: 'controller', __meta_kubernetes_pod_container_init: 'false' };
  const ingressNginx = [
    ...[['http', 80], ['https', 443], ['webhook', 8443], ['metrics', 10254]].map(([name, port]) => ({ targets: [`10.244.1.1:${port}`], labels: { ...controllerPod, __meta_kubernetes_pod_container_port_name: String(name), __meta_kubernetes_pod_container_port_number: String(port) } })),
    { targets: ['10.244.1.2'], labels: { ...controllerPod, __meta_kubernetes_pod_name: 'ingress-nginx-admission-create-0', __meta_kubernetes_pod_phase: 'Succeeded', __meta_kubernetes_pod_label_app_kubernetes_io_component: 'admission-webhook', __meta_kubernetes_pod_container_name: 'create' } },
  ];
  const node = [{ targets: ['192.168.49.2:10250'], labels: { __meta_kubernetes_node_name: 'minikube' } }];
  const inNamespaces = (found: Discovered[], namespaces: SdConfig['namespaces']): Discovered[] =>
    found.filter((d) => (namespaces?.own_namespace ? d.labels['__meta_kubernetes_namespace'] === 'ecommerce' : !namespaces?.names || namespaces.names.includes(d.labels['__meta_kubernetes_namespace'] ?? '')));
  const discovered = (role: string, namespaces: SdConfig['namespaces']): Discovered[] =>
    role === 'node' ? node : inNamespaces(role === 'service' ? services : [...pods, ...ingressNginx], namespaces);
  const perJob = (targets: Target[]): string[] => {
    const counts = new Map<string, number>();
    for (const t of targets) counts.set(t.labels['job'] ?? '', (counts.get(t.labels['job'] ?? '') ?? 0) + 1);
    return [...counts].map(([job, n]) => `${job} ${n}`).sort();
  };
  const config = prometheusConfig();
  const active = await activeTargets(config, discovered, (found) => perJob(found).length >= config.scrape_configs.length);
  assert.deepEqual(perJob(active), documented);
});

/** The metric names with this prefix (container_: cAdvisor, kubelet_, nginx_: ingress-nginx) the rules, the dashboards and the runbooks read. */
function metricsRead(prefix: string): string[] {
  const dir = (d: string, ext: string): string[] => readdirSync(join(repoRoot, d)).filter((f) => f.endsWith(ext)).map((f) => readFileSync(join(repoRoot, d, f), 'utf8'));
  const texts = [...dir('deploy/monitoring/rules', '.yml'), ...dir('deploy/monitoring/grafana/dashboards', '.json'), readFileSync(join(repoRoot, 'docs/runbooks.md'), 'utf8')];
  return [...new Set(texts.flatMap((t) => [...t.matchAll(new RegExp(`\\b${prefix}_[a-z_]+\\b`, 'g'))].map((m) => m[0])))].sort();
}


test('cAdvisor, kubelet and ingress-nginx: a real Prometheus keeps the series the rules, dashboards and runbooks read, of our namespace only', { skip: noPrometheus, timeout: 60_000 }, async () => {
  await checkKeptSeries(objects, 'ecommerce');
});

test('the same, deployed with `namespace: shop` over the dev overlay: the series of shop are kept, those of ecommerce dropped', { skip: noPrometheus, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kustomize-namespace-'));
  try {
    writeFileSync(join(dir, 'kustomization.yaml'), `namespace: shop\nresources:\n  - ${relative(dir, join(repoRoot, devOverlay))}\n`);
    await checkKeptSeries(renderKustomization(dir), 'shop');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Each node-wide job's metric_relabel_configs, as the pod in `objects` reads them, on fixture targets serving several namespaces' series. */
async function checkKeptSeries(objects: K8sObject[], ours: string): Promise<void> {
  // What each serves on a shared cluster: our pods' series and other teams', and names nothing here reads.
  const sample = (name: string, labels: string): string => `${name}{${labels}} 1\n`;
  const jobs = [
    { name: 'kubernetes-cadvisor', path: '/metrics/cadvisor', read: metricsRead('container'), unread: ['container_network_receive_bytes_total', 'container_fs_reads_total'], labels: 'pod="p-1",container="c"', extra: sample('container_memory_working_set_bytes', 'namespace="ecommerce",pod="p-1",container="POD"') + sample('machine_cpu_cores', '') },
    { name: 'kubernetes-kubelet', path: '/metrics', read: metricsRead('kubelet'), unread: ['kubelet_volume_stats_inodes'], labels: 'persistentvolumeclaim="data-postgres-0"', extra: sample('kubelet_runtime_operations_total', 'operation_type="create_container"') + sample('rest_client_requests_total', 'code="200"') },
    { name: 'ingress-nginx', path: '/nginx', read: metricsRead('nginx'), unread: ['nginx_ingress_controller_request_duration_seconds_bucket', 'nginx_ingress_controller_response_size_sum'], labels: 'ingress="ecommerce",service="order-service",status="200"', extra: sample('nginx_ingress_controller_config_last_reload_successful', '') },
  ];
  for (const j of jobs) assert.ok(j.read.length >= 1, `${j.name} reads nothing?`);
  const body = new Map(jobs.map((j) => [j.path, [...new Set([ours, 'ecommerce', 'kube-system', 'other-team'])].flatMap((ns) => [...j.read, ...j.unread].map((n) => sample(n, `namespace="${ns}",${j.labels}`))).join('') + j.extra]));
  const server = createServer((req, res) => {
    const text = body.get(req.url ?? '');
    res.writeHead(text === undefined ? 404 : 200, { 'content-type': 'text/plain; version=0.0.4' }).end(text ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Until Prometheus runs, a failure (a job missing from the shipped config, Prometheus not ready in time) closes the
  // fixture server here: the finally below is not reached, and its open port held the file's process.
  let prometheus: { url: string; stop(): Promise<void> };
  try {
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Each job's own honor_labels and metric_relabel_configs, on a static target (discovery is tested above).
    const shipped = (parseYaml(renderedPrometheusConfig(objects))[0] as { scrape_configs: ScrapeJob[] }).scrape_configs;
    const scrapeConfigs = jobs.map((j) => {
      const own = shipped.find((s) => s.job_name === j.name) as (ScrapeJob & { honor_labels?: boolean }) | undefined;
      assert.ok(own, j.name);
      return { job_name: j.name, metrics_path: j.path, honor_labels: own.honor_labels ?? false, static_configs: [{ targets: [address] }], metric_relabel_configs: own.metric_relabel_configs ?? [] };
    });
    const { startPrometheus } = (await import(pathToFileURL(join(repoRoot, 'deploy/monitoring/dist/src/prometheus-process.js')).href)) as {
      startPrometheus(o: { config: string }): Promise<{ url: string; stop(): Promise<void> }>;
    };
    const { stringify } = await import('yaml');
    prometheus = await startPrometheus({ config: stringify({ global: { scrape_interval: '1s', scrape_timeout: '1s' }, scrape_configs: scrapeConfigs }) });
  } catch (err) {
    server.close();
    throw err;
  }
  try {
    const query = async (q: string): Promise<Record<string, string>[]> => {
      const r = (await (await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { metric: Record<string, string> }[] } };
      return r.data.result.map((x) => x.metric);
    };
    for (let i = 0; i < 200 && (await query('scrape_samples_scraped')).length < jobs.length; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await query('up == 1')).length, jobs.length, 'every fixture target scraped');
    for (const j of jobs) {
      const kept = (await query(`group by (__name__, namespace) ({job="${j.name}", __name__!~"up|scrape_.+"})`)).map((m) => `${m['__name__']} ${m['namespace'] ?? ''}`.trim()).sort();
      assert.deepEqual(kept, j.read.map((n) => `${n} ${ours}`), j.name);
    }
  } finally {
    await prometheus.stop();
    server.close();
  }
}

test('a Deployment with no Ready pod pages only when the Ingress routes to it; any other gets a ticket once its startup probe has run out', () => {
  const rules = (parseYaml(readFileSync(join(repoRoot, 'deploy/monitoring/rules/services.yml'), 'utf8'))[0] as { groups: { rules: { alert?: string; expr: string; for?: string; labels?: Record<string, string> }[] }[] }).groups.flatMap((g) => g.rules);
  const rule = (name: string) => {
    const r = rules.find((x) => x.alert === name);
    assert.ok(r, name);
    return r;
  };
  const page = rule('DeploymentNoAvailableReplica');
  const ticket = rule('DeploymentUnavailable');
  assert.equal(page.labels?.['severity'], 'page');
  assert.equal(ticket.labels?.['severity'], 'ticket');
  const paged = /deployment=~"([^"]+)"/.exec(page.expr)?.[1] ?? '';
  assert.ok(ticket.expr.includes(`deployment!~"${paged}"`), 'the ticket covers exactly the Deployments the page leaves out');
  // The Ingress's backends: its Services, and the Deployments whose pods they select.
  const ingress = find('Ingress', 'ecommerce');
  const services = new Set((ingress['spec'] as { rules: { http: { paths: { backend: { service: { name: string } } }[] } }[] }).rules.flatMap((r) => r.http.paths.map((p) => p.backend.service.name)));
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const backends = deployments.filter((d) => [...services].some((name) => {
    const selector = (find('Service', name)['spec'] as { selector: Record<string, string> }).selector;
    return Object.entries(selector).every(([k, v]) => podTemplate(d)?.metadata?.labels?.[k] === v);
  })).map((d) => d.metadata.name).sort();
  assert.deepEqual(paged.split('|').sort(), backends);
  // The others may be unready while they start: the ticket waits longer than the longest startup probe among them.
  const minutes = Number(/^(\d+)m$/.exec(ticket.for ?? '')?.[1]);
  type Startup = { initialDelaySeconds?: number; periodSeconds?: number; failureThreshold?: number };
  for (const d of deployments.filter((x) => !backends.includes(x.metadata.name))) {
    for (const c of podTemplate(d)?.spec.containers ?? []) {
      const probe = (c as Container & { startupProbe?: Startup }).startupProbe;
      const allowed = probe ? (probe.initialDelaySeconds ?? 0) + (probe.periodSeconds ?? 10) * (probe.failureThreshold ?? 3) : 0;
      assert.ok(allowed < minutes * 60, `${d.metadata.name}: its startup probe allows ${allowed} s, the ticket waits ${ticket.for}`);
    }
  }
});

test('a rollout that stops progressing raises DeploymentRolloutStuck: every Deployment has a progress deadline, longer than its startup probe allows', () => {
  const rules = (parseYaml(readFileSync(join(repoRoot, 'deploy/monitoring/rules/services.yml'), 'utf8'))[0] as { groups: { rules: { alert?: string; expr: string; labels?: Record<string, string> }[] }[] }).groups.flatMap((g) => g.rules);
  const stuck = rules.find((r) => r.alert === 'DeploymentRolloutStuck');
  assert.ok(stuck, 'no DeploymentRolloutStuck: a rollout stuck on ImagePullBackOff while the old pods serve raises nothing');
  assert.equal(stuck.labels?.['severity'], 'ticket');
  // kube-state-metrics writes one series per status, 0 or 1 (internal/store/deployment.go, addConditionMetrics).
  assert.match(stuck.expr, /kube_deployment_status_condition\{condition="Progressing", status="false"\} == 1/);
  const ksm = podTemplate(find('Deployment', 'kube-state-metrics'))?.spec.containers[0] as Container & { args: string[] };
  assert.ok((ksm.args.find((a) => a.startsWith('--resources='))?.split('=')[1] ?? '').split(',').includes('deployments'));
  // The controller sets Progressing=False only after progressDeadlineSeconds without progress (default 600);
  // a deadline shorter than a container's startup probe would call a normal rollout stuck.
  type Startup = { initialDelaySeconds?: number; periodSeconds?: number; failureThreshold?: number };
  for (const d of objects.filter((o) => o.kind === 'Deployment')) {
    const spec = d['spec'] as { progressDeadlineSeconds?: number; paused?: boolean };
    assert.notEqual(spec.paused, true, `${d.metadata.name} is paused: Progressing stays Unknown`);
    const deadline = spec.progressDeadlineSeconds ?? 600;
    assert.ok(Number.isInteger(deadline) && deadline > 0, `${d.metadata.name}: progressDeadlineSeconds ${deadline}`);
    for (const c of podTemplate(d)?.spec.containers ?? []) {
      const probe = (c as Container & { startupProbe?: Startup }).startupProbe;
      const allowed = probe ? (probe.initialDelaySeconds ?? 0) + (probe.periodSeconds ?? 10) * (probe.failureThreshold ?? 3) : 0;
      assert.ok(allowed < deadline, `${d.metadata.name}: its startup probe allows ${allowed} s, the progress deadline is ${deadline} s`);
    }
  }
});

test('kube-state-metrics: deployed, pinned, found by the scrape job, allowed to list what it reports, reachable by Prometheus only', () => {
  const deployment = find('Deployment', 'kube-state-metrics');
  const c = podTemplate(deployment)?.spec.containers[0] as Container & { args: string[] };
  assert.match(c.image, /^registry\.k8s\.io\/kube-state-metrics\/kube-state-metrics:v\d+\.\d+\.\d+$/);
  const service = find('Service', 'kube-state-metrics');
  // The scrape job keeps services by this label and port name.
  const job = prometheusConfig().scrape_configs.find((j) => j.job_name === 'kube-state-metrics');
  assert.ok(job);
  const keep = (label: string): RegExp => new RegExp(`^(?:${job.relabel_configs?.find((r) => r.action === 'keep' && r.source_labels?.[0] === label)?.regex ?? '$^'})$`);
  assert.match(service.metadata.labels?.['app.kubernetes.io/name'] ?? '', keep('__meta_kubernetes_service_label_app_kubernetes_io_name'));
  const ports = (service['spec'] as { ports: { name: string; port: number; targetPort: string }[] }).ports;
  const scraped = ports.filter((p) => keep('__meta_kubernetes_service_port_name').test(p.name));
  assert.equal(scraped.length, 1, 'exactly one port is scraped');
  const port = c.ports?.find((p) => p.name === scraped[0]?.targetPort);
  assert.ok(port, 'the scraped port is a container port');
  // RBAC covers every resource it is asked to report.
  const account = (podTemplate(deployment)?.spec as { serviceAccountName?: string }).serviceAccountName;
  const binding = objects.find((o) => o.kind === 'ClusterRoleBinding' && (o['subjects'] as { name: string }[]).some((s) => s.name === account));
  assert.ok(binding);
  const rules = rulesOf('ClusterRole', (binding['roleRef'] as { name: string }).name);
  const groups: Record<string, string> = { pods: '', nodes: '', persistentvolumeclaims: '', deployments: 'apps', replicasets: 'apps', statefulsets: 'apps', jobs: 'batch', horizontalpodautoscalers: 'autoscaling', poddisruptionbudgets: 'policy' };
  const resources = (c.args.find((a) => a.startsWith('--resources='))?.split('=')[1] ?? '').split(',');
  assert.ok(resources.includes('pods') && resources.includes('deployments') && resources.includes('horizontalpodautoscalers'));
  for (const resource of resources) {
    assert.ok(resource in groups, `unknown resource ${resource}`);
    for (const verb of ['list', 'watch']) assert.ok(allows(rules, groups[resource] ?? '', resource, verb), `${verb} ${resource}`);
  }
  // Network: Prometheus may reach it and it accepts Prometheus.
  const own = find('NetworkPolicy', 'kube-state-metrics');
  const ingress = (own['spec'] as { ingress: { from: { podSelector?: { matchLabels: Record<string, string> } }[]; ports: { port: number }[] }[] }).ingress;
  assert.ok(ingress.some((r) => r.from.some((f) => f.podSelector?.matchLabels['app.kubernetes.io/name'] === 'prometheus') && r.ports.some((p) => p.port === port.containerPort)));
  const egress = (find('NetworkPolicy', 'prometheus')['spec'] as { egress: { to?: unknown[]; ports?: { port: number }[] }[] }).egress;
  assert.ok(egress.some((r) => r.to && r.ports?.some((p) => p.port === port.containerPort)), 'prometheus egress to kube-state-metrics');
});

/** The first postgres_exporter release whose collectors read each PostgreSQL major (from its CHANGELOG). */
const exporterForPostgres: Record<number, [number, number]> = { 15: [0, 12], 16: [0, 15], 17: [0, 17] };

function checkExporter(exporterImage: string, postgresImage: string, where: string): void {
  const pg = Number(/^postgres:(\d+)/.exec(postgresImage)?.[1]);
  const m = /postgres-exporter:v(\d+)\.(\d+)\.(\d+)$/.exec(exporterImage);
  assert.ok(m, `${where}: ${exporterImage} is not pinned to a version`);
  const minimum = exporterForPostgres[pg];
  assert.ok(minimum, `${where}: PostgreSQL ${pg}: look up which postgres_exporter supports it and add it here`);
  const [major, minor] = [Number(m[1]), Number(m[2])];
  assert.ok(major > minimum[0] || (major === minimum[0] && minor >= minimum[1]), `${where}: postgres_exporter ${m[0]} predates PostgreSQL ${pg} support (v${minimum.join('.')})`);
}

test('postgres_exporter matches the PostgreSQL major we run (Kubernetes and compose)', () => {
  const exporter = podTemplate(find('Deployment', 'postgres-exporter'))?.spec.containers[0]?.image ?? '';
  const postgres = podTemplate(find('StatefulSet', 'postgres'))?.spec.containers[0]?.image ?? '';
  checkExporter(exporter, postgres, 'kubernetes');
  const compose = parseYaml(readFileSync(join(repoRoot, 'deploy/docker/compose.yaml'), 'utf8'))[0] as { services: Record<string, { image?: string }> };
  checkExporter(compose.services['postgres-exporter']?.image ?? '', compose.services['postgres']?.image ?? '', 'compose');
  // The former pin fails the check.
  assert.throws(() => checkExporter('quay.io/prometheuscommunity/postgres-exporter:v0.15.0', 'postgres:17-bookworm', 'old'), /predates/);
});

test('every Alertmanager webhook on loopback reaches a receiver in the same pod (Kubernetes) or network namespace (compose)', () => {
  const config = parseYaml(dataOf(find('ConfigMap', 'alertmanager-config'))['alertmanager.yml'] ?? '')[0] as { receivers: { name: string; webhook_configs?: { url: string }[] }[] };
  const urls = config.receivers.flatMap((r) => (r.webhook_configs ?? []).map((w) => new URL(w.url)));
  const local = urls.filter((u) => ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname));
  assert.ok(local.length > 0, 'this test only means something while a receiver is local');
  const pod = podTemplate(find('Deployment', 'alertmanager'))?.spec as { containers: (Container & { command?: string[]; volumeMounts?: { name: string; mountPath: string }[] })[]; volumes: { name: string; configMap?: { name: string } }[] };
  const receiver = pod.containers.find((c) => c.command?.some((a) => a.endsWith('/alert-log.mjs')));
  assert.ok(receiver, 'no receiver container in the Alertmanager pod');
  const listens = Number(receiver.env?.find((e) => e.name === 'ALERT_LOG_PORT')?.value);
  for (const url of local) {
    assert.equal(Number(url.port), listens, `${url.href}: the sidecar listens on ${listens}`);
    assert.equal(url.pathname, '/alerts');
  }
  const mount = receiver.volumeMounts?.find((m) => receiver.command?.some((a) => a.startsWith(`${m.mountPath}/`)));
  assert.ok(mount);
  const map = pod.volumes.find((v) => v.name === mount.name)?.configMap?.name;
  assert.equal(dataOf(find('ConfigMap', map ?? ''))['alert-log.mjs'], readFileSync(join(repoRoot, 'deploy/k8s/alert-log/alert-log.mjs'), 'utf8'));
  const compose = parseYaml(readFileSync(join(repoRoot, 'deploy/docker/compose.yaml'), 'utf8'))[0] as { services: Record<string, { network_mode?: string; environment?: Record<string, string>; command?: string[] }> };
  const sidecar = Object.values(compose.services).find((s) => s.command?.some((a) => a.endsWith('/alert-log.mjs')));
  assert.ok(sidecar, 'compose: no alert-log service');
  assert.equal(sidecar.network_mode, 'service:alertmanager');
  assert.equal(Number(sidecar.environment?.['ALERT_LOG_PORT']), listens);
});

test('alert-log (the script in the ConfigMap) logs each alert of a real Alertmanager payload and refuses anything else', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'alert-log-'));
  const script = join(dir, 'alert-log.mjs');
  writeFileSync(script, dataOf(find('ConfigMap', 'alert-log'))['alert-log.mjs'] ?? '');
  const child = spawn(process.execPath, [script], { env: { ...process.env, ALERT_LOG_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 10_000;
    while (!/"address":"127\.0\.0\.1:\d+"/.test(out)) {
      assert.ok(Date.now() < deadline, `no listening line: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const base = `http://${/"address":"(127\.0\.0\.1:\d+)"/.exec(out)?.[1]}`;
    const payload = {
      version: '4', groupKey: '{}:{alertname="ServiceDown"}', truncatedAlerts: 0, status: 'firing', receiver: 'page',
      groupLabels: { alertname: 'ServiceDown' }, commonLabels: { alertname: 'ServiceDown', severity: 'page' }, commonAnnotations: {}, externalURL: 'http://alertmanager:9093',
      alerts: [
        { status: 'firing', labels: { alertname: 'ServiceDown', severity: 'page', service: 'order' }, annotations: { summary: 'order is down' }, startsAt: '2026-12-01T20:00:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: 'a' },
        { status: 'resolved', labels: { alertname: 'ServiceDown', severity: 'page', service: 'user' }, annotations: {}, startsAt: '2026-12-01T19:00:00Z', endsAt: '2026-12-01T19:30:00Z', generatorURL: '', fingerprint: 'b' },
      ],
    };
    const ok = await fetch(`${base}/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    assert.equal(ok.status, 200);
    while (out.split('\n').filter((l) => l.includes('"alert notification"')).length < 2) {
      assert.ok(Date.now() < deadline, `no alert lines: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const lines = out.split('\n').filter((l) => l.includes('"alert notification"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => [l['status'], l['alertname'], (l['labels'] as Record<string, string>)['service'], l['receiver']]), [['firing', 'ServiceDown', 'order', 'page'], ['resolved', 'ServiceDown', 'user', 'page']]);
    assert.equal(lines[0]?.['summary'], 'order is down');
    // An empty generatorURL is left out of the line.
    assert.equal('generatorURL' in (lines[0] ?? {}), false);
    assert.equal((await fetch(`${base}/alerts`, { method: 'POST', body: '{"not":"a payload"}' })).status, 400);
    assert.equal((await fetch(`${base}/alerts`, { method: 'POST', body: 'nope' })).status, 400);
    assert.equal((await fetch(`${base}/alerts`)).status, 405);
    assert.equal((await fetch(`${base}/other`, { method: 'POST', body: '{}' })).status, 404);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal(out.split('\n').filter((l) => l.includes('"alert notification"')).length, 2, 'refused requests logged no alert');
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a real Alertmanager with the Kubernetes config delivers a page to alert-log, which logs it', { skip: spawnSync('prometheus-alertmanager', ['--version']).status !== 0 ? 'prometheus-alertmanager is not installed' : false, timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-am-'));
  const { freeLoopbackPort } = (await import(pathToFileURL(join(repoRoot, 'deploy/monitoring/dist/src/prometheus-process.js')).href)) as { freeLoopbackPort(): Promise<number> };
  const { stringify } = await import('yaml');
  const [logPort, amPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  // The ConfigMap's config; only the receiver port moves off 9095 (which `npm run monitoring` may hold).
  const config = parseYaml(dataOf(find('ConfigMap', 'alertmanager-config'))['alertmanager.yml'] ?? '')[0] as { receivers: { webhook_configs?: { url: string }[] }[] };
  for (const r of config.receivers) for (const w of r.webhook_configs ?? []) w.url = w.url.replace('127.0.0.1:9095', `127.0.0.1:${logPort}`);
  writeFileSync(join(dir, 'alertmanager.yml'), stringify(config));
  writeFileSync(join(dir, 'alert-log.mjs'), dataOf(find('ConfigMap', 'alert-log'))['alert-log.mjs'] ?? '');
  const args = (podTemplate(find('Deployment', 'alertmanager'))?.spec.containers.find((c) => c.name === 'alertmanager') as Container & { args: string[] }).args
    .map((a) => a.replace(/^--config\.file=.*/, `--config.file=${join(dir, 'alertmanager.yml')}`).replace(/^--storage\.path=.*/, `--storage.path=${join(dir, 'data')}`));
  const log = spawn(process.execPath, [join(dir, 'alert-log.mjs')], { env: { ...process.env, ALERT_LOG_PORT: String(logPort) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const am = spawn('prometheus-alertmanager', [...args, `--web.listen-address=127.0.0.1:${amPort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exits = [log, am].map((p) => new Promise((resolve) => p.once('exit', resolve)));
  let out = '';
  let amOut = '';
  log.stdout.on('data', (c: Buffer) => (out += c.toString()));
  am.stderr.on('data', (c: Buffer) => (amOut += c.toString()));
  const until = async (what: string, ok: () => boolean | Promise<boolean>, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!(await ok())) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}\n${out}\n${amOut}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  try {
    await until('Alertmanager ready', async () => (await fetch(`http://127.0.0.1:${amPort}/-/ready`).catch(() => undefined))?.ok === true, 30_000);
    const posted = await fetch(`http://127.0.0.1:${amPort}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: { alertname: 'K8sReceiverProbe', severity: 'page', service: 'order' }, annotations: { summary: 'probe from the test' }, startsAt: new Date().toISOString(), generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=up' }]),
    });
    assert.equal(posted.status, 200);
    // The page route's group_wait, then delivery.
    await until('the notification in alert-log', () => out.includes('"alertname":"K8sReceiverProbe"'), 60_000);
    const line = JSON.parse(out.split('\n').find((l) => l.includes('K8sReceiverProbe')) ?? '{}') as Record<string, unknown>;
    assert.equal(line['status'], 'firing');
    assert.equal(line['receiver'], 'page');
    assert.equal(line['summary'], 'probe from the test');
    // The link back to the rule in Prometheus, as Alertmanager passed it on.
    assert.equal(line['generatorURL'], 'http://127.0.0.1:9090/graph?g0.expr=up');
  } finally {
    am.kill('SIGTERM');
    log.kill('SIGTERM');
    await Promise.all(exits);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Prometheus and Alertmanager link to the address docs/deploy.md reaches them at (kubectl port-forward; compose: the published port), at the root their probes use', () => {
  const docs = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
  const compose = parseYaml(readFileSync(join(repoRoot, 'deploy/docker/compose.yaml'), 'utf8'))[0] as { services: Record<string, { command?: string[]; ports?: string[] }> };
  for (const name of ['prometheus', 'alertmanager']) {
    const container = podTemplate(find('Deployment', name))?.spec.containers.find((c) => c.name === name) as Container & { args: string[] };
    // Without the flag each makes its links from the pod's host name (http://<pod name>:<port>/): every alert's
    // generatorURL and Alertmanager's own links pointed at a name nothing outside the pod resolves.
    const flag = container.args.find((a) => a.startsWith('--web.external-url='));
    assert.ok(flag, `${name}: no --web.external-url`);
    const url = new URL(flag.slice('--web.external-url='.length));
    // A path would move every endpoint under it: the probes' /-/ready and the scraped /metrics would 404.
    assert.equal(url.pathname, '/', `${name}: --web.external-url has a path`);
    for (const probe of [container.readinessProbe, container.livenessProbe]) assert.match(probe?.httpGet?.path ?? '', /^\/-\//);
    const forward = new RegExp(`kubectl -n ecommerce port-forward svc/${name} (\\d+):\\d+`).exec(docs);
    assert.ok(forward, `docs/deploy.md forwards no local port to svc/${name}`);
    assert.equal(url.host, `127.0.0.1:${forward[1]}`, `${name}: --web.external-url is not where docs/deploy.md forwards it`);
    const composeFlag = (compose.services[name]?.command ?? []).find((a) => a.startsWith('--web.external-url='));
    assert.ok(composeFlag, `compose ${name}: no --web.external-url`);
    const published = (compose.services[name]?.ports ?? []).map((p) => /^127\.0\.0\.1:(\d+):\d+$/.exec(p)?.[1]);
    assert.ok(published.includes(new URL(composeFlag.slice('--web.external-url='.length)).port), `compose ${name}: --web.external-url is not its published port`);
  }
});
