// Every connection the platform needs, derived from the manifests themselves (scrape annotations, Service
// ports and their named targetPorts, the Ingress backends, Grafana's data source URLs, the collector's
// exporter, the services' environment), checked against the NetworkPolicies as the API defines them
// (src/network-policy-matching.ts), in both overlays and in another namespace; and the connections that must stay shut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerEnv, dataOf, devOverlay, parseYaml, podTemplate, productionOverlay, renderKustomization, type Container, type EnvSource, type K8sObject } from '../src/manifests.js';
import { admits, type External, type PodRef } from '../src/network-policy-matching.js';
import { renderedPrometheusConfig } from '../src/prometheus-config.js';
import { withNamespace } from './namespace-overlay.js';

const renders: [string, K8sObject[]][] = [
  ['dev', renderKustomization(devOverlay)],
  ['production', renderKustomization(productionOverlay)],
  ['dev in namespace shop', withNamespace(devOverlay, 'shop', renderKustomization)],
];

interface Workload {
  kind: string;
  name: string;
  object: K8sObject;
  pod: PodRef;
  containers: Container[];
}

function workloads(objects: K8sObject[]): Workload[] {
  return objects.filter((o) => podTemplate(o)).map((object) => {
    const template = podTemplate(object);
    const containers = template?.spec.containers ?? [];
    return {
      kind: object.kind,
      name: object.metadata.name,
      object,
      containers,
      pod: { labels: template?.metadata?.labels ?? {}, namespace: object.metadata.namespace ?? '', ports: containers.flatMap((c) => c.ports ?? []) },
    };
  });
}

// Pods of other namespaces, as their charts label them.
const kubeDns: PodRef = { labels: { 'k8s-app': 'kube-dns' }, namespace: 'kube-system', ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53 }] };
const nodeLocalDns: External = { ip: '169.254.20.10' };
/**
 * The kube-dns Service's ClusterIP as a NetworkPolicy sees it when NodeLocal DNSCache runs beside kube-proxy in
 * iptables mode (its default): the pods keep the ClusterIP as nameserver, and node-local-dns (hostNetwork) binds that
 * very address with NOTRACK rules, so the query is never DNAT'd to a kube-dns pod and a podSelector cannot match it
 * (kubernetes/website content/en/docs/tasks/administer-cluster/nodelocaldns.md: "In this mode, node-local-dns pods
 * listen on both the kube-dns service IP as well as <node-local-address>"; kubernetes/kubernetes
 * cluster/addons/dns/nodelocaldns/README.md, "Network policy and DNS connectivity": a namespace/pod selector "might
 * not be enough since the node-local-dns pods run with hostNetwork: True", allow the DNS ClusterIP with an ipBlock).
 * GKE Standard turns NodeLocal DNSCache on by default from 1.33 and enforces NetworkPolicy with Calico outside
 * Dataplane V2. The default Service ranges of common clusters, and the kube-dns address in each:
 */
const kubeDnsServiceRanges: Record<string, { cidr: string; kubeDns: string }> = {
  'kubeadm, minikube, kind': { cidr: '10.96.0.0/12', kubeDns: '10.96.0.10' },
  'EKS (10.x VPC)': { cidr: '172.20.0.0/16', kubeDns: '172.20.0.10' },
  'EKS (other VPC)': { cidr: '10.100.0.0/16', kubeDns: '10.100.0.10' },
  AKS: { cidr: '10.0.0.0/16', kubeDns: '10.0.0.10' },
  k3s: { cidr: '10.43.0.0/16', kubeDns: '10.43.0.10' },
  // GKE-managed Service range, the default of Autopilot 1.27+ and Standard 1.29+ (GKE docs, VPC-native clusters).
  GKE: { cidr: '34.118.224.0/20', kubeDns: '34.118.224.10' },
};
// The ingress-nginx Helm chart's controller pod (controller.metrics.enabled=true).
const controller: PodRef = {
  labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/instance': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' },
  namespace: 'ingress-nginx',
  ports: [{ name: 'http', containerPort: 80 }, { name: 'https', containerPort: 443 }, { name: 'metrics', containerPort: 10254 }],
};
// A pod of some other application in the cluster.
const stranger: PodRef = { labels: { app: 'something-else' }, namespace: 'default' };
// The API server's endpoint behind the `kubernetes` Service (kube-proxy rewrites 443 to it).
const apiServer: External = { ip: '192.168.49.2' };

