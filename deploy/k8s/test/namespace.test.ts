// Deployed in another namespace: `kustomize edit set namespace shop` in an overlay (or an overlay
// of ours with `namespace: shop`) must give the same working platform, scrapes, alerts and
// dashboards included. Rendered by our renderer, which the first test holds to the real kustomize.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { containerEnv, dataOf, devOverlay, parseYaml, podTemplate, productionOverlay, renderKustomization, repoRoot, type K8sObject } from '../src/manifests.js';
import { renderedPrometheusConfig } from '../src/prometheus-config.js';
import { withNamespace } from './namespace-overlay.js';
import { assertSameObjects, realKustomize } from './real-kustomize.js';

const base = 'ecommerce';
const other = 'shop';

const overlays = [devOverlay, productionOverlay];
const rendered = new Map(overlays.map((o) => [o, withNamespace(o, other, (dir) => renderKustomization(dir))]));
const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

test('namespace: shop over our overlays renders exactly as the real kustomize renders it', (t) => {
  for (const overlay of overlays) {
    const real = withNamespace(overlay, other, realKustomize);
    if (!real) {
      t.skip('kubectl is not installed');
      return;
    }
    assertSameObjects(rendered.get(overlay) ?? [], real, overlay);
  }
});

test('in namespace shop every object, RBAC subject, reference and the Namespace itself move along', () => {
  for (const [overlay, objects] of rendered) {
    const namespaces = objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
    assert.deepEqual(namespaces, [other], `${overlay}: the Namespace object (with its Pod Security labels) is the one the objects land in`);
    for (const o of objects) {
      if (!clusterScoped.has(o.kind)) assert.equal(o.metadata.namespace, other, `${overlay}: ${o.kind}/${o.metadata.name}`);
    }
    const has = (kind: string, name: string, namespace?: string): boolean => objects.some((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace);
    for (const b of objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
      for (const s of b['subjects'] as { kind: string; name: string; namespace?: string }[]) {
        if (s.kind === 'ServiceAccount') assert.ok(has('ServiceAccount', s.name, s.namespace), `${overlay}: ${b.kind}/${b.metadata.name} binds ${s.namespace}/${s.name}, which does not exist`);
      }
      const ref = b['roleRef'] as { kind: string; name: string };
      assert.ok(has(ref.kind, ref.name, ref.kind === 'Role' ? b.metadata.namespace : undefined), `${overlay}: ${b.kind}/${b.metadata.name} -> ${ref.kind}/${ref.name}`);
    }
    for (const w of objects.filter((o) => podTemplate(o))) {
      const account = (podTemplate(w)?.spec as { serviceAccountName?: string }).serviceAccountName;
      if (account) assert.ok(has('ServiceAccount', account, other), `${overlay}: ${w.metadata.name} runs as ${account}`);
    }
    // Selecting the platform's namespace by name would still select the old one.
    for (const p of objects.filter((o) => o.kind === 'NetworkPolicy')) {
      for (const m of JSON.stringify(p['spec']).matchAll(/"kubernetes\.io\/metadata\.name":"([^"]+)"/g)) assert.notEqual(m[1], base, `${overlay}: NetworkPolicy/${p.metadata.name}`);
    }
    // A fully qualified Service name would still point at the old namespace.
    assert.doesNotMatch(JSON.stringify(objects), new RegExp(`\\.${base}\\.svc\\b|\\.${base}:\\d`), overlay);
  }
});

/** `namespace` label matchers with a literal value, in PromQL text (a Grafana variable such as $namespace is not literal). */
function literalNamespaceMatchers(text: string): string[] {
  return [...text.matchAll(/\bnamespace\s*(=~|!~|!=|=)\s*\\?"([^"\\]*)\\?"/g)].filter((m) => !(m[2] ?? '').includes('$')).map((m) => m[0]);
}

test('in namespace shop Prometheus keeps our namespace\'s node, kubelet and ingress series; rules and dashboards name no namespace', () => {
  const objects = rendered.get(devOverlay) ?? [];
  const config = parseYaml(renderedPrometheusConfig(objects))[0] as { scrape_configs: { job_name: string; metric_relabel_configs?: { source_labels?: string[]; regex?: string; action?: string }[] }[] };
  let filters = 0;
  for (const job of config.scrape_configs) {
    for (const r of job.metric_relabel_configs ?? []) {
      const at = r.source_labels?.indexOf('namespace') ?? -1;
      if (at < 0 || r.action !== 'keep') continue;
      filters++;
      // Prometheus anchors relabel regexes; the source labels are joined with ';'.
      const regex = new RegExp(`^(?:${r.regex ?? '(.*)'})$`);
      const names = (r.regex ?? '').match(/[a-z_]+_(?:total|bytes|requests)/g) ?? [];
      assert.ok(names.length > 0, `${job.job_name}: no metric name in ${r.regex}`);
      for (const name of names) {
        const series = (namespace: string): string => (r.source_labels ?? []).map((l) => (l === 'namespace' ? namespace : l === '__name__' ? name : '')).join(';');
        assert.match(series(other), regex, `${job.job_name} drops ${name} of our namespace ${other}`);
        assert.doesNotMatch(series(base), regex, `${job.job_name} keeps ${name} of ${base}, another namespace now`);
      }
    }
  }
  assert.equal(filters, 3, 'cAdvisor, kubelet and ingress-nginx each keep one namespace');
  // kube-state-metrics reports the namespace it runs in.
  const ksm = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'kube-state-metrics');
  const c = podTemplate(ksm as K8sObject)?.spec.containers[0] as { args: string[] } & Parameters<typeof containerEnv>[0];
  const env = containerEnv(c, (s) => (s.fieldRef?.fieldPath === 'metadata.namespace' ? other : ''));
  const arg = c.args.find((a) => a.startsWith('--namespaces='))?.replace(/\$\((\w+)\)/g, (_, v: string) => env[v] ?? `$(${v})`);
  assert.equal(arg, `--namespaces=${other}`);
  // The rules and dashboards see only our namespace's series, so a literal namespace there is a stale one.
  for (const map of objects.filter((o) => o.kind === 'ConfigMap' && /^(prometheus-rules|grafana-dashboard-)/.test(o.metadata.name))) {
    for (const [key, text] of Object.entries(dataOf(map))) assert.deepEqual(literalNamespaceMatchers(text), [], `${map.metadata.name}/${key}`);
  }
});

