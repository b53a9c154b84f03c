// What the API server refuses beyond the OpenAPI schema (src/api-validation.ts names the rules and where
// Kubernetes' source states them), on every object `kubectl apply` sends: both overlays, the ingress
// controller's Role and the production overlay's optional policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { devOverlay, k8sDir, parseYaml, podTemplate, productionOverlay, renderKustomization, validateObject, type Container, type K8sObject } from '../src/manifests.js';
import { apiServerProblems, isConfigMapKey, isDns1035Label, isQualifiedName, isValidIngressPath, isValidLabelValue, isValidPortName, quantity } from '../src/api-validation.js';

const rendered = (): K8sObject[] => [
  ...[devOverlay, productionOverlay, 'deploy/k8s/ingress-nginx'].flatMap((dir) => renderKustomization(dir)),
  ...(parseYaml(readFileSync(join(k8sDir, 'overlays/production/external-database.yaml'), 'utf8')) as K8sObject[]),
];

test('every object passes the API server\'s validation beyond the schema: names, labels, ports, selectors, mounts, requests, probes, Ingress paths', () => {
  const objects = rendered();
  assert.ok(objects.length > 150, `only ${objects.length} objects`);
  assert.deepEqual(apiServerProblems(objects), []);
});

test('the name rules are the API server\'s (apimachinery validation.go), case by case', () => {
  // IsValidPortName: IANA_SVC_NAME.
  for (const ok of ['http', 'otlp-grpc', 'http-metrics', 'a1', 'abcdefghijklmno']) assert.ok(isValidPortName(ok), ok);
  for (const bad of ['abcdefghijklmnop' /* 16 */, '8080', 'Http', 'otlp--grpc', '-http', 'http-', 'otlp_grpc', '']) assert.equal(isValidPortName(bad), false, bad);
  // ValidateServiceName: a DNS-1035 label.
  for (const ok of ['web', 'user-service', 'a'.repeat(63)]) assert.ok(isDns1035Label(ok), ok);
  for (const bad of ['1web', 'Web', 'web-', 'a'.repeat(64), 'web.svc']) assert.equal(isDns1035Label(bad), false, bad);
  // IsQualifiedName, IsValidLabelValue.
  for (const ok of ['app', 'app.kubernetes.io/name', 'prometheus.io/scrape', 'checksum/config']) assert.ok(isQualifiedName(ok), ok);
  for (const bad of ['/name', 'a/b/c', 'Example.com/x', `${'a'.repeat(64)}`, 'x/-y']) assert.equal(isQualifiedName(bad), false, bad);
  for (const ok of ['', 'user-service', 'v1.2_3', 'A']) assert.ok(isValidLabelValue(ok), ok);
  for (const bad of ['has space', '-x', 'x-', 'a'.repeat(64), 'a/b']) assert.equal(isValidLabelValue(bad), false, bad);
  for (const ok of ['config.yaml', 'private-key.pem', 'SHUTDOWN_TIMEOUT_MS', '.hidden']) assert.ok(isConfigMapKey(ok), ok);
  for (const bad of ['a/b', '..x', '.', 'with space']) assert.equal(isConfigMapKey(bad), false, bad);
  for (const ok of ['/', '/user', '/favicon.svg', '/a/b/']) assert.ok(isValidIngressPath(ok), ok);
  for (const bad of ['user', '/a//b', '/a/./b', '/a/../b', '/a/..', '/a/.', '/a%2fb']) assert.equal(isValidIngressPath(bad), false, bad);
  assert.equal(quantity('500m'), 0.5);
  assert.equal(quantity('1Gi'), 2 ** 30);
  assert.equal(quantity('1G'), 1e9);
  assert.equal(quantity('2'), 2);
  assert.throws(() => quantity('1GB'), /not a quantity/);
});