/** The pods behind Service `name` and the container port its port `port` (number or name) reaches (targetPort resolved by name). */
function serviceTarget(objects: K8sObject[], all: Workload[], name: string, port: number | string): { workload: Workload; port: number } {
  const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === name);
  assert.ok(service, `no Service/${name}`);
  const spec = service['spec'] as { selector: Record<string, string>; ports: { name?: string; port: number; targetPort?: number | string }[] };
  const servicePort = spec.ports.find((p) => (typeof port === 'number' ? p.port === port : p.name === port));
  assert.ok(servicePort, `Service/${name} has no port ${port}`);
  const selected = all.filter((w) => w.kind !== 'Job' && Object.entries(spec.selector).every(([k, v]) => w.pod.labels[k] === v));
  assert.equal(selected.length, 1, `Service/${name} selects ${selected.length} workloads`);
  const workload = selected[0] as Workload;
  const target = servicePort.targetPort ?? servicePort.port;
  const containerPort = typeof target === 'number' ? target : workload.pod.ports?.find((p) => p.name === target)?.containerPort;
  assert.ok(containerPort !== undefined, `Service/${name} port ${port}: targetPort ${target} is no container port of ${workload.name}`);
  if (typeof target === 'number') assert.ok(workload.pod.ports?.some((p) => p.containerPort === target), `Service/${name}: ${target} is not declared by ${workload.name}`);
  return { workload, port: containerPort };
}

/** The Service and port a URL inside the cluster names (`http://name:port`, `name.namespace.svc...`). */
function urlTarget(objects: K8sObject[], all: Workload[], url: string): { workload: Workload; port: number } {
  const u = new URL(url.includes('://') ? url : `tcp://${url}`);
  const host = u.hostname.split('.')[0] ?? '';
  return serviceTarget(objects, all, host, Number(u.port || (u.protocol === 'https:' ? 443 : 80)));
}

function envOf(objects: K8sObject[], c: Container): Record<string, string> {
  const resolve = (s: EnvSource): string => {
    const ref = s.configMapKeyRef ?? s.secretKeyRef;
    const source = ref && objects.find((o) => (o.kind === 'ConfigMap' || o.kind === 'Secret') && o.metadata.name === ref.name);
    return ref && source ? dataOf(source)[ref.key] ?? '' : '';
  };
  const fromMaps: Record<string, string> = {};
  for (const from of (c as { envFrom?: { configMapRef?: { name: string } }[] }).envFrom ?? []) {
    const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef?.name);
    if (map) Object.assign(fromMaps, dataOf(map));
  }
  return { ...fromMaps, ...containerEnv(c, resolve) };
}

interface Flow {
  from: PodRef;
  to: PodRef | External;
  port: number;
  protocol?: string;
  why: string;
}

