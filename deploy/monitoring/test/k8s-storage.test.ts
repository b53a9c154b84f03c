// What the monitoring needs from the Kubernetes manifests: history long
// enough for the 30-day SLO panels, kept across restarts; the ingress
// controller's pods discoverable for the edge SLI; the PostgreSQL volume size
// the fallback capacity alert assumes.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { listPanelQueries } from '../src/dashboards/index.js';
import { parseDuration } from '../src/duration.js';
import { listRuleFiles, readRuleFile } from '../src/overlay.js';
import { prometheusK8sConfigPath, repoRoot } from '../src/paths.js';

type Doc = { kind?: string; metadata?: { name?: string; namespace?: string }; [key: string]: unknown };
const docs = async (file: string): Promise<Doc[]> =>
  YAML.parseAllDocuments(await readFile(path.join(repoRoot, file), 'utf8')).map((d) => d.toJSON() as Doc).filter(Boolean);

/** The longest range any rule or dashboard query reads (offsets included). */
async function longestLookback(): Promise<number> {
  const exprs = listPanelQueries().map((q) => q.expr.replace(/\$__range/g, '1h').replace(/\$__rate_interval/g, '1m'));
  for (const file of await listRuleFiles()) for (const g of (await readRuleFile(file)).groups) for (const r of g.rules) exprs.push(r.expr);
  let longest = 0;
  for (const expr of exprs) {
    const ranges = [...expr.matchAll(/\[(\w+)\]/g)].map((m) => parseDuration(m[1] ?? '0s'));
    const offsets = [...expr.matchAll(/offset\s+(\w+)/g)].map((m) => parseDuration(m[1] ?? '0s'));
    longest = Math.max(longest, Math.max(0, ...ranges) + Math.max(0, ...offsets));
  }
  return longest;
}

test('Prometheus in Kubernetes keeps more history than any rule or panel reads, on a PVC', async () => {
  const objects = await docs('deploy/k8s/base/prometheus.yaml');
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata?.name === 'prometheus') as
    | { spec: { template: { spec: { containers: Array<{ name: string; args: string[] }>; volumes: Array<{ name: string; persistentVolumeClaim?: { claimName: string }; emptyDir?: unknown }> } } } }
    | undefined;
  assert.ok(deployment);
  const pod = deployment.spec.template.spec;
  const args = pod.containers.find((c) => c.name === 'prometheus')?.args ?? [];
  const retention = /^--storage\.tsdb\.retention\.time=(\w+)$/.exec(args.find((a) => a.startsWith('--storage.tsdb.retention.time=')) ?? '')?.[1];
  assert.ok(retention, args.join(' '));
  const needed = await longestLookback();
  assert.ok(needed >= parseDuration('30d'), 'the 30-day SLO panels are among the queries');
  assert.ok(parseDuration(retention) >= needed + parseDuration('3d'), `retention ${retention} < ${needed / 86_400_000}d read + a margin`);
  // The data survives a restart: a PersistentVolumeClaim, not an emptyDir.
  const data = pod.volumes.find((v) => v.name === 'data');
  const claimName = data?.persistentVolumeClaim?.claimName;
  assert.ok(claimName, `data volume: ${JSON.stringify(data)}`);
  const claim = objects.find((o) => o.kind === 'PersistentVolumeClaim' && o.metadata?.name === claimName) as
    | { spec: { resources: { requests: { storage: string } } } }
    | undefined;
  assert.ok(claim, `no PersistentVolumeClaim ${claimName}`);
  // retention.size must fit the volume (Prometheus deletes the oldest blocks first).
  const size = /^--storage\.tsdb\.retention\.size=(\d+)GB$/.exec(args.find((a) => a.startsWith('--storage.tsdb.retention.size=')) ?? '')?.[1];
  const gi = /^(\d+)Gi$/.exec(claim.spec.resources.requests.storage)?.[1];
  assert.ok(size && gi && Number(size) * 1e9 < Number(gi) * 2 ** 30, `retention.size ${size}GB vs volume ${claim.spec.resources.requests.storage}`);
});

test('the ingress-nginx job discovers the controller pods in their namespace, and a Role there lets Prometheus list them', async () => {
  const config = YAML.parse(await readFile(prometheusK8sConfigPath, 'utf8')) as {
    scrape_configs: Array<{ job_name: string; kubernetes_sd_configs?: Array<{ role: string; namespaces?: { names?: string[] } }> }>;
  };
  const job = config.scrape_configs.find((j) => j.job_name === 'ingress-nginx');
  const namespaces = job?.kubernetes_sd_configs?.flatMap((s) => s.namespaces?.names ?? []) ?? [];
  assert.deepEqual(namespaces, ['ingress-nginx']);
  const rbac = await docs('deploy/k8s/ingress-nginx/prometheus-discovery.yaml');
  const role = rbac.find((o) => o.kind === 'Role') as { metadata: { name: string; namespace: string }; rules: Array<{ resources: string[]; verbs: string[] }> } | undefined;
  assert.equal(role?.metadata.namespace, 'ingress-nginx');
  assert.ok(role.rules.some((r) => r.resources.includes('pods') && ['list', 'watch'].every((v) => r.verbs.includes(v))));
  const binding = rbac.find((o) => o.kind === 'RoleBinding') as { roleRef: { name: string }; subjects: Array<{ kind: string; name: string; namespace: string }> } | undefined;
  assert.equal(binding?.roleRef.name, role.metadata.name);
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'prometheus', namespace: 'ecommerce' }]);
  // And the network lets the scrape through.
  const policy = (await docs('deploy/k8s/base/networkpolicies.yaml')).find((o) => o.kind === 'NetworkPolicy' && o.metadata?.name === 'prometheus');
  assert.match(JSON.stringify(policy), /"kubernetes.io\/metadata.name":"ingress-nginx"\}\}\}\],"ports":\[\{"protocol":"TCP","port":10254\}/);
});

test('the fallback capacity alert assumes the PostgreSQL volume size of the manifests', async () => {
  const postgres = (await docs('deploy/k8s/base/postgres-deployment.yaml')).find((o) => o.kind === 'StatefulSet' && o.metadata?.name === 'postgres') as
    | { spec: { volumeClaimTemplates: Array<{ spec: { resources: { requests: { storage: string } } } }> } }
    | undefined;
  const storage = postgres?.spec.volumeClaimTemplates[0]?.spec.resources.requests.storage ?? '';
  const gi = Number(/^(\d+)Gi$/.exec(storage)?.[1]);
  assert.ok(gi > 0, storage);
  const database = await readRuleFile((await listRuleFiles()).find((f) => f.endsWith('database.yml')) ?? '');
  const rule = database.groups.flatMap((g) => g.rules).find((r) => r.alert === 'PostgresDatabaseSizeNearVolume');
  const sizes = [...(rule?.expr ?? '').matchAll(/(\d+) \* 1024 \* 1024 \* 1024/g)].map((m) => Number(m[1]));
  assert.ok(sizes.length >= 2 && sizes.every((s) => s === gi), `rule assumes ${sizes.join(', ')} GiB, the PVC is ${storage}`);
});
