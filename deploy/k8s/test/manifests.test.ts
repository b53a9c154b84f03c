// The Kubernetes manifests: valid against the official API schemas, and
// consistent with each other, with the Dockerfile and with deploy/monitoring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  baseDir, dataOf, devOverlay, k8sDir, kustomizationResources, loadManifests, parseYaml, podTemplate, productionOverlay, renderKustomization, repoRoot, validateObject,
  type Container, type K8sObject, type LoadedObject, type PodTemplate, type Probe,
  applyJsonPatch,
} from '../src/manifests.js';
import { renderGenerated } from '../src/generate-configmaps.js';
import { unknownFieldProblems } from '../src/strict-fields.js';
import { sourceAnnotation } from '../src/monitoring.js';
import { admits, deploymentPod } from '../src/network-policy-matching.js';
import { proxyTrust } from '@ecommerce/kit';
import { assertSameObjects, realKustomize } from './real-kustomize.js';

const all: LoadedObject[] = loadManifests();
const objects = all.map((o) => o.object);
const ofKind = (kind: string): K8sObject[] => objects.filter((o) => o.kind === kind);
const byName = (kind: string, name: string): K8sObject | undefined => ofKind(kind).find((o) => o.metadata.name === name);
const workloads = objects.filter((o) => podTemplate(o) !== undefined);
const templateOf = (o: K8sObject): PodTemplate => podTemplate(o) as PodTemplate;
const containersOf = (o: K8sObject): Container[] => [...(templateOf(o).spec.initContainers ?? []), ...templateOf(o).spec.containers];
/** Our own services: the Deployments that run an image built from deploy/docker/Dockerfile (the storefront's static server aside: storefront.test.ts). */
const serviceDeployments = ofKind('Deployment').filter((d) => d.metadata.name !== 'storefront' && containersOf(d).some((c) => c.image.startsWith('ecommerce/')));
const dockerfile = readFileSync(join(repoRoot, 'deploy/docker/Dockerfile'), 'utf8');
const dockerTargets = [...dockerfile.matchAll(/^FROM\s+runtime\s+AS\s+(\S+)/gim)].map((m) => m[1] ?? '');

function portExists(containers: Container[], port: number | string): boolean {
  return containers.some((c) => (c.ports ?? []).some((p) => p.name === port || p.containerPort === port));
}

test('the manifests hold the seed file names and the base kustomization lists every manifest file', () => {
  const files = readdirSync(baseDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  for (const seed of ['postgres-deployment.yaml', 'user-service.yaml', 'product-service.yaml', 'order-service.yaml', 'ingress.yaml', 'grafana.yaml']) {
    assert.ok(files.includes(seed), `missing ${seed}`);
  }
  assert.deepEqual([...kustomizationResources()].sort(), files);
  // deploy/k8s itself holds only the entry point: a manifest there would be applied by nobody.
  const stray = readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
  assert.deepEqual(stray, [], `move ${stray.join(', ')} to deploy/k8s/base/ and list it in base/kustomization.yaml`);
  assert.equal(serviceDeployments.length, 3);
});

test("docs/deploy.md's file-by-file apply names every base manifest, in the kustomization's order", () => {
  const deployDoc = readFileSync(join(repoRoot, 'docs', 'deploy.md'), 'utf8');
  const byFile = /\(The seed's way, file by file[\s\S]*?\)\n/.exec(deployDoc)?.[0];
  assert.ok(byFile, 'docs/deploy.md has no "The seed\'s way, file by file" paragraph');
  const named = [...byFile.matchAll(/`(?:kubectl apply -f )?([\w-]+\.yaml)`/g)].map((m) => m[1]);
  assert.deepEqual(named, [...kustomizationResources()]);
});

test('every object validates against the Kubernetes API schema of its apiVersion and kind', async (t) => {
  assert.ok(objects.length > 40, `only ${objects.length} objects`);
  for (const { file, object } of all) {
    await t.test(`${file}: ${object.kind}/${object.metadata.name}`, () => validateObject(object));
  }
});

test('the schema check rejects a broken object (so it is not vacuous)', () => {
  const deployment = structuredClone(serviceDeployments[0]) as K8sObject;
  (deployment['spec'] as { replicas: unknown }).replicas = 'two';
  assert.throws(() => validateObject(deployment));
  assert.throws(() => validateObject({ apiVersion: 'example.com/v1', kind: 'Nope', metadata: { name: 'x' } }), /no kubernetes-models class/);
});

// kubectl apply's default --validate=strict refuses an object with a field its API type lacks (src/strict-fields.ts):
// every object of both overlays, of the ingress controller's Role and of the production overlay's optional policy.
test("every object has only fields its API type has (kubectl apply's strict field validation)", () => {
  const rendered = [devOverlay, productionOverlay, 'deploy/k8s/ingress-nginx'].flatMap((dir) => renderKustomization(dir));
  const optional = parseYaml(readFileSync(join(k8sDir, 'overlays/production/external-database.yaml'), 'utf8')) as K8sObject[];
  assert.ok(rendered.length > 150, `only ${rendered.length} objects`);
  assert.deepEqual(unknownFieldProblems([...rendered, ...optional]), []);
});

test('the strict field check names every misspelt or misplaced field by its path, and an unknown kind (so it is not vacuous)', () => {
  const deployment = structuredClone(serviceDeployments[0]) as K8sObject;
  const container = templateOf(deployment).spec.containers[0] as Container & Record<string, unknown>;
  // Misspelt inside a nested type (io.k8s.api.core.v1.SecurityContext has readOnlyRootFilesystem).
  (container.securityContext as Record<string, unknown>)['readOnlyRootFileSystem'] = true;
  // A pod-level field written on the container.
  container['serviceAccountName'] = 'default';
  // Misspelt in a list item of a list item.
  (container.env?.[0] as unknown as Record<string, unknown>)['valeu'] = 'x';
  const service = structuredClone(byName('Service', 'user-service')) as K8sObject;
  (service['spec'] as Record<string, unknown>)['selectors'] = { app: 'x' };
  const problems = unknownFieldProblems([deployment, service, { apiVersion: 'example.com/v1', kind: 'Nope', metadata: { name: 'x' } }]);
  const name = deployment.metadata.name;
  assert.deepEqual(problems.filter((p) => !p.startsWith('Nope//x:')), [
    `Deployment/ecommerce/${name}: unknown field "spec.template.spec.containers[0].env[0].valeu"`,
    `Deployment/ecommerce/${name}: unknown field "spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem"`,
    `Deployment/ecommerce/${name}: unknown field "spec.template.spec.containers[0].serviceAccountName"`,
    'Service/ecommerce/user-service: unknown field "spec.selectors"',
  ]);
  assert.match(problems.find((p) => p.startsWith('Nope//x:')) ?? '', /no API type for example\.com\/v1 Nope/);
  // Maps (labels, annotations, ConfigMap data) take any key.
  const labelled = structuredClone(byName('ConfigMap', 'ecommerce-config')) as K8sObject;
  labelled.metadata.labels = { ...labelled.metadata.labels, 'anything.example.com/any-key': 'v' };
  (labelled['data'] as Record<string, string>)['ANY_NEW_KEY'] = 'v';
  assert.deepEqual(unknownFieldProblems([labelled]), []);
});

test('every namespaced object is in the ecommerce namespace, which enforces PSA restricted', () => {
  const namespace = byName('Namespace', 'ecommerce');
  assert.ok(namespace);
  const labels = namespace.metadata.labels ?? {};
  for (const mode of ['enforce', 'audit', 'warn']) assert.equal(labels[`pod-security.kubernetes.io/${mode}`], 'restricted');
  for (const o of objects) {
    if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) continue;
    assert.equal(o.metadata.namespace, 'ecommerce', `${o.kind}/${o.metadata.name}`);
  }
});

test('object names are unique per kind', () => {
  const seen = new Set<string>();
  for (const o of objects) {
    const key = `${o.kind}/${o.metadata.name}`;
    assert.ok(!seen.has(key), `duplicate ${key}`);
    seen.add(key);
  }
});

test('every Service selects a pod template and its target ports exist as container ports', () => {
  for (const svc of ofKind('Service')) {
    const spec = svc['spec'] as { selector: Record<string, string>; ports: { port: number; targetPort?: number | string }[] };
    const matches = workloads.filter((w) => {
      const labels = templateOf(w).metadata?.labels ?? {};
      return Object.entries(spec.selector).every(([k, v]) => labels[k] === v);
    });
    assert.ok(matches.length > 0, `Service ${svc.metadata.name} selects no pod template`);
    for (const port of spec.ports) {
      for (const w of matches) {
        assert.ok(portExists(containersOf(w), port.targetPort ?? port.port), `Service ${svc.metadata.name}: ${w.metadata.name} has no port ${port.targetPort}`);
      }
    }
  }
});

test('every ingress backend is an existing Service port; only the public prefixes are routed', () => {
  const ingresses = ofKind('Ingress');
  assert.equal(ingresses.length, 1);
  const spec = ingresses[0]?.['spec'] as {
    ingressClassName: string;
    rules: { host?: string; http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { name?: string; number?: number } } } }[] } }[];
  };
  assert.equal(spec.ingressClassName, 'nginx');
  const paths: string[] = [];
  for (const rule of spec.rules) {
    assert.equal(rule.host, undefined, 'the development Ingress answers any host (the test on it below)');
    for (const p of rule.http.paths) {
      paths.push(p.path);
      assert.doesNotMatch(p.path, /^\/(internal|metrics|livez|readyz)(\/|$)/);
      // The storefront's paths (storefront.test.ts) may be Exact; the API prefixes are Prefix.
      if (p.backend.service.name !== 'storefront') assert.equal(p.pathType, 'Prefix');
      const svc = byName('Service', p.backend.service.name);
      assert.ok(svc, `no Service ${p.backend.service.name}`);
      const ports = (svc['spec'] as { ports: { name?: string; port: number }[] }).ports;
      assert.ok(ports.some((sp) => sp.name === p.backend.service.port.name || sp.port === p.backend.service.port.number), `${p.path}: no such port`);
    }
  }
  const api = spec.rules.flatMap((r) => r.http.paths).filter((p) => p.backend.service.name !== 'storefront').map((p) => p.path);
  assert.deepEqual(api.sort(), ['/order', '/product', '/user']);
  assert.equal(paths.length, new Set(paths).size);
});