function requiredFlows(objects: K8sObject[]): Flow[] {
  const all = workloads(objects);
  const byName = (name: string): Workload => {
    const w = all.find((x) => x.name === name);
    assert.ok(w, `no workload ${name}`);
    return w;
  };
  const flows: Flow[] = [];
  const prometheus = byName('prometheus');
  // DNS, from every pod (and its init containers, same pod).
  for (const w of all) {
    for (const protocol of ['UDP', 'TCP']) {
      flows.push({ from: w.pod, to: kubeDns, port: 53, protocol, why: `${w.name} resolves names (kube-dns, ${protocol})` });
      flows.push({ from: w.pod, to: nodeLocalDns, port: 53, protocol, why: `${w.name} resolves names (NodeLocal DNSCache, ${protocol})` });
      for (const [cluster, { kubeDns: ip }] of Object.entries(kubeDnsServiceRanges)) {
        flows.push({ from: w.pod, to: { ip }, port: 53, protocol, why: `${w.name} resolves names (NodeLocal DNSCache on the kube-dns ClusterIP ${ip}, ${cluster}, ${protocol})` });
      }
    }
  }
  // Prometheus: every annotated pod on its annotated port (itself included: one replica, its own pod).
  for (const w of all.filter((x) => podTemplate(x.object)?.metadata?.annotations?.['prometheus.io/scrape'] === 'true')) {
    const port = Number(podTemplate(w.object)?.metadata?.annotations?.['prometheus.io/port']);
    assert.ok(w.pod.ports?.some((p) => p.containerPort === port), `${w.name}: prometheus.io/port ${port} is no container port`);
    flows.push({ from: prometheus.pod, to: w === prometheus ? prometheus.pod : w.pod, port, why: `Prometheus scrapes ${w.name}:${port}` });
  }
  // kube-state-metrics through its Service (the job keeps the port named http-metrics).
  const ksm = serviceTarget(objects, all, 'kube-state-metrics', 'http-metrics');
  flows.push({ from: prometheus.pod, to: ksm.workload.pod, port: ksm.port, why: 'Prometheus scrapes kube-state-metrics' });
  // The ingress controller's container port named metrics (job ingress-nginx).
  const metricsPort = controller.ports?.find((p) => p.name === 'metrics')?.containerPort;
  assert.ok(metricsPort, 'the ingress controller has a container port named metrics');
  flows.push({ from: prometheus.pod, to: controller, port: metricsPort, why: 'Prometheus scrapes the ingress controller (edge SLI)' });
  // Alerts to Alertmanager, at the address of the alerting config.
  const config = parseYaml(renderedPrometheusConfig(objects))[0] as { alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] } };
  for (const target of config.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((s) => s.targets))) {
    const am = urlTarget(objects, all, target);
    flows.push({ from: prometheus.pod, to: am.workload.pod, port: am.port, why: `Prometheus sends alerts to ${target}` });
  }
  // Discovery and the kubelet/cAdvisor proxy: the API server.
  for (const port of [443, 6443, 8443]) {
    flows.push({ from: prometheus.pod, to: apiServer, port, why: `Prometheus asks the API server (${port})` });
    flows.push({ from: ksm.workload.pod, to: apiServer, port, why: `kube-state-metrics watches the API server (${port})` });
  }
  // The ingress controller to every backend of the Ingress.
  for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
    const rules = (ingress['spec'] as { rules: { http: { paths: { path: string; backend: { service: { name: string; port: { name?: string; number?: number } } } }[] } }[] }).rules;
    for (const path of rules.flatMap((r) => r.http.paths)) {
      const { name, port } = path.backend.service;
      const t = serviceTarget(objects, all, name, port.name ?? port.number ?? 0);
      flows.push({ from: controller, to: t.workload.pod, port: t.port, why: `the Ingress sends ${path.path} to ${name}` });
    }
  }
  // Grafana to each provisioned data source.
  const grafana = byName('grafana');
  const grafanaEnv = envOf(objects, grafana.containers[0] as Container);
  const datasources = objects.filter((o) => o.kind === 'ConfigMap').flatMap((o) => Object.values(dataOf(o)))
    .filter((text) => /^\s*datasources:/m.test(text) && /^apiVersion: 1/m.test(text));
  assert.equal(datasources.length, 1, 'one provisioned datasources file');
  const sources = (parseYaml(datasources[0] ?? '')[0] as { datasources: { name: string; type: string; url?: string }[] }).datasources;
  for (const ds of sources) {
    if (!ds.url) continue;
    const url = ds.url.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a?: string, b?: string) => grafanaEnv[a ?? b ?? ''] ?? '');
    const t = urlTarget(objects, all, url);
    flows.push({ from: grafana.pod, to: t.workload.pod, port: t.port, why: `Grafana's ${ds.type} data source (${url})` });
  }
  // The services: OTLP to the collector, their database, the calls they make.
  const collectorConfig = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'otel-collector-config');
  for (const service of ['user', 'product', 'order']) {
    const w = byName(`${service}-service`);
    const env = envOf(objects, w.containers[0] as Container);
    assert.ok(env['OTEL_EXPORTER_OTLP_ENDPOINT'], `${w.name}: no OTLP endpoint`);
    const otlp = urlTarget(objects, all, env['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? '');
    flows.push({ from: w.pod, to: otlp.workload.pod, port: otlp.port, why: `${w.name} exports spans to ${env['OTEL_EXPORTER_OTLP_ENDPOINT']}` });
    const db = serviceTarget(objects, all, 'postgres', 5432);
    flows.push({ from: w.pod, to: db.workload.pod, port: db.port, why: `${w.name} uses PostgreSQL` });
  }
  // Calls between the services (product verifies tokens with user's JWKS; order reads products and gets service tokens).
  for (const [from, to] of [['product', 'user'], ['order', 'user'], ['order', 'product']] as const) {
    const env = envOf(objects, byName(`${from}-service`).containers[0] as Container);
    const t = urlTarget(objects, all, env[`${to.toUpperCase()}_SERVICE_URL`] ?? '');
    flows.push({ from: byName(`${from}-service`).pod, to: t.workload.pod, port: t.port, why: `${from} calls ${to}` });
  }
  for (const client of ['postgres-exporter', 'postgres-provision']) {
    const db = serviceTarget(objects, all, 'postgres', 5432);
    flows.push({ from: byName(client).pod, to: db.workload.pod, port: db.port, why: `${client} connects to PostgreSQL` });
  }
  // The collector to its exporters' endpoints.
  const pipeline = parseYaml(dataOf(collectorConfig as K8sObject)['config.yaml'] ?? '')[0] as { exporters: Record<string, { endpoint?: string }> };
  for (const [name, exporter] of Object.entries(pipeline.exporters)) {
    if (!exporter.endpoint) continue;
    const t = urlTarget(objects, all, exporter.endpoint);
    flows.push({ from: byName('otel-collector').pod, to: t.workload.pod, port: t.port, why: `the collector's exporter ${name} (${exporter.endpoint})` });
  }
  return flows;
}

test('every flow the platform needs is admitted by the NetworkPolicies: DNS, scrapes, alerts, ingress backends, Grafana data sources, OTLP, databases, calls', () => {
  for (const [label, objects] of renders) {
    const flows = requiredFlows(objects);
    assert.ok(flows.length > 60, `${label}: ${flows.length} flows`);
    const denied = flows.filter((f) => !admits(objects, f.from, f.to, f.port, f.protocol)).map((f) => f.why);
    assert.deepEqual(denied, [], label);
  }
});

test('every component with a metrics endpoint is scraped: the services, postgres_exporter, Prometheus, Alertmanager, kube-state-metrics and the OpenTelemetry Collector', () => {
  for (const [label, objects] of renders) {
    const annotated = workloads(objects).filter((w) => podTemplate(w.object)?.metadata?.annotations?.['prometheus.io/scrape'] === 'true').map((w) => w.name).sort();
    // kube-state-metrics has its own job (by Service).
    assert.deepEqual(annotated, ['alertmanager', 'order-service', 'otel-collector', 'postgres-exporter', 'product-service', 'prometheus', 'user-service'], label);
  }
});

test('the collector serves its own metrics where Prometheus scrapes it (not on its loopback default)', () => {
  for (const [label, objects] of renders) {
    const collector = workloads(objects).find((w) => w.name === 'otel-collector') as Workload;
    const port = Number(podTemplate(collector.object)?.metadata?.annotations?.['prometheus.io/port']);
    const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'otel-collector-config') as K8sObject;
    const config = parseYaml(dataOf(map)['config.yaml'] ?? '')[0] as { service: { telemetry?: { metrics?: { readers?: { pull?: { exporter?: { prometheus?: { host?: string; port?: number } } } }[] } } } };
    // Collector v0.123+: service.telemetry.metrics.readers (pull/prometheus); without one, 127.0.0.1:8888.
    const readers = config.service.telemetry?.metrics?.readers ?? [];
    const exposed = readers.map((r) => r.pull?.exporter?.prometheus).filter((p) => p !== undefined);
    assert.ok(exposed.some((p) => p.port === port && (p.host === '0.0.0.0' || p.host === '::')), `${label}: the collector's metrics listen on ${JSON.stringify(exposed)}, scraped on ${port}`);
  }
});