test('the check names every refused field of an object the schema accepts (so it is not vacuous)', () => {
  const objects = renderKustomization(devOverlay);
  const deployment = structuredClone(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'otel-collector')) as K8sObject;
  const pod = podTemplate(deployment);
  assert.ok(pod);
  const c = pod.spec.containers[0] as Container & { livenessProbe?: { successThreshold?: number } };
  (c.ports ?? [])[0]!.name = 'otlp-http-receiver'; // 18 characters
  c.resources!.requests!['memory'] = '1Gi'; // above its 512Mi limit
  c.volumeMounts!.push({ name: 'tmp', mountPath: '/etc/otelcol' }, { name: 'cache', mountPath: '/cache' });
  c.livenessProbe!.successThreshold = 2;
  pod.spec.initContainers = [{ ...structuredClone(c), name: 'otel-collector', ports: [], volumeMounts: [] }];
  (deployment['spec'] as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels = { 'app.kubernetes.io/name': 'otel' };
  deployment.metadata.labels = { ...deployment.metadata.labels, version: 'not a label value' };
  const service = structuredClone(objects.find((o) => o.kind === 'Service' && o.metadata.name === 'jaeger')) as K8sObject;
  service.metadata.name = '1jaeger';
  (service['spec'] as { ports: { name?: string; targetPort: string }[] }).ports[1]!.targetPort = 'otlp_grpc';
  delete (service['spec'] as { ports: { name?: string }[] }).ports[0]!.name;
  // The schema takes all of it...
  validateObject(deployment);
  validateObject(service);
  // ...the API server does not.
  assert.deepEqual(apiServerProblems([deployment, service]), [
    'Deployment/otel-collector: metadata.labels.version: value "not a label value" is not a valid label value',
    'Deployment/otel-collector: spec.selector: selector does not match template labels',
    'Deployment/otel-collector: spec.template.spec: a container name used twice (init containers included)',
    'Deployment/otel-collector: spec.template.spec.initContainers[0].resources.requests.memory: 1Gi must be less than or equal to the limit 512Mi',
    'Deployment/otel-collector: spec.template.spec.initContainers[0].livenessProbe.successThreshold: must be 1',
    'Deployment/otel-collector: spec.template.spec.containers[0].ports[0].name: "otlp-http-receiver" is not an IANA_SVC_NAME (at most 15 of [-a-z0-9], a letter, no "--")',
    'Deployment/otel-collector: spec.template.spec.containers[0].volumeMounts[2].mountPath: /etc/otelcol must be unique',
    'Deployment/otel-collector: spec.template.spec.containers[0].volumeMounts[3].name: "cache" not found',
    'Deployment/otel-collector: spec.template.spec.containers[0].resources.requests.memory: 1Gi must be less than or equal to the limit 512Mi',
    'Deployment/otel-collector: spec.template.spec.containers[0].livenessProbe.successThreshold: must be 1',
    'Service/1jaeger: metadata.name: not a DNS-1035 label (a letter first, at most 63 characters)',
    'Service/1jaeger: spec.ports: several ports, not all named',
    'Service/1jaeger: spec.ports[1].targetPort: "otlp_grpc" is not an IANA_SVC_NAME',
  ]);
  // Rollouts, autoscaling, Ingress paths, ConfigMaps.
  const recreate = structuredClone(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'jaeger')) as K8sObject;
  (recreate['spec'] as { strategy: unknown }).strategy = { type: 'Recreate', rollingUpdate: { maxSurge: 1 } };
  const stuck = structuredClone(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'user-service')) as K8sObject;
  (stuck['spec'] as { strategy: unknown }).strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } };
  const hpa = structuredClone(objects.find((o) => o.kind === 'HorizontalPodAutoscaler')) as K8sObject;
  (hpa['spec'] as { minReplicas: number }).minReplicas = 10;
  const ingress = structuredClone(objects.find((o) => o.kind === 'Ingress')) as K8sObject;
  (ingress['spec'] as { rules: { http: { paths: { path: string }[] } }[] }).rules[0]!.http.paths[0]!.path = '/user//x';
  const config = structuredClone(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'ecommerce-config')) as K8sObject;
  (config['data'] as Record<string, string>)['a/b'] = 'x';
  (config['data'] as Record<string, string>)['BIG'] = 'x'.repeat(1048576);
  // (The 1 MiB ConfigMap is also over what `kubectl apply` can copy into an annotation: the next test checks that.)
  const problems = apiServerProblems([recreate, stuck, hpa, ingress, config]).filter((p) => !p.includes('last-applied-configuration'));
  assert.deepEqual(problems.map((p) => p.replace(/: .*?: /, ': ')), [
    'Deployment/jaeger: may not be specified when strategy type is Recreate',
    'Deployment/user-service: may not be 0 when maxSurge is 0',
    `HorizontalPodAutoscaler/${hpa.metadata.name}: 10 > maxReplicas ${(hpa['spec'] as { maxReplicas: number }).maxReplicas}`,
    'Ingress/ecommerce: "/user//x" is not a valid Prefix path',
    'ConfigMap/ecommerce-config: key "a/b" is not a valid ConfigMap key',
    `ConfigMap/ecommerce-config: ${Object.entries(config['data'] as Record<string, string>).reduce((n, [k, v]) => n + k.length + v.length, 0)} bytes, over the 1 MiB a ConfigMap may hold`,
  ]);
});