test('the committed rules and dashboards have no literal namespace matcher either (the same check, on the files)', () => {
  const files = ['recording.yml', 'services.yml', 'runtime.yml', 'database.yml', 'business.yml', 'monitoring.yml'].map((f) => `deploy/monitoring/rules/${f}`);
  for (const file of files) assert.deepEqual(literalNamespaceMatchers(readFileSync(join(repoRoot, file), 'utf8')), [], file);
  assert.deepEqual(literalNamespaceMatchers('x{namespace="ecommerce"} y{namespace=~"$namespace"} z{a="1",namespace!=\\"kube\\"}'), ['namespace="ecommerce"', 'namespace!=\\"kube\\"']);
});

/**
 * deploy/k8s/ingress-nginx as the operator of namespace `namespace` renders it: a copy of the folder
 * after `kustomize edit set namespace <namespace>` (which rewrites the kustomization's `namespace:`).
 */
function ingressNginxFor<T>(namespace: string, use: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'kustomize-ingress-nginx-'));
  try {
    cpSync(join(repoRoot, 'deploy/k8s/ingress-nginx'), dir, { recursive: true });
    const file = join(dir, 'kustomization.yaml');
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^namespace: \S+$/m, 'the folder takes the platform\'s namespace the way an overlay does');
    writeFileSync(file, text.replace(/^namespace: \S+$/m, `namespace: ${namespace}`));
    return use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the ingress controller\'s Role for Prometheus binds the Prometheus of the platform\'s namespace, ecommerce or shop, and stays in the controller\'s namespace', (t) => {
  const cases: [string, K8sObject[]][] = [[base, renderKustomization(devOverlay)], [other, rendered.get(devOverlay) ?? []]];
  for (const [namespace, platform] of cases) {
    const discovery = namespace === base ? renderKustomization('deploy/k8s/ingress-nginx') : ingressNginxFor(namespace, (dir) => renderKustomization(dir));
    const real = namespace === base ? realKustomize(join(repoRoot, 'deploy/k8s/ingress-nginx')) : ingressNginxFor(namespace, realKustomize);
    if (real) assertSameObjects(discovery, real, `deploy/k8s/ingress-nginx for ${namespace}`);
    else t.diagnostic('kubectl is not installed: our renderer only');
    assert.deepEqual(discovery.map((o) => o.kind).sort(), ['Role', 'RoleBinding'], 'the local-config ConfigMap is not applied');
    // Where Prometheus looks for the controller pods (the ingress-nginx job's discovery namespaces).
    const job = (parseYaml(renderedPrometheusConfig(platform))[0] as { scrape_configs: { job_name: string; kubernetes_sd_configs?: { namespaces?: { names?: string[] } }[] }[] })
      .scrape_configs.find((j) => j.job_name === 'ingress-nginx');
    const [controllerNamespace] = job?.kubernetes_sd_configs?.flatMap((sd) => sd.namespaces?.names ?? []) ?? [];
    for (const o of discovery) assert.equal(o.metadata.namespace, controllerNamespace, `${namespace}: ${o.kind} must be where the controller pods are listed`);
    const prometheus = platform.find((o) => o.kind === 'Deployment' && o.metadata.name === 'prometheus') as K8sObject;
    const account = { name: (podTemplate(prometheus)?.spec as { serviceAccountName?: string }).serviceAccountName, namespace: prometheus.metadata.namespace };
    assert.equal(account.namespace, namespace);
    const binding = discovery.find((o) => o.kind === 'RoleBinding') as K8sObject;
    assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: account.name, namespace: account.namespace }], `${namespace}: the edge SLI's discovery is denied to ${account.namespace}/${account.name}`);
  }
});