test('what must stay shut: other namespaces, the ingress controller beyond the Ingress backends, the services beyond their peers, the storefront and PostgreSQL outward', () => {
  for (const [label, objects] of renders) {
    const all = workloads(objects);
    const flows = requiredFlows(objects);
    const same = (a: PodRef | External, b: PodRef): boolean => !('ip' in a) && a.namespace === b.namespace && JSON.stringify(a.labels) === JSON.stringify(b.labels);
    const needed = (from: PodRef, to: PodRef, port: number): boolean => flows.some((f) => same(f.from, from) && same(f.to, to) && f.port === port);
    const acmeSolver = (w: Workload): boolean => w.pod.labels['acme.cert-manager.io/http01-solver'] === 'true';
    for (const w of all.filter((x) => !acmeSolver(x))) {
      for (const { containerPort: port, protocol } of w.pod.ports ?? []) {
        // A pod of another application reaches nothing of ours.
        assert.ok(!admits(objects, stranger, w.pod, port, protocol), `${label}: default/${stranger.labels['app']} -> ${w.name}:${port}`);
        // The ingress controller reaches exactly the Ingress backends (and the scrape is the other way round).
        assert.equal(admits(objects, controller, w.pod, port, protocol), needed(controller, w.pod, port), `${label}: ingress controller -> ${w.name}:${port}`);
        // The storefront (static files) and PostgreSQL open no connection to anything of ours.
        for (const quiet of ['storefront', 'postgres']) {
          const q = all.find((x) => x.name === quiet) as Workload;
          if (q !== w) assert.ok(!admits(objects, q.pod, w.pod, port, protocol), `${label}: ${quiet} -> ${w.name}:${port}`);
        }
        // A service reaches only the peers it needs: no Jaeger, no Prometheus, no Grafana, no other port of the collector.
        for (const service of ['user-service', 'product-service', 'order-service']) {
          const s = all.find((x) => x.name === service) as Workload;
          if (s !== w) assert.equal(admits(objects, s.pod, w.pod, port, protocol), needed(s.pod, w.pod, port), `${label}: ${service} -> ${w.name}:${port}`);
        }
      }
    }
  }
});