test('the check also names what the API server and client-side `kubectl apply` refuse in env, probes, Service ports, Secrets, PDBs, NetworkPolicy ports, Ingress hosts and object size', () => {
  const objects = renderKustomization(devOverlay);
  const user = structuredClone(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'user-service')) as K8sObject;
  const c = podTemplate(user)!.spec.containers[0] as Container & { readinessProbe: Record<string, unknown>; startupProbe: Record<string, unknown> };
  type Env = { name: string; value?: string; valueFrom?: Record<string, unknown> };
  const env = c.env as Env[];
  env[0] = { ...env[0]!, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }; // PORT: a value and a valueFrom
  env[2] = { name: env[2]!.name, valueFrom: { ...env[2]!.valueFrom, fieldRef: { fieldPath: 'metadata.name' } } }; // NODE_ENV: two sources
  env[3] = { ...env[3]!, name: 'LOG LEVEL' }; // a space: refused by clusters before relaxed names
  c.readinessProbe = { ...c.readinessProbe, tcpSocket: { port: 'http' } }; // httpGet and tcpSocket
  c.startupProbe = { periodSeconds: 2 }; // no handler
  const service = structuredClone(objects.find((o) => o.kind === 'Service' && o.metadata.name === 'jaeger')) as K8sObject;
  (service['spec'] as { ports: { name: string; port: number; targetPort: string; protocol: string }[] }).ports.push({ name: 'grpc', port: 4317, targetPort: 'otlp-grpc', protocol: 'TCP' });
  const secret = structuredClone(objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'grafana-admin')) as K8sObject;
  (secret['stringData'] as Record<string, string>)['a/b'] = 'x';
  (secret['stringData'] as Record<string, string>)['big'] = 'x'.repeat(1048576);
  const pdb = structuredClone(objects.find((o) => o.kind === 'PodDisruptionBudget')) as K8sObject;
  (pdb['spec'] as { maxUnavailable?: number }).maxUnavailable = 1;
  // Under the ConfigMap's 1 MiB, over what its annotations may hold once `kubectl apply` copies it into one.
  const config = structuredClone(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'ecommerce-config')) as K8sObject;
  (config['data'] as Record<string, string>)['DASHBOARD'] = 'x'.repeat(300_000);
  const policy = structuredClone(objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'user-service')) as K8sObject;
  (policy['spec'] as { ingress: { ports: { port: number | string; protocol: string }[] }[] }).ingress[0]!.ports[0] = { port: 'http_port', protocol: 'TCP' };
  const ingress = structuredClone(renderKustomization(productionOverlay).find((o) => o.kind === 'Ingress')) as K8sObject;
  (ingress['spec'] as { rules: { host: string }[] }).rules[0]!.host = 'Shop.example.com';
  (ingress['spec'] as { tls: { hosts: string[] }[] }).tls[0]!.hosts = ['10.0.0.1'];
  for (const o of [user, service, pdb, config, policy, ingress]) validateObject(o);
  const problems = apiServerProblems([user, service, secret, pdb, config, policy, ingress]);
  assert.deepEqual(problems.filter((p) => !/bytes/.test(p)), [
    'Deployment/user-service: spec.template.spec.containers[0].readinessProbe: may not specify more than 1 handler type (httpGet, tcpSocket)',
    'Deployment/user-service: spec.template.spec.containers[0].startupProbe: must specify a handler type',
    'Deployment/user-service: spec.template.spec.containers[0].env[0].valueFrom: may not be specified when `value` is not empty',
    'Deployment/user-service: spec.template.spec.containers[0].env[2].valueFrom: may not have more than one field specified at a time',
    'Deployment/user-service: spec.template.spec.containers[0].env[3].name: "LOG LEVEL" is not a valid environment variable name (^[-._a-zA-Z][-._a-zA-Z0-9]*$)',
    'Service/jaeger: spec.ports[2]: Duplicate value: 4317/TCP',
    'Secret/grafana-admin: data: key "a/b" is not a valid Secret key',
    `PodDisruptionBudget/${pdb.metadata.name}: spec: minAvailable and maxUnavailable cannot be both set`,
    'NetworkPolicy/user-service: spec.ingress[0].ports[0].port: "http_port" is not an IANA_SVC_NAME',
    'Ingress/ecommerce: spec.rules[0].host: "Shop.example.com" is not a DNS-1123 subdomain',
    'Ingress/ecommerce: spec.tls[0].hosts[0]: "10.0.0.1" is not a DNS-1123 subdomain',
  ]);
  assert.deepEqual(problems.filter((p) => /bytes/.test(p)).map((p) => p.replace(/\d+ bytes/, 'N bytes')), [
    'Secret/grafana-admin: metadata.annotations: N bytes with kubectl apply\'s kubectl.kubernetes.io/last-applied-configuration, over the 262144 annotations may hold',
    'Secret/grafana-admin: data: N bytes, over the 1 MiB a Secret may hold',
    'ConfigMap/ecommerce-config: metadata.annotations: N bytes with kubectl apply\'s kubectl.kubernetes.io/last-applied-configuration, over the 262144 annotations may hold',
  ]);
  // The largest object we ship is far from the apply limit (the dashboards and rules ConfigMaps grow with each panel).
  const largest = Math.max(...rendered().map((o) => Buffer.byteLength(JSON.stringify(o))));
  assert.ok(largest < 262144 / 2, `the largest object is ${largest} bytes of JSON: split it before kubectl apply refuses it`);
});