/**
 * kubectl's rule for `kubectl apply -n <namespace> -f <file>` (k8s.io/cli-runtime resource.Builder, "the namespace
 * from the provided object ... does not match the namespace ..."): an object naming another namespace is refused.
 */
function refusedUnderNamespace(objects: K8sObject[], namespace: string): string[] {
  return objects.filter((o) => o.metadata.namespace !== undefined && o.metadata.namespace !== namespace).map((o) => `${o.kind}/${o.metadata.name} (${o.metadata.namespace})`);
}

test('the External Secrets example lands in the platform\'s namespace: added to an overlay with namespace: shop, or applied with kubectl -n shop', (t) => {
  const file = join(repoRoot, 'deploy/k8s/overlays/production/external-secrets.example.yaml');
  const example = parseYaml(readFileSync(file, 'utf8')) as K8sObject[];
  assert.deepEqual(refusedUnderNamespace(example, other), [], 'kubectl apply -n shop -f external-secrets.example.yaml');
  // As docs/deploy.md says to use it: in the overlay's resources (here a copy, beside `namespace: shop`).
  const dir = mkdtempSync(join(tmpdir(), 'kustomize-external-secrets-'));
  try {
    cpSync(file, join(dir, 'external-secrets.yaml'));
    writeFileSync(join(dir, 'kustomization.yaml'), `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${other}\nresources:\n  - ${relative(dir, join(repoRoot, productionOverlay))}\n  - external-secrets.yaml\n`);
    const objects = renderKustomization(dir);
    const real = realKustomize(dir);
    if (real) assertSameObjects(objects, real, 'production + external secrets in shop');
    else t.diagnostic('kubectl is not installed: our renderer only');
    const externalSecrets = objects.filter((o) => o.kind === 'ExternalSecret');
    assert.equal(externalSecrets.length, example.filter((o) => o.kind === 'ExternalSecret').length);
    for (const o of externalSecrets) assert.equal(o.metadata.namespace, other, `ExternalSecret/${o.metadata.name}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