test('the evaluator follows the API: named ports resolve on the destination pod, a namespaceSelector with a podSelector is one peer (AND), a pod reaches itself', () => {
  const policy = (spec: object): K8sObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'a' }, spec });
  const web: PodRef = { labels: { app: 'web' }, namespace: 'a', ports: [{ name: 'http', containerPort: 8080 }, { name: 'admin', containerPort: 9000 }] };
  const client: PodRef = { labels: { app: 'client' }, namespace: 'b' };
  const other: PodRef = { labels: { app: 'other' }, namespace: 'b' };
  const named = [policy({ podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 'http' }] }] })];
  assert.ok(admits(named, client, web, 8080));
  assert.ok(!admits(named, client, web, 9000));
  assert.ok(!admits(named, client, { ...web, ports: [] }, 8080), 'a name no container port has matches nothing');
  const and = [policy({ podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'b' } }, podSelector: { matchLabels: { app: 'client' } } }] }] })];
  const or = [policy({ podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'b' } } }, { podSelector: { matchLabels: { app: 'client' } } }] }] })];
  assert.ok(admits(and, client, web, 8080));
  assert.ok(!admits(and, other, web, 8080), 'AND: the pod must match too');
  assert.ok(admits(or, other, web, 8080), 'OR: its namespace is enough');
  assert.ok(!admits(or, { ...client, namespace: 'c' }, web, 8080), 'OR: a bare podSelector means the policy\'s namespace');
  const deny = [policy({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] })];
  assert.ok(admits(deny, web, web, 8080), 'a pod cannot block access to itself');
  assert.ok(!admits(deny, web, { ...web }, 8080), 'another replica is another pod');
  const range = [policy({ podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 5000, endPort: 5010 }] }] })];
  assert.ok(admits(range, web, { ip: '10.2.3.4' }, 5005));
  assert.ok(!admits(range, web, { ip: '10.1.3.4' }, 5005), 'except');
  assert.ok(!admits(range, web, { ip: '10.2.3.4' }, 5011), 'endPort');
  assert.ok(!admits(range, web, client, 5005), 'an ipBlock matches no pod');
});

