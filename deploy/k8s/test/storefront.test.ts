// The storefront in Kubernetes (base/storefront.yaml): the static-only server from the Dockerfile's
// `storefront` target, hardened like the services, reachable from ingress-nginx only, calling nothing;
// the ingress sends it the app's files and client routes and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kustomizationResources, loadManifests, podTemplate, repoRoot, type K8sObject } from '../src/manifests.js';

const objects = loadManifests().map((o) => o.object);
const find = (kind: string, name: string): K8sObject => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `no ${kind}/${name}`);
  return o;
};

test('the storefront Deployment runs the storefront image non-root, read-only, with probes and resources', () => {
  assert.ok(kustomizationResources().includes('storefront.yaml'));
  const spec = podTemplate(find('Deployment', 'storefront'))!.spec;
  const [c] = spec.containers;
  assert.ok(c);
  assert.match(c.image, /^ecommerce\/storefront:/);
  const sc = c.securityContext as Record<string, unknown>;
  assert.equal(sc['runAsNonRoot'], true);
  assert.equal(sc['readOnlyRootFilesystem'], true);
  assert.equal(sc['allowPrivilegeEscalation'], false);
  assert.deepEqual((sc['capabilities'] as { drop: string[] }).drop, ['ALL']);
  const probes = c as unknown as Record<string, { httpGet?: { path: string } } | undefined>;
  assert.equal(probes['readinessProbe']?.httpGet?.path, '/readyz');
  assert.equal(probes['livenessProbe']?.httpGet?.path, '/livez');
  const resources = (c as unknown as { resources: { requests: object; limits: { memory: string } } }).resources;
  assert.ok(resources.requests && resources.limits.memory);
  // The Dockerfile target runs the static-only server on the port the Deployment declares.
  const dockerfile = readFileSync(join(repoRoot, 'deploy/docker/Dockerfile'), 'utf8');
  const stage = dockerfile.split(/^FROM /m).find((s) => s.startsWith('runtime AS storefront')) ?? '';
  assert.match(stage, /CMD \["node", "services\/gateway\/dist\/src\/storefront-main.js"\]/);
  assert.match(stage, /COPY --from=web \/src\/web\/dist\/app \/app\/web\/dist\/app/);
  assert.equal(c.env?.find((e) => e.name === 'PORT')?.value, /^EXPOSE (\d+)/m.exec(stage)?.[1]);
});

test('only ingress-nginx reaches the storefront, and it calls nothing', () => {
  const policy = find('NetworkPolicy', 'storefront')['spec'] as { policyTypes: string[]; ingress: { from: unknown[] }[]; egress: unknown[] };
  assert.deepEqual(policy.policyTypes, ['Ingress', 'Egress']);
  assert.deepEqual(policy.ingress.flatMap((r) => r.from), [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }]);
  assert.deepEqual(policy.egress, []);
});

test("the ingress routes the app's files and every client route of the gateway's storefront plugin to it, and nothing else", () => {
  const ingress = objects.find((o) => o.kind === 'Ingress')!;
  const paths = (ingress['spec'] as { rules: { http: { paths: { path: string; pathType: string; backend: { service: { name: string } } }[] } }[] }).rules.flatMap((r) => r.http.paths);
  const toStorefront = paths.filter((p) => p.backend.service.name === 'storefront');
  const source = readFileSync(join(repoRoot, 'services/gateway/src/storefront.ts'), 'utf8');
  const clientRoutes = JSON.parse((/CLIENT_ROUTES = (\[[^\]]*\])/.exec(source)?.[1] ?? '[]').replace(/'/g, '"').replace(/,\s*\]$/, ']')) as string[];
  assert.ok(clientRoutes.length >= 5);
  // Each page as a browser asks for it, with and without a trailing slash (the gateway serves both): "/orders/:id" is
  // served by the Prefix "/orders", "/cart/" by the Prefix "/cart" (an Exact "/cart" leaves it to nginx's own 404).
  const served = (path: string) => toStorefront.some((p) => (p.pathType === 'Exact' ? p.path === path : path === p.path || path.startsWith(`${p.path}/`)));
  const asked = clientRoutes.map((r) => r.replace(/:[a-z]+/g, 'x')).flatMap((r) => (r === '/' ? [r] : [r, `${r}/`]));
  assert.deepEqual(asked.filter((path) => !served(path)), []);
  for (const files of ['/assets', '/images']) assert.ok(toStorefront.some((p) => p.path === files && p.pathType === 'Prefix'), files);
  assert.ok(!toStorefront.some((p) => p.path === '/' && p.pathType === 'Prefix'), 'a catch-all / would expose /livez, /readyz, /metrics');
});
