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
import { LOCAL_RETENTION } from '../src/stack.js';
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

/** A --storage.tsdb.retention.size value in bytes as Prometheus parses it: powers of 2 ("GB" is GiB). */
function prometheusBytes(value: string): number {
  const m = /^(\d+)(B|KB|MB|GB|TB|PB|KiB|MiB|GiB|TiB|PiB)$/.exec(value);
  assert.ok(m, `not a Prometheus byte size: ${value}`);
  const power = ['B', 'K', 'M', 'G', 'T', 'P'].indexOf((m[2] ?? 'B')[0] ?? 'B');
  return Number(m[1]) * 1024 ** power;
}

/** A Kubernetes storage quantity (Gi, Mi: powers of 2; G, M: powers of 10) in bytes. */
function quantityBytes(value: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(value);
  assert.ok(m, `not a quantity we read: ${value}`);
  const unit = m[2] ?? '';
  const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  const decimal: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (binary[unit] ?? decimal[unit] ?? NaN);
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
  // retention.size leaves the room Prometheus's storage docs ask for: at most 85% of the volume
  // (the WAL counts in it, only whole blocks are deleted, compaction writes before it deletes).
  const size = prometheusBytes(args.find((a) => a.startsWith('--storage.tsdb.retention.size='))?.split('=')[1] ?? '');
  const volume = quantityBytes(claim.spec.resources.requests.storage);
  assert.ok(size / volume <= 0.85, `retention.size is ${(100 * size / volume).toFixed(1)}% of the ${claim.spec.resources.requests.storage} volume`);
});

test('Prometheus reads retention.size in powers of 2, and so does this test', () => {
  // cmd/prometheus/main.go (v2.55): BytesVar, "Based on powers-of-2, so 1KB is 1024B".
  assert.equal(prometheusBytes('18GB'), 18 * 2 ** 30);
  assert.equal(prometheusBytes('512MB'), 512 * 2 ** 20);
  assert.equal(quantityBytes('20Gi'), 20 * 2 ** 30);
  assert.equal(quantityBytes('20G'), 20e9);
  // The old 18GB on 20Gi was 90%: over the docs' 80-85%.
  assert.ok(prometheusBytes('18GB') / quantityBytes('20Gi') > 0.85);
});

test('Prometheus under compose keeps as much history as any rule or panel reads, like Kubernetes', async () => {
  const compose = YAML.parse(await readFile(path.join(repoRoot, 'deploy', 'docker', 'compose.yaml'), 'utf8')) as {
    services: Record<string, { command?: string[]; volumes?: string[] }>;
  };
  const prometheus = compose.services['prometheus'];
  const retention = /^--storage\.tsdb\.retention\.time=(\w+)$/.exec(prometheus?.command?.find((a) => a.startsWith('--storage.tsdb.retention.time=')) ?? '')?.[1];
  assert.ok(retention, JSON.stringify(prometheus?.command));
  // "Availability (30d)", the 30-day budget and NoConfirmedOrders' `offset 1w` read past 7 days.
  const needed = await longestLookback();
  assert.ok(parseDuration(retention) >= needed + parseDuration('3d'), `compose retention ${retention} < ${needed / 86_400_000}d read + a margin`);
  assert.ok(prometheus?.volumes?.some((v) => /^[\w-]+:\/prometheus$/.test(v)), 'a named volume, so `docker compose up` again keeps the history');
});

test('Prometheus under `npm run monitoring` keeps as much history as any rule or panel reads, like compose', async () => {
  const needed = await longestLookback();
  assert.ok(parseDuration(LOCAL_RETENTION) >= needed + parseDuration('3d'), `local retention ${LOCAL_RETENTION} < ${needed / 86_400_000}d read + a margin`);
});

test('the ingress-nginx job discovers the controller pods in their namespace, and a Role there lets Prometheus list them', async () => {
  const config = YAML.parse(await readFile(prometheusK8sConfigPath, 'utf8')) as {
    scrape_configs: Array<{ job_name: string; kubernetes_sd_configs?: Array<{ role: string; namespaces?: { names?: string[] } }> }>;
  };
  const job = config.scrape_configs.find((j) => j.job_name === 'ingress-nginx');
  const namespaces = job?.kubernetes_sd_configs?.flatMap((s) => s.namespaces?.names ?? []) ?? [];
  assert.deepEqual(namespaces, ['ingress-nginx']);
  // The Role's namespace and the subject's come from the folder's kustomization (rendered and checked
  // for ecommerce and another namespace by deploy/k8s/test/namespace.test.ts).
  const rbac = await docs('deploy/k8s/ingress-nginx/prometheus-discovery.yaml');
  const placed = rbac.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === 'namespaces') as { data: Record<string, string> } | undefined;
  assert.equal(placed?.data['ingress-controller'], namespaces[0]);
  const role = rbac.find((o) => o.kind === 'Role') as { metadata: { name: string }; rules: Array<{ resources: string[]; verbs: string[] }> } | undefined;
  assert.ok(role?.rules.some((r) => r.resources.includes('pods') && ['list', 'watch'].every((v) => r.verbs.includes(v))), JSON.stringify(role));
  const binding = rbac.find((o) => o.kind === 'RoleBinding') as { roleRef: { name: string }; subjects: Array<{ kind: string; name: string }> } | undefined;
  assert.equal(binding?.roleRef.name, role?.metadata.name);
  assert.deepEqual(binding?.subjects, [{ kind: 'ServiceAccount', name: 'prometheus' }]);
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