const ipToInt = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
const cidrRange = (cidr: string): [number, number] => {
  const [base = '', bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = ipToInt(base) - (ipToInt(base) % size);
  return [start, start + size - 1];
};
const inRange = (ip: string, cidr: string): boolean => {
  const [lo, hi] = cidrRange(cidr);
  return ipToInt(ip) >= lo && ipToInt(ip) <= hi;
};

test('DNS under NodeLocal DNSCache: every pod reaches any kube-dns ClusterIP of the common Service ranges on 53, and no resolver on the Internet', async () => {
  const fc = (await import('fast-check')).default;
  // Cluster-internal addresses: RFC 1918, RFC 6598, link-local, the GKE-managed Service range.
  const internal = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', '34.118.224.0/20'];
  for (const [label, objects] of renders) {
    const pods = workloads(objects);
    const services = pods.filter((w) => ['user-service', 'product-service', 'order-service'].includes(w.name));
    // The kube-dns ClusterIP is whatever address of the Service range the cluster gave it (.10 by convention only).
    const clusterIp = fc.constantFrom(...Object.values(kubeDnsServiceRanges)).chain(({ cidr }) => {
      const [lo, hi] = cidrRange(cidr);
      return fc.integer({ min: lo, max: hi }).map(intToIp);
    });
    fc.assert(
      fc.property(fc.constantFrom(...pods.map((p) => p.name)), clusterIp, fc.constantFrom('UDP', 'TCP'), (name, ip, protocol) => {
        const w = pods.find((p) => p.name === name) as Workload;
        assert.ok(admits(objects, w.pod, { ip }, 53, protocol), `${label}: ${w.name} -> ${ip}:53/${protocol}`);
        // DNS only: the ranges open nothing else to the services.
        if (services.includes(w)) assert.ok(!admits(objects, w.pod, { ip }, 80, 'TCP'), `${label}: ${w.name} -> ${ip}:80`);
      }),
      { numRuns: 200 },
    );
    const publicIp = fc.ipV4().filter((ip) => !internal.some((c) => inRange(ip, c)));
    fc.assert(
      fc.property(fc.constantFrom(...services.map((p) => p.name)), fc.oneof(fc.constantFrom('8.8.8.8', '1.1.1.1', '9.9.9.9'), publicIp), fc.constantFrom('UDP', 'TCP'), (name, ip, protocol) => {
        const w = services.find((p) => p.name === name) as Workload;
        assert.ok(!admits(objects, w.pod, { ip }, 53, protocol), `${label}: ${w.name} -> public resolver ${ip}:53/${protocol}`);
      }),
      { numRuns: 200 },
    );
  }
});