test('every pod annotated for scraping declares the annotated port as a numbered container port (Prometheus keeps only that target)', () => {
  // prometheus-k8s.yml keeps the discovered target whose container port number equals prometheus.io/port:
  // a port not declared (or declared only by name) would leave the pod unscraped.
  const annotated = workloads.filter((w) => templateOf(w).metadata?.annotations?.['prometheus.io/scrape'] === 'true');
  assert.ok(annotated.length >= 5, `only ${annotated.length} annotated workloads`);
  for (const w of annotated) {
    const port = Number(templateOf(w).metadata?.annotations?.['prometheus.io/port']);
    const declared = templateOf(w).spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort));
    assert.ok(Number.isInteger(port) && declared.includes(port), `${w.kind}/${w.metadata.name}: prometheus.io/port ${port} is not a containerPort of ${JSON.stringify(declared)}`);
  }
});

test('the services probe /livez and /readyz on a declared port; every probe port exists', () => {
  for (const w of workloads) {
    for (const c of containersOf(w)) {
      for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe].filter((p): p is Probe => p !== undefined)) {
        const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
        if (port !== undefined) assert.ok(portExists([c], port), `${w.metadata.name}/${c.name}: probe port ${port} not declared`);
      }
    }
  }
  for (const d of serviceDeployments) {
    const [c] = templateOf(d).spec.containers;
    assert.ok(c);
    assert.equal(c.startupProbe?.httpGet?.path, '/livez', d.metadata.name);
    assert.equal(c.livenessProbe?.httpGet?.path, '/livez', d.metadata.name);
    assert.equal(c.readinessProbe?.httpGet?.path, '/readyz', d.metadata.name);
  }
});

test('every Secret and ConfigMap reference names a key that exists in the repo', () => {
  for (const w of workloads) {
    for (const c of containersOf(w)) {
      const defined = new Set<string>();
      for (const env of c.env ?? []) {
        const secret = env.valueFrom?.secretKeyRef;
        const config = env.valueFrom?.configMapKeyRef;
        const ref = secret ?? config;
        if (ref) {
          const source = byName(secret ? 'Secret' : 'ConfigMap', ref.name);
          assert.ok(source, `${w.metadata.name}/${c.name} ${env.name}: no ${secret ? 'Secret' : 'ConfigMap'} ${ref.name}`);
          assert.ok(ref.key in dataOf(source), `${w.metadata.name}/${c.name} ${env.name}: ${ref.name} has no key ${ref.key}`);
        }
        // $(VAR) expands only variables defined earlier in the list.
        for (const m of (env.value ?? '').matchAll(/\$\(([A-Z0-9_]+)\)/g)) {
          assert.ok(defined.has(m[1] ?? ''), `${w.metadata.name} ${env.name} uses $(${m[1]}) before it is defined`);
        }
        defined.add(env.name);
      }
    }
    for (const volume of templateOf(w).spec.volumes ?? []) {
      const names = [volume.configMap?.name, ...(volume.projected?.sources ?? []).map((s) => s.configMap?.name)].filter((n): n is string => !!n);
      for (const name of names) assert.ok(byName('ConfigMap', name), `${w.metadata.name}: no ConfigMap ${name}`);
    }
  }
});

test('secrets reach the services only through Secret references', () => {
  for (const d of serviceDeployments) {
    for (const env of templateOf(d).spec.containers[0]?.env ?? []) {
      if (/PASSWORD|SECRET|PRIVATE_KEY/.test(env.name)) assert.ok(env.valueFrom?.secretKeyRef, `${d.metadata.name} ${env.name} is a literal`);
    }
  }
});

test('every container runs hardened, with requests and limits', () => {
  for (const w of workloads) {
    const pod = templateOf(w).spec.securityContext ?? {};
    for (const c of containersOf(w)) {
      const sc = c.securityContext ?? {};
      const where = `${w.kind}/${w.metadata.name}/${c.name}`;
      assert.equal(sc['runAsNonRoot'] ?? pod['runAsNonRoot'], true, `${where} runAsNonRoot`);
      // The kubelet verifies runAsNonRoot against a numeric uid only: without runAsUser it takes the image's USER,
      // and a name (prom/prometheus, prom/alertmanager and postgres_exporter say "nobody") fails the container with
      // CreateContainerConfigError "image has non-numeric user (nobody), cannot verify user is non-root"
      // (kubernetes pkg/kubelet/kuberuntime/security_context_others.go, verifyRunAsNonRoot). Pod Security
      // restricted refuses uid 0 (k8s.io/pod-security-admission policy/check_runAsUser.go) and any added
      // capability but NET_BIND_SERVICE (policy/check_capabilities_restricted.go).
      const uid = sc['runAsUser'] ?? pod['runAsUser'];
      assert.ok(typeof uid === 'number' && Number.isInteger(uid) && uid > 0, `${where} runAsUser ${String(uid)}: a numeric non-root uid, in the pod or the container`);
      const added = (sc['capabilities'] as { add?: string[] } | undefined)?.add ?? [];
      assert.deepEqual(added.filter((a) => a !== 'NET_BIND_SERVICE'), [], `${where} adds capabilities restricted refuses`);
      assert.notEqual(sc['privileged'], true, `${where} privileged`);
      assert.equal(sc['allowPrivilegeEscalation'], false, `${where} allowPrivilegeEscalation`);
      assert.equal(sc['readOnlyRootFilesystem'], true, `${where} readOnlyRootFilesystem`);
      assert.deepEqual((sc['capabilities'] as { drop?: string[] } | undefined)?.drop, ['ALL'], `${where} capabilities`);
      const seccomp = (sc['seccompProfile'] ?? pod['seccompProfile']) as { type?: string } | undefined;
      assert.equal(seccomp?.type, 'RuntimeDefault', `${where} seccomp`);
      for (const kind of ['requests', 'limits'] as const) {
        assert.ok(c.resources?.[kind]?.['cpu'] && c.resources[kind]['memory'], `${where} ${kind}`);
      }
    }
  }
});

test('service Deployments: no replicas (the HPA owns them), surge rollout, drain-length grace period, scrape annotations, HPA and PDB', () => {
  const config = dataOf(byName('ConfigMap', 'ecommerce-config') as K8sObject);
  const drainSeconds = Number(config['SHUTDOWN_TIMEOUT_MS']) / 1000;
  for (const d of serviceDeployments) {
    const name = d.metadata.name;
    const spec = d['spec'] as { replicas?: number; strategy: { rollingUpdate: { maxSurge: number; maxUnavailable: number } }; selector: { matchLabels: Record<string, string> } };
    // Every `kubectl apply` would reset a scaled-up Deployment to this value.
    assert.equal(spec.replicas, undefined, `${name}: spec.replicas fights its HPA`);
    assert.ok(spec.strategy.rollingUpdate.maxSurge >= 1 && spec.strategy.rollingUpdate.maxUnavailable === 0, name);
    const template = templateOf(d);
    const c = template.spec.containers[0] as Container & { lifecycle?: { preStop?: { exec?: { command: string[] } } }; volumeMounts?: { mountPath: string }[] };
    const preStop = Number(c.lifecycle?.preStop?.exec?.command[1] ?? 0);
    const grace = template.spec.terminationGracePeriodSeconds ?? 30;
    assert.ok(grace >= preStop + drainSeconds, `${name}: grace ${grace}s < preStop ${preStop}s + drain ${drainSeconds}s`);
    assert.ok(grace <= preStop + drainSeconds + 10, `${name}: grace ${grace}s far longer than the drain`);
    assert.ok(c.volumeMounts?.some((m) => m.mountPath === '/tmp'), `${name}: no /tmp mount`);
    const annotations = template.metadata?.annotations ?? {};
    assert.equal(annotations['prometheus.io/scrape'], 'true');
    assert.equal(annotations['prometheus.io/path'], '/metrics');
    assert.ok(portExists([c], Number(annotations['prometheus.io/port'])), `${name}: scrape port`);
    const hpa = ofKind('HorizontalPodAutoscaler').find((h) => (h['spec'] as { scaleTargetRef: { name: string } }).scaleTargetRef.name === name);
    assert.ok(hpa && hpa.apiVersion === 'autoscaling/v2', `${name}: no autoscaling/v2 HPA`);
    const hpaSpec = hpa['spec'] as { minReplicas: number; maxReplicas: number; metrics: { resource?: { name: string } }[] };
    assert.ok(hpaSpec.minReplicas >= 2 && hpaSpec.maxReplicas > hpaSpec.minReplicas);
    assert.ok(hpaSpec.metrics.some((m) => m.resource?.name === 'cpu'));
    const pdb = ofKind('PodDisruptionBudget').find((p) => {
      const match = (p['spec'] as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
      return Object.entries(match).every(([k, v]) => template.metadata?.labels?.[k] === v);
    });
    assert.ok(pdb, `${name}: no PodDisruptionBudget`);
  }
});

// The HPAs read CPU from the resource metrics API, which metrics-server serves; minikube enables it as an addon, but a
// cluster may not have it (EKS installs none by default). Without it an HPA cannot scale: `kubectl get hpa` shows an
// <unknown> target and the Deployment stays at minReplicas (the HPA raises a new Deployment to it without metrics).
test('docs/deploy.md says where the HPAs are described that they need metrics-server, what shows without it, and how to install it', () => {
  const hpas = ofKind('HorizontalPodAutoscaler').map((h) => h['spec'] as { minReplicas: number; metrics: { resource?: { target: { averageUtilization: number } } }[] });
  const min = [...new Set(hpas.map((h) => h.minReplicas))];
  const cpu = [...new Set(hpas.flatMap((h) => h.metrics.map((m) => m.resource?.target.averageUtilization)))];
  assert.equal(min.length, 1, 'one minReplicas for every HPA');
  assert.equal(cpu.length, 1, 'one CPU target for every HPA');
  const doc = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
  const automatic = (/^- \*\*Automatic\*\*:[\s\S]*?(?=\n- \*\*)/m.exec(doc)?.[0] ?? '').replace(/\s+/g, ' ');
  assert.match(automatic, /HPA/, 'docs/deploy.md, Scaling: no "Automatic" bullet on the HPAs');
  assert.match(automatic, /metrics-server/);
  assert.match(automatic, /EKS/);
  assert.ok(automatic.includes(`\`<unknown>/${cpu[0]}%\``), `the target kubectl shows without metrics: <unknown>/${cpu[0]}%`);
  assert.match(automatic, new RegExp(`(?:stays|held) at ${min[0]} replicas`), `the replicas held: minReplicas ${min[0]}`);
  assert.ok(automatic.includes('`kubectl apply -f https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/components.yaml`'), 'the install command');
});

test('service images are the Dockerfile targets, with the port and entry point the Dockerfile declares', () => {
  assert.deepEqual(dockerTargets, ['user', 'product', 'order', 'gateway', 'storefront']);
  for (const d of serviceDeployments) {
    const c = templateOf(d).spec.containers[0] as Container;
    const m = /^ecommerce\/([a-z]+):[\w.-]+$/.exec(c.image);
    assert.ok(m, c.image);
    const target = m[1] ?? '';
    assert.ok(dockerTargets.includes(target), `${c.image}: no Dockerfile target ${target}`);
    const stage = dockerfile.split(/^FROM /m).find((s) => s.startsWith(`runtime AS ${target}`)) ?? '';
    const exposed = Number(/^EXPOSE (\d+)/m.exec(stage)?.[1]);
    assert.ok(portExists([c], exposed), `${target}: EXPOSE ${exposed} is not a container port`);
    assert.match(stage, new RegExp(`CMD \\["node", "services/${target}/dist/src/main.js"\\]`));
    assert.equal(c.env?.find((e) => e.name === 'PORT')?.value, String(exposed));
  }
});

test('the Dockerfile: official Node image by default, non-root, SIGTERM, healthcheck, OCI labels', () => {
  assert.match(dockerfile, /^ARG NODE_IMAGE=node:\d+-bookworm-slim$/m);
  assert.match(dockerfile, /^USER 10001:10001$/m);
  assert.match(dockerfile, /^STOPSIGNAL SIGTERM$/m);
  assert.match(dockerfile, /^HEALTHCHECK .*\n\s+CMD \["env", "-u", "NODE_OPTIONS", "node"/m);
  assert.match(dockerfile, /org\.opencontainers\.image\.title=/);
  assert.doesNotMatch(dockerfile, /(CMD|RUN) \[?"?(curl|wget)/);
});

test('the monitoring manifests are up to date with deploy/monitoring', () => {
  for (const [file, content] of Object.entries(renderGenerated())) {
    assert.equal(readFileSync(join(baseDir, file), 'utf8'), content, `${file} is stale: node deploy/k8s/dist/src/generate-configmaps.js`);
  }
});

test('the generated ConfigMaps equal the files in deploy/monitoring, and carry all of them', () => {
  const generated = ofKind('ConfigMap').filter((m) => m.metadata.annotations?.[sourceAnnotation]);
  assert.ok(generated.length >= 3);
  const covered = new Set<string>();
  for (const map of generated) {
    const sources = (map.metadata.annotations?.[sourceAnnotation] ?? '').split(',').filter(Boolean);
    const data = dataOf(map);
    assert.equal(Object.keys(data).length, sources.length, map.metadata.name);
    for (const source of sources) {
      const content = readFileSync(join(repoRoot, source), 'utf8');
      assert.ok(Object.values(data).includes(content), `${map.metadata.name}: ${source} differs`);
      covered.add(source);
    }
    // kubectl apply (client side) keeps a copy in a 256 KiB annotation.
    assert.ok(JSON.stringify(map).length < 250_000, `${map.metadata.name} is too large for kubectl apply`);
  }
  const expect = (dir: string, pattern: RegExp): string[] => {
    try {
      return readdirSync(join(repoRoot, dir)).filter((f) => pattern.test(f)).map((f) => `${dir}/${f}`);
    } catch {
      return [];
    }
  };
  for (const file of [
    ...expect('deploy/monitoring/rules', /\.ya?ml$/),
    ...expect('deploy/monitoring/alertmanager', /\.ya?ml$/),
    ...expect('deploy/monitoring/grafana/dashboards', /\.json$/),
    ...expect('deploy/monitoring/grafana/provisioning/datasources', /\.ya?ml$/),
    ...expect('deploy/monitoring/grafana/provisioning/dashboards', /\.ya?ml$/),
    'deploy/monitoring/prometheus/prometheus-k8s.yml',
  ]) {
    assert.ok(covered.has(file), `${file} is not in any ConfigMap`);
  }
});

test('network policies: default deny, DNS, and every service port open to the ingress controller', () => {
  const policies = ofKind('NetworkPolicy');
  const deny = policies.find((p) => {
    const spec = p['spec'] as { podSelector: object; policyTypes: string[]; ingress?: unknown; egress?: unknown };
    return Object.keys(spec.podSelector).length === 0 && spec.policyTypes.length === 2 && !spec.ingress && !spec.egress;
  });
  assert.ok(deny, 'no default-deny policy');
  for (const d of serviceDeployments) {
    const name = d.metadata.name;
    const port = templateOf(d).spec.containers[0]?.ports?.[0]?.containerPort;
    const own = policies.find((p) => (p['spec'] as { podSelector: { matchLabels?: Record<string, string> } }).podSelector.matchLabels?.['app.kubernetes.io/name'] === name);
    assert.ok(own, `${name}: no NetworkPolicy`);
    const ingress = (own['spec'] as { ingress: { from: { namespaceSelector?: { matchLabels: Record<string, string> } }[]; ports: { port: number }[] }[] }).ingress;
    assert.ok(ingress.some((rule) => rule.ports.some((p) => p.port === port) && rule.from.some((f) => f.namespaceSelector?.matchLabels['kubernetes.io/metadata.name'] === 'ingress-nginx')), `${name}: ingress-nginx cannot reach port ${port}`);
  }
});

const kustomizations = ['deploy/k8s', devOverlay, productionOverlay, 'deploy/k8s/base'];

test('every kustomization renders every object into the ecommerce namespace (our renderer)', () => {
  for (const dir of kustomizations) {
    const rendered = renderKustomization(dir);
    assert.ok(rendered.length > 40, dir);
    for (const o of rendered) {
      if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) continue;
      assert.equal(o.metadata.namespace, 'ecommerce', `${dir}: ${o.kind}/${o.metadata.name}`);
    }
  }
});

test('our kustomize renderer produces exactly what the real kustomize produces (kubectl kustomize)', (t) => {
  for (const dir of kustomizations) {
    const real = realKustomize(join(repoRoot, dir));
    if (!real) {
      // kubectl is not in Debian's archive, so a machine may lack it; the renderer (src/manifests.ts) stands in.
      t.skip('kubectl is not installed');
      return;
    }
    assertSameObjects(renderKustomization(dir), real, dir);
  }
});

test('the renderer refuses what it does not reproduce, and JSON patches behave as RFC 6902 says', () => {
  const object = { spec: { list: [{ a: 1 }], map: { b: 2 } } };
  applyJsonPatch(object, [
    { op: 'add', path: '/spec/list/-', value: { a: 2 } },
    { op: 'replace', path: '/spec/map/b', value: 3 },
    { op: 'add', path: '/spec/map/c~1d', value: 4 },
    { op: 'remove', path: '/spec/list/0' },
    { op: 'test', path: '/spec/list/0/a', value: 2 },
  ]);
  assert.deepEqual(object, { spec: { list: [{ a: 2 }], map: { b: 3, 'c/d': 4 } } });
  assert.throws(() => applyJsonPatch(object, [{ op: 'replace', path: '/spec/nope/x', value: 1 }]), /does not exist/);
  assert.throws(() => applyJsonPatch(object, [{ op: 'test', path: '/spec/map/b', value: 9 }]), /failed/);
});

test('no Deployment or StatefulSet that an HPA scales carries spec.replicas, in any overlay', () => {
  for (const dir of kustomizations) {
    const rendered = renderKustomization(dir);
    const hpas = rendered.filter((o) => o.kind === 'HorizontalPodAutoscaler');
    assert.ok(hpas.length >= 3, dir);
    for (const hpa of hpas) {
      const ref = (hpa['spec'] as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef;
      const target = rendered.find((o) => o.kind === ref.kind && o.metadata.name === ref.name);
      assert.ok(target, `${dir}: HPA ${hpa.metadata.name} scales a missing ${ref.kind}/${ref.name}`);
      assert.equal((target['spec'] as { replicas?: number }).replicas, undefined, `${dir}: ${ref.kind}/${ref.name} has replicas and an HPA`);
    }
  }
});

/** A rolling update's extra pods at most: maxSurge as a number or a percentage (rounded up, as Kubernetes does). */
function surgeOf(deployment: K8sObject, replicas: number): number {
  const strategy = (deployment['spec'] as { strategy?: { type?: string; rollingUpdate?: { maxSurge?: number | string } } }).strategy;
  if (strategy?.type === 'Recreate') return 0;
  const surge = strategy?.rollingUpdate?.maxSurge ?? '25%';
  return typeof surge === 'number' ? surge : Math.ceil((replicas * Number(surge.replace('%', ''))) / 100);
}

/** Every client of the in-cluster PostgreSQL at full scale, against its max_connections. */
function connectionBudget(rendered: K8sObject[]): { used: number; max: number; lines: string[] } {
  const postgres = rendered.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'postgres') as K8sObject;
  const args = (podTemplate(postgres)?.spec.containers[0] as Container & { args?: string[] }).args ?? [];
  const setting = (name: string, fallback: number): number => {
    const i = args.findIndex((a) => a.startsWith(`${name}=`));
    return i >= 0 ? Number(args[i]?.split('=')[1]) : fallback;
  };
  const max = setting('max_connections', 100);
  // Slots only a superuser may use (PostgreSQL's default 3): not the services'.
  const reserved = setting('superuser_reserved_connections', 3);
  const lines: string[] = [];
  let used = reserved;
  for (const d of rendered.filter((o) => o.kind === 'Deployment')) {
    const c = podTemplate(d)?.spec.containers[0] as Container;
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
    const isClient = (c.env ?? []).some((e) => e.name === 'DATABASE_URL' || e.name === 'DATA_SOURCE_URI');
    if (!isClient) continue;
    const hpa = rendered.find((o) => o.kind === 'HorizontalPodAutoscaler' && (o['spec'] as { scaleTargetRef: { name: string } }).scaleTargetRef.name === d.metadata.name);
    const replicas = hpa ? (hpa['spec'] as { maxReplicas: number }).maxReplicas : ((d['spec'] as { replicas?: number }).replicas ?? 1);
    const pods = replicas + surgeOf(d, replicas);
    // The services' pool size must be explicit; postgres_exporter holds one connection (plus one while a scrape overlaps).
    // The order service's audit takes its advisory lock on one more connection, outside the pool (kit withSessionLock).
    const outsidePool = d.metadata.name === 'order-service' ? 1 : 0;
    const perPod = c.env?.some((e) => e.name === 'DATA_SOURCE_URI') ? 2 : Number(env['DB_POOL_MAX']) + outsidePool;
    assert.ok(Number.isInteger(perPod) && perPod > outsidePool, `${d.metadata.name}: DB_POOL_MAX is not set`);
    used += pods * perPod;
    lines.push(`${d.metadata.name}: ${pods} pods x ${perPod}`);
  }
  // The provisioning Job: one psql session at a time.
  used += 1;
  return { used, max, lines };
}

test('connection budget: pool size x (HPA maxReplicas + surge) over every client stays under max_connections, in every overlay', () => {
  for (const dir of kustomizations) {
    const { used, max, lines } = connectionBudget(renderKustomization(dir));
    assert.ok(lines.length >= 4, `${dir}: ${lines.join(', ')}`);
    assert.ok(used <= max, `${dir}: ${used} connections at full scale > max_connections ${max} (${lines.join(', ')})`);
  }
  // And it counts: the former pool of 10 per pod would not have fitted (3 x 10 x (6 + 1) = 210).
  const rendered = renderKustomization(devOverlay);
  for (const d of rendered.filter((o) => o.kind === 'Deployment')) {
    for (const e of podTemplate(d)?.spec.containers[0]?.env ?? []) if (e.name === 'DB_POOL_MAX') e.value = '10';
  }
  const bigger = connectionBudget(rendered);
  assert.ok(bigger.used > bigger.max, `${bigger.used}`);
});

test("docs/deploy.md's connection budget (Scaling) is the one computed from the development manifests", () => {
  const docs = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
  const paragraph = docs.slice(docs.indexOf('**Limits of one database**'), docs.indexOf('**Disruptions**'));
  const said = /:\s+(\d+)\s+of\s+PostgreSQL's\s+`max_connections`\s+(\d+)/.exec(paragraph);
  assert.ok(said, 'the paragraph states "<used> of PostgreSQL\'s `max_connections` <max>"');
  const { used, max, lines } = connectionBudget(renderKustomization(devOverlay));
  assert.deepEqual([Number(said[1]), Number(said[2])], [used, max], lines.join(', '));
});

test('the base and the production overlay hold no Secret; dev Secrets are marked as development values', () => {
  for (const dir of ['deploy/k8s/base', productionOverlay]) {
    const secrets = renderKustomization(dir).filter((o) => o.kind === 'Secret');
    assert.deepEqual(secrets.map((o) => o.metadata.name), [], `${dir} ships Secrets`);
  }
  const dev = readFileSync(join(k8sDir, 'overlays/dev/secrets.yaml'), 'utf8');
  assert.match(dev, /^# DEVELOPMENT SECRETS/);
  // Every Secret a workload of the production overlay reads, with its keys:
  // what an operator must create (docs/deploy.md, create-secrets.sh).
  const needed = secretKeysReferenced(renderKustomization(productionOverlay));
  const devSecrets = renderKustomization(devOverlay).filter((o) => o.kind === 'Secret');
  for (const [name, keys] of needed) {
    const secret = devSecrets.find((s) => s.metadata.name === name);
    assert.ok(secret, `dev overlay lacks Secret ${name}`);
    for (const key of keys) assert.ok(key in dataOf(secret), `dev Secret ${name} lacks ${key}`);
  }
});

/** Secret name -> keys, over every env and volume reference of every workload. */
function secretKeysReferenced(rendered: K8sObject[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (name: string, key: string): void => void out.set(name, (out.get(name) ?? new Set()).add(key));
  for (const w of rendered.filter((o) => podTemplate(o))) {
    const spec = podTemplate(w)?.spec;
    for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
      for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) add(e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key);
    }
  }
  return out;
}

test('the production overlay: no demo catalog, everything else as in the base', () => {
  const production = renderKustomization(productionOverlay);
  const base = renderKustomization('deploy/k8s/base');
  const product = production.find((o) => o.kind === 'Deployment' && o.metadata.name === 'product-service') as K8sObject;
  const env = podTemplate(product)?.spec.containers[0]?.env ?? [];
  assert.equal(env.find((e) => e.name === 'SEED_DEMO_DATA')?.value, 'false');
  // The dev overlay seeds (the service's default), so a fresh minikube has a catalog.
  const devProduct = renderKustomization(devOverlay).find((o) => o.kind === 'Deployment' && o.metadata.name === 'product-service') as K8sObject;
  assert.equal(podTemplate(devProduct)?.spec.containers[0]?.env?.find((e) => e.name === 'SEED_DEMO_DATA'), undefined);
  // Plus the one policy its TLS needs (the test below).
  assert.deepEqual(production.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [...base.map((o) => `${o.kind}/${o.metadata.name}`), 'NetworkPolicy/acme-http01-solver'].sort());
});

test('where the Ingress asks cert-manager for a certificate, ingress-nginx can reach the HTTP-01 solver pod (and nothing else can)', () => {
  // cert-manager's solver pod: label acme.cert-manager.io/http01-solver "true", listening on 8089
  // (pkg/issuer/acme/http: pod.go, http.go); the challenge reaches it through the ingress controller.
  const solver = { labels: { 'acme.cert-manager.io/http01-solver': 'true', 'acme.cert-manager.io/http-domain': '1234', 'acme.cert-manager.io/http-token': '5678' }, namespace: 'ecommerce' };
  const controller = { labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' }, namespace: 'ingress-nginx' };
  let checked = 0;
  for (const dir of kustomizations) {
    const rendered = renderKustomization(dir);
    const ingress = rendered.find((o) => o.kind === 'Ingress') as K8sObject;
    const usesAcme = Object.keys(ingress.metadata.annotations ?? {}).some((k) => k === 'cert-manager.io/cluster-issuer' || k === 'cert-manager.io/issuer');
    // The evaluator is not vacuous: the storefront is open to the controller, closed to another namespace.
    assert.ok(admits(rendered, controller, deploymentPod(rendered, 'storefront'), 8080), dir);
    assert.ok(!admits(rendered, { ...controller, namespace: 'default' }, deploymentPod(rendered, 'storefront'), 8080), dir);
    if (!usesAcme) {
      assert.ok(!admits(rendered, controller, solver, 8089), `${dir}: no certificate is asked for, yet the solver port is open`);
      continue;
    }
    checked++;
    assert.ok(admits(rendered, controller, solver, 8089), `${dir}: the challenge cannot reach cert-manager's solver`);
    assert.ok(!admits(rendered, controller, solver, 8080), `${dir}: only the solver port`);
    assert.ok(!admits(rendered, deploymentPod(rendered, 'order-service'), solver, 8089), `${dir}: only from the ingress controller`);
  }
  assert.equal(checked, 1, 'the production overlay asks cert-manager for its certificate');
});

test('DNS egress reaches kube-dns pods and the NodeLocal DNSCache address', () => {
  const dns = byName('NetworkPolicy', 'allow-dns-egress');
  assert.ok(dns);
  const spec = dns['spec'] as { podSelector: object; egress: { to: { podSelector?: { matchLabels: Record<string, string> }; ipBlock?: { cidr: string } }[]; ports: { protocol: string; port: number }[] }[] };
  assert.deepEqual(spec.podSelector, {}, 'every pod resolves names');
  const rule = spec.egress[0];
  assert.ok(rule);
  assert.ok(rule.to.some((t) => t.podSelector?.matchLabels['k8s-app'] === 'kube-dns'));
  assert.ok(rule.to.some((t) => t.ipBlock?.cidr === '169.254.20.10/32'), 'NodeLocal DNSCache');
  assert.deepEqual(rule.ports.map((p) => `${p.protocol}/${p.port}`).sort(), ['TCP/53', 'UDP/53']);
});

test('docs/deploy.md builds every image of ours the manifests run, and its expected output names every Deployment', () => {
  const docs = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
  const ours = [...new Set(objects.filter((o) => podTemplate(o)).flatMap((o) => containersOf(o).map((c) => c.image)).filter((i) => i.startsWith('ecommerce/')).map((i) => (i.split(':')[0] ?? '').slice('ecommerce/'.length)))].sort();
  assert.deepEqual(ours, ['order', 'product', 'storefront', 'user']);
  // Every `for t in ...` loop that builds `--target $t`: an image left out is pulled from Docker Hub by its bare name.
  const loops = [...docs.matchAll(/for t in ([a-z ]+); do\n[^\n]*--target \$t/g)].map((m) => (m[1] ?? '').split(' '));
  assert.ok(loops.length >= 3, `found ${loops.length} build loops`);
  for (const loop of loops) for (const image of ours) assert.ok(loop.includes(image), `a build loop (${loop.join(' ')}) leaves out ${image}`);
  // Step 4 (`kubectl wait ... deploy --all`) lists each Deployment's condition.
  const waited = [...docs.matchAll(/^ {3}deployment\.apps\/(\S+) condition met$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(waited, ofKind('Deployment').map((d) => d.metadata.name).sort());
  // Every base manifest file is described in the table of what the manifests contain.
  const tableFiles = docs.split('\n').filter((line) => line.startsWith('| `')).map((line) => line.split(' | ')[0] ?? '').join(' ');
  for (const file of kustomizationResources()) assert.ok(tableFiles.includes(`\`${file}\``), `docs/deploy.md does not describe ${file}`);
});

/**
 * Each `--build-arg` shown in the docs (code blocks and inline code alike), as Docker reads it: the flag takes ONE
 * KEY=VALUE (docker/cli cli/command/image/build.go: `flags.Var(&options.buildArgs, "build-arg", ...)`, a ListOpts;
 * docker/buildx commands/build.go: `flags.StringArrayVar(&options.buildArgs, "build-arg", ...)`), so a second
 * KEY=VALUE after it is a positional argument, and `docker build` takes exactly one (the context: cli.ExactArgs(1)),
 * failing with '"docker buildx build" requires exactly 1 argument'. Returns, per misuse, "<file>: <what>".
 */
function buildArgProblems(files: Readonly<Record<string, string>>, declared: readonly string[]): string[] {
  const problems: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    const flat = text.replace(/\\\n/g, ' ').replace(/\n[ \t>]*/g, ' ');
    for (const m of flat.matchAll(/--build-arg[ =]([^\s`]+)(?:\s+([^\s`]+))?/g)) {
      const [, arg = '', next] = m;
      // A bare KEY is allowed too: Docker then takes its value from the environment.
      const key = /^([A-Za-z_][A-Za-z0-9_]*)(?:=|$)/.exec(arg)?.[1];
      if (!key) problems.push(`${file}: --build-arg ${arg} is not KEY=VALUE (or KEY)`);
      else if (!declared.includes(key)) problems.push(`${file}: --build-arg ${key}: the Dockerfile declares no ARG ${key}`);
      if (next !== undefined && /^[A-Za-z_][A-Za-z0-9_]*=/.test(next)) problems.push(`${file}: ${next} after --build-arg ${arg} is a second positional argument (one KEY=VALUE per --build-arg)`);
    }
  }
  return problems;
}

test('every --build-arg the docs show passes one KEY=VALUE the Dockerfile declares (docker build takes one per flag)', () => {
  const declared = [...dockerfile.matchAll(/^ARG\s+([A-Za-z_][A-Za-z0-9_]*)/gm)].map((m) => m[1] ?? '');
  assert.deepEqual([...declared].sort(), ['CREATED', 'NODE_IMAGE', 'REVISION', 'SERVICES', 'SOURCE', 'VERSION']);
  const docFiles = ['docs/deploy.md', 'docs/configuration.md', 'deploy/docker/README.md', 'README.md'];
  const files = Object.fromEntries(docFiles.map((f) => [f, readFileSync(join(repoRoot, f), 'utf8')]));
  assert.ok(Object.values(files).join('').split('--build-arg').length > 4, 'the docs show --build-arg');
  assert.deepEqual(buildArgProblems(files, declared), []);
  // Not vacuous: several pairs after one flag, an ARG the Dockerfile lacks, a flag with no pair; the right form passes.
  assert.deepEqual(buildArgProblems({
    a: 'pass `--build-arg VERSION=1 REVISION=$(git\n  rev-parse HEAD)`',
    b: 'docker build --build-arg NODE_VERSION=24 .',
    c: 'docker build --build-arg -t x .',
    d: 'docker buildx build --target $t \\\n  --build-arg VERSION=$TAG --build-arg REVISION=$(git rev-parse HEAD) -t x --push .',
    e: 'the image\'s own, `--build-arg VERSION` (the Dockerfile sets it)',
  }, declared), [
    'a: REVISION=$(git after --build-arg VERSION=1 is a second positional argument (one KEY=VALUE per --build-arg)',
    'b: --build-arg NODE_VERSION: the Dockerfile declares no ARG NODE_VERSION',
    'c: --build-arg -t is not KEY=VALUE (or KEY)',
  ]);
});

test('docs/deploy.md: the minikube clean-up stops every port-forward the steps before it left running', () => {
  const docs = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
  const start = docs.indexOf('## Kubernetes with minikube, step by step');
  const cleanUp = docs.indexOf('**Clean up**', start);
  assert.ok(start >= 0 && cleanUp > start, 'the minikube steps and their clean-up');
  const background = docs.slice(start, cleanUp).split('\n').filter((l) => /^\s+kubectl .*port-forward .*&\s*$/.test(l));
  assert.ok(background.length >= 1, 'the steps start port-forwards in the background');
  const kill = /^\s+kill ([^#\n]*)/m.exec(docs.slice(cleanUp))?.[1]?.trim() ?? '';
  // `kill %1 %2` left the third (Prometheus, 9090) running, holding its local port.
  const jobs = kill === '$(jobs -p)' ? background.length : kill.split(/\s+/).filter((j) => /^%\d+$/.test(j)).length;
  assert.equal(jobs, background.length, `clean-up runs \`kill ${kill}\` for ${background.length} background port-forwards`);
});

/**
 * `kubectl patch`'s default type, a strategic merge patch, for the two lists the controller's patch reaches: containers
 * merge by `name` and a container's ports by `containerPort` (k8s.io/api core/v1 types.go: `patchStrategy:"merge"
 * patchMergeKey:"name"` on PodSpec.Containers, `patchMergeKey:"containerPort"` on Container.Ports); maps merge key by key.
 */
function strategicMerge(target: unknown, patch: unknown, key?: string): unknown {
  const mergeKeys: Record<string, string> = { containers: 'name', ports: 'containerPort' };
  if (Array.isArray(patch) && Array.isArray(target) && key && mergeKeys[key]) {
    const by = mergeKeys[key];
    const merged = [...target] as Record<string, unknown>[];
    for (const item of patch as Record<string, unknown>[]) {
      const at = merged.findIndex((t) => t[by] === item[by]);
      if (at >= 0) merged[at] = strategicMerge(merged[at], item) as Record<string, unknown>;
      else merged.push(structuredClone(item));
    }
    return merged;
  }
  if (patch && typeof patch === 'object' && !Array.isArray(patch) && target && typeof target === 'object' && !Array.isArray(target)) {
    const merged = { ...(target as Record<string, unknown>) };
    for (const [k, v] of Object.entries(patch)) merged[k] = k in merged ? strategicMerge(merged[k], v, k) : structuredClone(v);
    return merged;
  }
  return structuredClone(patch);
}

test('docs/deploy.md: the minikube step that names the controller\'s metrics port can be run again (a step pasted twice is no error)', () => {
  const docs = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
  const start = docs.indexOf('## Kubernetes with minikube, step by step');
  const steps = docs.slice(start, docs.indexOf('**Clean up**', start));
  const command = /kubectl -n ingress-nginx patch deployment ingress-nginx-controller( --type (\S+))? -p \\?\s*'([^']+)'/.exec(steps);
  assert.ok(command?.[3], 'the step that patches the controller');
  // minikube's ingress addon (deploy/addons/ingress/ingress-deploy.yaml.tmpl): one container, `controller`, with these ports.
  const addon = () => ({ spec: { template: { spec: { containers: [{ name: 'controller', ports: [
    { name: 'http', containerPort: 80, protocol: 'TCP', hostPort: 80 },
    { name: 'https', containerPort: 443, protocol: 'TCP', hostPort: 443 },
    { name: 'webhook', containerPort: 8443, protocol: 'TCP' },
  ] }] } } } });
  const patched = (deployment: ReturnType<typeof addon>) => {
    const patch = JSON.parse(command[3] ?? '') as unknown;
    if (command[2] === 'json') {
      applyJsonPatch(deployment, patch as Parameters<typeof applyJsonPatch>[1]);
      return deployment;
    }
    assert.ok(command[2] === undefined || command[2] === 'strategic', `patch type ${command[2]}`);
    return strategicMerge(deployment, patch) as ReturnType<typeof addon>;
  };
  const portsOf = (d: ReturnType<typeof addon>) => d.spec.template.spec.containers.flatMap((c) => c.ports);
  const once = patched(addon());
  assert.ok(portsOf(once).some((p) => p.name === 'metrics' && p.containerPort === 10254), JSON.stringify(portsOf(once)));
  const twice = patched(patched(addon()));
  // The API server refuses a container with two ports of one name (validation.go validateContainerPorts: "Duplicate value").
  const names = portsOf(twice).map((p) => p.name);
  assert.deepEqual(names, [...new Set(names)], `after the step ran twice: ${names.join(', ')}`);
  assert.deepEqual(twice, once);
});

test('docs/deploy.md: the storage-class patches for a cluster without a default class reach every claim of the production overlay', () => {
  const docs = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
  const block = /```yaml\n\s*# overlays\/production\/kustomization\.yaml, under patches:\n([\s\S]*?)```/.exec(docs)?.[1];
  assert.ok(block, 'the storage step shows its patches');
  const patches = parseYaml(block.replace(/^ {3}/gm, ''))[0] as { target: { kind: string; name: string }; patch: string }[];
  const objects = renderKustomization(productionOverlay);
  for (const p of patches) {
    const targets = objects.filter((o) => o.kind === p.target.kind && o.metadata.name === p.target.name);
    assert.equal(targets.length, 1, `patch target ${JSON.stringify(p.target)}`);
    for (const o of targets) applyJsonPatch(o, parseYaml(p.patch)[0] as Parameters<typeof applyJsonPatch>[1]);
  }
  // Every claim the overlay makes: PersistentVolumeClaims and StatefulSet claim templates.
  const claims = [
    ...objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => [`PersistentVolumeClaim/${o.metadata.name}`, (o['spec'] as { storageClassName?: string }).storageClassName] as const),
    ...objects.filter((o) => o.kind === 'StatefulSet').flatMap((o) =>
      ((o['spec'] as { volumeClaimTemplates?: { metadata: { name: string }; spec: { storageClassName?: string } }[] }).volumeClaimTemplates ?? []).map((t) => [`StatefulSet/${o.metadata.name} ${t.metadata.name}`, t.spec.storageClassName] as const)),
  ];
  assert.ok(claims.length >= 2, JSON.stringify(claims));
  for (const [claim, storageClass] of claims) assert.ok(storageClass, `${claim} keeps no storage class: Pending where the cluster has no default`);
});

test('docs/deploy.md: the production steps set up what the edge SLI scrapes (the controller\'s metrics port and the discovery Role)', () => {
  const docs = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
  const start = docs.indexOf('## Kubernetes in production');
  const production = docs.slice(start, docs.indexOf('\n## ', start + 1));
  assert.ok(start >= 0 && production.length > 0, 'the production section');
  // prometheus-k8s.yml's ingress-nginx job: pods of namespace ingress-nginx, container port "metrics".
  assert.match(production, /kubectl apply -k deploy\/k8s\/ingress-nginx/, 'the Role that lets Prometheus list the controller pods');
  assert.match(production, /controller\.metrics\.enabled=true/, 'the controller\'s metrics port');
});

test('our images carry their own version (SERVICE_VERSION from the build\'s VERSION), so a new image needs nothing else changed', () => {
  // `kustomize edit set image` rewrites image fields only: a version in a label or an env value would go stale.
  assert.match(dockerfile, /^ARG VERSION=\S+\n(?:#.*\n)*ENV SERVICE_VERSION=\$\{VERSION\}$/m);
  for (const w of workloads.filter((o) => containersOf(o).some((c) => c.image.startsWith('ecommerce/')))) {
    assert.equal(w.metadata.labels?.['app.kubernetes.io/version'], undefined, `${w.metadata.name}: a version label`);
    assert.equal(templateOf(w).metadata?.labels?.['app.kubernetes.io/version'], undefined, `${w.metadata.name}: a version label on its pods`);
    for (const c of containersOf(w)) {
      for (const e of c.env ?? []) assert.ok(!/SERVICE_VERSION|service\.version/.test(`${e.name}=${e.value ?? ''}`), `${w.metadata.name}/${c.name}: ${e.name} sets the version`);
    }
  }
});

test('the development Ingress answers any host (the shop signs in on localhost, where a browser keeps a Secure cookie over http); production names its host', () => {
  const dev = renderKustomization('deploy/k8s').find((o) => o.kind === 'Ingress') as K8sObject;
  const rules = (dev['spec'] as { rules: { host?: string }[] }).rules;
  assert.deepEqual(rules.map((r) => r.host), [undefined]);
  const production = renderKustomization(productionOverlay).find((o) => o.kind === 'Ingress') as K8sObject;
  assert.deepEqual((production['spec'] as { rules: { host?: string }[] }).rules.map((r) => r.host), ['shop.example.com']);
  const base = renderKustomization('deploy/k8s/base').find((o) => o.kind === 'Ingress') as K8sObject;
  assert.deepEqual((base['spec'] as { rules: { host?: string }[] }).rules.map((r) => r.host), ['ecommerce.local']);
  assert.match(readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8'), /port-forward svc\/ingress-nginx-controller 8080:80/);
});

test("the Dockerfile's heap cap and its comment (and docs/configuration.md) agree with the memory limits of the Deployments that run it", () => {
  const mebibytes = (q: string): number => (q.endsWith('Gi') ? Number(q.slice(0, -2)) * 1024 : Number(q.replace(/Mi$/, '')));
  // The Deployments that keep the image's NODE_OPTIONS (the storefront sets its own).
  const limits = new Map<string, number>();
  for (const d of ofKind('Deployment')) {
    const c = templateOf(d).spec.containers.find((x) => x.image.startsWith('ecommerce/'));
    const memory = c?.resources?.limits?.['memory'];
    if (!c || !memory || (c.env ?? []).some((e) => e.name === 'NODE_OPTIONS')) continue;
    limits.set(d.metadata.name, mebibytes(memory));
  }
  assert.deepEqual([...limits.keys()].sort(), ['order-service', 'product-service', 'user-service']);
  const stated = (text: string): number[] => [...new Set([...text.matchAll(/(\d+)Mi\b/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
  const actual = [...new Set(limits.values())].sort((a, b) => a - b);
  // The comment right above `ENV ... NODE_OPTIONS=...`, and the NODE_OPTIONS row of the configuration doc.
  const comment = /((?:^#.*\n)+)ENV [^\n]*\\\n(?:.*\\\n)*?\s*NODE_OPTIONS=/m.exec(dockerfile)?.[1] ?? '';
  assert.match(comment, /heap cap/, 'the comment above NODE_OPTIONS');
  assert.deepEqual(stated(comment), actual, `the Dockerfile says ${stated(comment).join(', ')}Mi; the Deployments have ${[...limits].map(([n, m]) => `${n} ${m}Mi`).join(', ')}`);
  const row = readFileSync(join(repoRoot, 'docs/configuration.md'), 'utf8').split('\n').find((l) => l.startsWith('| `NODE_OPTIONS`')) ?? '';
  assert.deepEqual(stated(row), actual, `docs/configuration.md says ${stated(row).join(', ')}Mi`);
  // And the cap leaves room: old space + young generation (3 semi-spaces) within 75% of the smallest limit
  // (docs/runbooks.md, ContainerMemoryNearLimit), the rest for code, buffers and argon2id's native memory.
  const nodeOptions = /NODE_OPTIONS="([^"]+)"/.exec(dockerfile)?.[1] ?? '';
  const flag = (name: string): number => Number(new RegExp(`--${name}=(\\d+)`).exec(nodeOptions)?.[1]);
  const heap = flag('max-old-space-size') + 3 * flag('max-semi-space-size');
  assert.ok(heap <= 0.75 * Math.min(...actual), `heap ${heap} MiB for a ${Math.min(...actual)}Mi limit`);
});

// A pod whose memory use sits above its request is the first the kubelet evicts under node memory pressure (it ranks
// pods by whether usage exceeds requests, then priority, then usage over request: Kubernetes docs "Node-pressure
// Eviction"), and the scheduler packs nodes by requests, so a request under the working set overcommits the node.
// The services' resident set is measured by `npm run bench` (docs/benchmarks.md, "peak RSS ...", per service and for
// the traced platform as a range), the storefront's by scripts/storefront-memory.js (docs/web.md, "peak RSS
// storefront ..."): each one's request covers the highest figure that can be its own.
test('each service\'s memory request covers the highest peak RSS docs/benchmarks.md measured for it (traced or not), the storefront\'s that of docs/web.md', () => {
  const mebibytes = (q: string): number => (q.endsWith('Gi') ? Number(q.slice(0, -2)) * 1024 : Number(q.replace(/Mi$/, '')));
  const text = ['docs/benchmarks.md', 'docs/web.md'].map((f) => readFileSync(join(repoRoot, f), 'utf8')).join(' ').replace(/\s+/g, ' ');
  const peak = new Map<string, number>();
  const note = (service: string, mib: number): void => void peak.set(service, Math.max(peak.get(service) ?? 0, mib));
  let traced = 0;
  for (const [sentence] of text.matchAll(/peak RSS[^.;]*/g)) {
    for (const m of sentence.matchAll(/\b(user|product|order|storefront) (\d+)(?: \/ (\d+))?/g)) {
      for (const v of [m[2], m[3]]) if (v) note(m[1] as string, Number(v));
    }
    // "traced 126-135" / "traced 142-160 MiB": the traced platform's range over all services.
    for (const m of sentence.matchAll(/traced (\d+)-(\d+)/g)) traced = Math.max(traced, Number(m[2]));
  }
  assert.ok(traced > 0, 'docs/benchmarks.md gives no traced range');
  for (const d of serviceDeployments) {
    const service = d.metadata.name.replace(/-service$/, '');
    const measured = Math.max(peak.get(service) ?? 0, traced);
    assert.ok((peak.get(service) ?? 0) > 100, `docs/benchmarks.md gives no peak RSS for ${service}`);
    const c = containersOf(d).find((x) => x.image.startsWith('ecommerce/')) as Container;
    const request = mebibytes(String(c.resources?.requests?.['memory']));
    assert.ok(request >= measured, `${d.metadata.name}: memory request ${request}Mi under the measured peak RSS ${measured} MiB`);
  }
  // The storefront is not traced (no OTLP endpoint, no telemetry import in its NODE_OPTIONS): its own figure only.
  const storefront = containersOf(byName('Deployment', 'storefront') as K8sObject)[0] as Container;
  assert.ok((peak.get('storefront') ?? 0) > 0, 'docs/web.md gives no peak RSS for the storefront');
  const request = mebibytes(String(storefront.resources?.requests?.['memory']));
  assert.ok(request >= (peak.get('storefront') ?? 0), `storefront: memory request ${request}Mi under the measured peak RSS ${peak.get('storefront')} MiB`);
});

// With fsGroup set, the kubelet by default (fsGroupChangePolicy Always) walks the whole volume on every mount, chowning
// and chmodding each file to the group: minutes for a large TSDB or data directory, on every restart. OnRootMismatch
// walks it only when the volume's root lacks the group or its permissions (a new volume). Each of these images writes
// its files as the pod's runAsUser/runAsGroup (= fsGroup), so the files below a matching root already belong to it.
test('a pod with fsGroup and a persistent volume skips the recursive ownership change on a volume already its own (OnRootMismatch)', () => {
  const persistent = workloads.filter((w) => {
    const claims = ((w['spec'] as { volumeClaimTemplates?: unknown[] }).volumeClaimTemplates ?? []).length;
    return claims > 0 || (templateOf(w).spec.volumes ?? []).some((v) => 'persistentVolumeClaim' in v);
  });
  assert.deepEqual(persistent.map((w) => w.metadata.name).sort(), ['postgres', 'prometheus']);
  for (const w of persistent) {
    const sc = templateOf(w).spec.securityContext ?? {};
    assert.ok(sc.fsGroup !== undefined, `${w.metadata.name}: no fsGroup`);
    assert.equal(sc.runAsGroup, sc.fsGroup, `${w.metadata.name}: its files are written with the fsGroup group`);
    assert.equal(sc.fsGroupChangePolicy, 'OnRootMismatch', w.metadata.name);
  }
});

// The login throttle keys on request.ip, which the user service takes from X-Forwarded-For only when the peer
// that connected (the ingress controller's pod) is one TRUST_PROXY names (packages/kit/src/proxy-trust.ts). Pod
// networks live in RFC 1918 space or in RFC 6598's shared address space 100.64.0.0/10 (kops' default pod CIDR
// 100.96.0.0/11, EKS custom networking's secondary CIDRs): a pod there that is not believed makes every client
// look like the ingress controller, and one client's failed logins throttle all of them.
test('in the cluster the user service believes its ingress controller on RFC 1918 and RFC 6598 pod networks, and nobody on a public address', () => {
  const user = byName('Deployment', 'user-service');
  assert.ok(user);
  const c = templateOf(user).spec.containers[0] as Container;
  const set = (c.env ?? []).find((e) => e.name === 'TRUST_PROXY')?.value;
  const serviceDefault = /TRUST_PROXY: Type\.String\(\{ default: '([^']*)' \}\)/.exec(readFileSync(join(repoRoot, 'services/user/src/config.ts'), 'utf8'))?.[1];
  assert.ok(serviceDefault !== undefined, "the user service's TRUST_PROXY default");
  const trusts = proxyTrust(set ?? serviceDefault);
  assert.ok(trusts, 'TRUST_PROXY trusts nobody');
  for (const pod of ['10.244.1.7', '172.17.0.9', '192.168.3.4', '100.96.12.3' /* kops */, '100.64.0.10' /* EKS custom networking */, '100.127.255.254', '::ffff:100.100.1.1', 'fd00::5', '127.0.0.1']) {
    assert.ok(trusts(pod, 0), `an ingress controller pod at ${pod} is not believed (TRUST_PROXY ${set ?? `unset: ${serviceDefault}`})`);
  }
  for (const outside of ['203.0.113.5', '100.128.0.1', '8.8.8.8', '2001:db8::1']) assert.equal(trusts(outside, 0), false, `${outside} is believed`);
  assert.equal(trusts('100.96.12.3', 1), false, 'only the hop that connected');
});
