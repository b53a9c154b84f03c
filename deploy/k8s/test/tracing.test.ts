// Tracing in Kubernetes and compose: the collector pipeline against the Services and ports it names,
// the services' OTEL_* settings, the NetworkPolicy flows (services -> collector only -> Jaeger),
// Grafana's Jaeger data source against Grafana's documented provisioning fields, and exemplar storage
// in every Prometheus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dataOf, devOverlay, parseYaml, podTemplate, productionOverlay, renderKustomization, repoRoot, type Container, type K8sObject } from '../src/manifests.js';
import { expandProvisioning } from '../src/grafana-expand.js';
import { PROMETHEUS_FEATURES } from '../src/monitoring.js';
import { COLLECTOR_IMAGE, JAEGER_ARGS, JAEGER_IMAGE, JAEGER_MAX_TRACES } from '../src/tracing.js';
import { admits, deploymentPod, type PolicySpec } from '../src/network-policy-matching.js';

const base = renderKustomization('deploy/k8s/base');
const find = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `no ${kind}/${name}`);
  return found;
};
const containerOf = (objects: K8sObject[], deployment: string): Container => podTemplate(find(objects, 'Deployment', deployment))?.spec.containers[0] as Container;
const servicePorts = (objects: K8sObject[], name: string) => (find(objects, 'Service', name)['spec'] as { ports: { name: string; port: number; targetPort: string }[] }).ports;
const SERVICES = ['user', 'product', 'order'] as const;

interface CollectorConfig {
  extensions: { health_check: { endpoint: string } };
  receivers: { otlp: { protocols: { grpc: { endpoint: string }; http: { endpoint: string } } } };
  processors: Record<string, unknown>;
  exporters: Record<string, { endpoint: string; tls?: { insecure?: boolean } }>;
  service: { extensions: string[]; pipelines: { traces: { receivers: string[]; processors: string[]; exporters: string[] } } };
}
const collectorFile = readFileSync(join(repoRoot, 'deploy/monitoring/otel-collector/otel-collector.yaml'), 'utf8');
const collectorConfig = parseYaml(collectorFile)[0] as CollectorConfig;
const portOf = (endpoint: string) => Number(endpoint.split(':').at(-1));

test('the collector pipeline: OTLP in on the ports its Service exposes, batched, out to Jaeger only', () => {
  const { grpc, http } = collectorConfig.receivers.otlp.protocols;
  // 0.0.0.0: the collector's default (localhost) would refuse every other pod.
  assert.match(http.endpoint, /^0\.0\.0\.0:4318$/);
  assert.match(grpc.endpoint, /^0\.0\.0\.0:4317$/);
  const collector = containerOf(base, 'otel-collector');
  const ports = servicePorts(base, 'otel-collector');
  for (const port of [portOf(http.endpoint), portOf(grpc.endpoint)]) {
    const svcPort = ports.find((p) => p.port === port);
    assert.ok(svcPort, `Service otel-collector lacks ${port}`);
    assert.equal(collector.ports?.find((p) => p.name === svcPort.targetPort)?.containerPort, port);
  }
  const pipeline = collectorConfig.service.pipelines.traces;
  assert.deepEqual(pipeline.receivers, ['otlp']);
  assert.equal(pipeline.processors[0], 'memory_limiter', 'memory_limiter first, as the collector documents');
  assert.equal(pipeline.processors.at(-1), 'batch', 'batch last, as the collector documents');
  for (const p of pipeline.processors) assert.ok(p in collectorConfig.processors, p);
  assert.deepEqual(pipeline.exporters, Object.keys(collectorConfig.exporters));
  const [exporter] = Object.values(collectorConfig.exporters);
  const [host, port] = (exporter?.endpoint ?? '').split(':');
  assert.equal(host, 'jaeger');
  assert.ok(servicePorts(base, 'jaeger').some((p) => p.port === Number(port) && p.name === 'otlp-grpc'), `jaeger:${port} is not Jaeger's OTLP port`);
  // The probes hit the health_check extension, which the service enables.
  assert.deepEqual(collectorConfig.service.extensions, ['health_check']);
  const health = portOf(collectorConfig.extensions.health_check.endpoint);
  assert.equal(collector.ports?.find((p) => p.name === 'health')?.containerPort, health);
  assert.equal(collector.readinessProbe?.httpGet?.port, 'health');
});

test('the collector reads the shipped pipeline verbatim, in Kubernetes and in compose', () => {
  const config = find(base, 'ConfigMap', 'otel-collector-config');
  assert.equal(dataOf(config)['config.yaml'], collectorFile);
  const collector = containerOf(base, 'otel-collector') as Container & { args?: string[] };
  assert.deepEqual(collector.args, ['--config=/etc/otelcol/config.yaml']);
  assert.ok(collector.volumeMounts?.some((m) => m.mountPath === '/etc/otelcol' && m.readOnly));
  const compose = composeServices();
  assert.deepEqual(compose['otel-collector']?.command, ['--config=/etc/otelcol/config.yaml']);
  assert.ok(compose['otel-collector']?.volumes?.includes('../monitoring/otel-collector/otel-collector.yaml:/etc/otelcol/config.yaml:ro'));
});

test('Jaeger keeps only as many traces as fit its memory limit, the same in Kubernetes and compose', () => {
  const jaeger = containerOf(base, 'jaeger') as Container & { args?: string[]; command?: string[] };
  assert.equal(jaeger.command, undefined, 'the image\'s entry point runs Jaeger');
  assert.deepEqual(jaeger.args, JAEGER_ARGS);
  assert.deepEqual(composeServices()['jaeger']?.command, JAEGER_ARGS);
  // The key path is the embedded all-in-one config's of this release (its memory backend is some_storage).
  assert.equal(JAEGER_IMAGE, 'jaegertracing/jaeger:2.12.0', 're-read cmd/jaeger/internal/all-in-one.yaml of the new release for JAEGER_ARGS');
  assert.match(JAEGER_ARGS[0] ?? '', /^--set=extensions\.jaeger_storage\.backends\.some_storage\.memory\.max_traces=(\d+)$/);
  // About 25 KB per trace at most (tracing.ts): the ring must fit under GOMEMLIMIT with room for the rest.
  const goMemLimitMiB = Number(/^(\d+)MiB$/.exec(jaeger.env?.find((e) => e.name === 'GOMEMLIMIT')?.value ?? '')?.[1]);
  assert.ok(JAEGER_MAX_TRACES * 25 / 1024 < goMemLimitMiB * 0.75, `${JAEGER_MAX_TRACES} traces do not fit in ${goMemLimitMiB} MiB`);
});

test('collector and Jaeger images are pinned, the same in Kubernetes and compose', () => {
  for (const [deployment, image] of [['otel-collector', COLLECTOR_IMAGE], ['jaeger', JAEGER_IMAGE]] as const) {
    assert.match(image, /:\d+\.\d+\.\d+$/, `${image} is not pinned to a release`);
    assert.equal(containerOf(base, deployment).image, image);
    assert.equal(composeServices()[deployment]?.image, image);
  }
});

test("the collector's own metrics: scraped where its reader listens, under the names CollectorDroppingSpans reads", () => {
  const telemetry = (parseYaml(collectorFile)[0] as { service: { telemetry: { metrics: { readers: { pull: { exporter: { prometheus: Record<string, unknown> } } }[] } } } }).service.telemetry.metrics;
  assert.equal(telemetry.readers.length, 1);
  const reader = telemetry.readers[0]?.pull.exporter.prometheus ?? {};
  // 0.0.0.0 on the annotated port: the default reader listens on localhost only.
  assert.equal(reader['host'], '0.0.0.0');
  const annotations = podTemplate(find(base, 'Deployment', 'otel-collector'))?.metadata?.annotations ?? {};
  assert.equal(String(reader['port']), annotations['prometheus.io/port']);
  // Names, read from the source of this release (service/telemetry/otelconftelemetry, otelconf's
  // prometheusReaderOpts, the Go Prometheus exporter 0.60 and otlptranslator): a reader configured
  // without without_type_suffix / without_units gets `_total` on counters and no suffix for `{spans}`.
  // The collector's default reader (none configured) sets without_type_suffix: names without `_total`.
  assert.deepEqual(Object.keys(reader).sort(), ['host', 'port'], 'a naming option changes every otelcol_* name the rules read');
  assert.equal(COLLECTOR_IMAGE, 'otel/opentelemetry-collector:0.141.0', 're-read the internal metrics names of the new release (0.130.0 wrote otelcol_exporter_sent_spans__spans__total)');
  const rules = (parseYaml(readFileSync(join(repoRoot, 'deploy/monitoring/rules/monitoring.yml'), 'utf8'))[0] as { groups: { rules: { alert?: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
  const dropping = rules.find((r) => r.alert === 'CollectorDroppingSpans');
  assert.ok(dropping, 'no CollectorDroppingSpans: spans the collector drops or fails to send raise nothing');
  const read = [...new Set(dropping.expr.match(/otelcol_\w+/g) ?? [])].sort();
  // Counters of exporterhelper and receiverhelper metadata.yaml (0.141.0), as scraped.
  assert.deepEqual(read, ['otelcol_exporter_enqueue_failed_spans_total', 'otelcol_exporter_send_failed_spans_total', 'otelcol_receiver_refused_spans_total']);
  // The config's own comments name them as scraped too (they said otelcol_receiver_refused_spans, which matches no
  // series): a counter ends in _total; the gauges of exporterhelper (queue size and capacity) have no suffix.
  const gauges = ['otelcol_exporter_queue_size', 'otelcol_exporter_queue_capacity'];
  for (const name of new Set(collectorFile.match(/otelcol_\w+/g) ?? [])) {
    assert.ok(name.endsWith('_total') || gauges.includes(name), `otel-collector.yaml names ${name}, which the collector does not export (a counter without _total?)`);
  }
});

test('every service exports to the collector under its own name, with version and environment; the sampler follows the caller', () => {
  for (const [overlay, ratio, environment] of [[devOverlay, '1', 'dev'], [productionOverlay, '0.1', 'production']] as const) {
    const objects = renderKustomization(overlay);
    const config = dataOf(find(objects, 'ConfigMap', 'ecommerce-config'));
    assert.equal(config['OTEL_TRACES_SAMPLER'], 'parentbased_traceidratio');
    assert.equal(config['OTEL_TRACES_SAMPLER_ARG'], ratio, overlay);
    assert.equal(config['DEPLOYMENT_ENVIRONMENT'], environment, overlay);
    assert.equal(config['OTEL_EXPORTER_OTLP_PROTOCOL'], 'http/protobuf');
    assert.equal(config['OTEL_SDK_DISABLED'], 'false');
    const endpoint = new URL(config['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? '');
    assert.ok(servicePorts(objects, endpoint.hostname).some((p) => p.port === Number(endpoint.port) && p.name === 'otlp-http'), `${endpoint} is not the collector's OTLP/HTTP port`);
    for (const service of SERVICES) {
      const env = containerOf(objects, `${service}-service`).env ?? [];
      const value = (name: string) => env.find((e) => e.name === name);
      assert.equal(value('OTEL_SERVICE_NAME')?.value, service);
      // service.version is the image's own (SERVICE_VERSION, set by the Dockerfile), read by the preload.
      assert.equal(value('OTEL_RESOURCE_ATTRIBUTES')?.value, 'deployment.environment.name=$(DEPLOYMENT_ENVIRONMENT)');
      for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG', 'OTEL_SDK_DISABLED', 'DEPLOYMENT_ENVIRONMENT']) {
        assert.deepEqual(value(name)?.valueFrom?.configMapKeyRef, { name: 'ecommerce-config', key: name }, `${service} ${name}`);
      }
    }
  }
});

// docs/tracing.md gives the tracing keys of the ConfigMap `ecommerce-config` with their value in the base and the
// dev overlay: OTEL_EXPORTER_OTLP_PROTOCOL, set there for every service, had no row.
test("when docs/tracing.md's table gives the ConfigMap's tracing keys, then each OTEL_* key (and DEPLOYMENT_ENVIRONMENT) is a row, with the base's value and the dev overlay's", () => {
  const doc = readFileSync(join(repoRoot, 'docs/tracing.md'), 'utf8');
  const at = doc.indexOf('| key | base | dev overlay |');
  assert.ok(at > 0, 'docs/tracing.md has no "| key | base | dev overlay |" table');
  const rows = new Map<string, { base: string; dev: string }>();
  for (const line of doc.slice(at).split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const [key = '', baseCell = '', devCell = ''] = line.split('|').slice(1, -1).map((cell) => cell.trim());
    const value = (cell: string) => /^`([^`]*)`/.exec(cell)?.[1];
    const baseValue = value(baseCell) ?? '';
    rows.set(key.replace(/`/g, ''), { base: baseValue, dev: value(devCell) ?? baseValue });
  }
  const wrong: string[] = [];
  const baseConfig = dataOf(find(base, 'ConfigMap', 'ecommerce-config'));
  const devConfig = dataOf(find(renderKustomization(devOverlay), 'ConfigMap', 'ecommerce-config'));
  const keys = Object.keys(baseConfig).filter((key) => key.startsWith('OTEL_') || key === 'DEPLOYMENT_ENVIRONMENT');
  assert.ok(keys.length >= 5, `only ${keys.join(', ')}`);
  for (const key of new Set([...keys, ...rows.keys()])) {
    const row = rows.get(key);
    if (!row) wrong.push(`${key}: no row`);
    else if (!(key in baseConfig)) wrong.push(`${key}: a row, not a key of ecommerce-config`);
    else if (row.base !== baseConfig[key] || row.dev !== devConfig[key]) wrong.push(`${key}: base ${baseConfig[key]}, dev ${devConfig[key]}; the row says ${row.base}, ${row.dev}`);
  }
  assert.deepEqual(wrong, []);
});

test('the images start the preload, which the image build compiles and assembles', () => {
  const dockerfile = readFileSync(join(repoRoot, 'deploy/docker/Dockerfile'), 'utf8');
  const nodeOptions = /NODE_OPTIONS="([^"]+)"/.exec(dockerfile)?.[1] ?? '';
  assert.match(nodeOptions, /--import=\/app\/packages\/telemetry\/dist\/src\/register\.js/);
  assert.match(dockerfile, /^COPY packages\/telemetry\/package\.json packages\/telemetry\/$/m);
  assert.match(dockerfile, /npx tsc -b packages\/telemetry "\$@"/);
  // WORKDIR /app holds the assembled tree: packages/* with their dist (assemble-app.mjs).
  assert.match(dockerfile, /^WORKDIR \/app$/m);
  assert.match(readFileSync(join(repoRoot, 'deploy/docker/assemble-app.mjs'), 'utf8'), /w\.startsWith\('packages\/'\)/);
});

// --- NetworkPolicy flows --------------------------------------------------------------------------

/** Whether Deployment `from`'s pods may open a TCP connection to Deployment `to`'s on `port`, under these policies. */
function allowed(objects: K8sObject[], from: string, to: string, port: number): boolean {
  return admits(objects, deploymentPod(objects, from), deploymentPod(objects, to), port);
}

test('network policies: the services send spans to the collector only, the collector to Jaeger only, Grafana reads Jaeger', () => {
  for (const service of SERVICES) {
    assert.ok(allowed(base, `${service}-service`, 'otel-collector', 4318), `${service} -> collector`);
    assert.ok(!allowed(base, `${service}-service`, 'otel-collector', 4317), `${service} -> collector gRPC is not needed`);
    for (const port of [4317, 16686]) assert.ok(!allowed(base, `${service}-service`, 'jaeger', port), `${service} -> jaeger:${port}`);
  }
  assert.ok(allowed(base, 'otel-collector', 'jaeger', 4317));
  for (const [to, port] of [['postgres-exporter', 9187], ['user-service', 3001], ['grafana', 3000], ['prometheus', 9090]] as const) {
    assert.ok(!allowed(base, 'otel-collector', to, port), `collector -> ${to}`);
  }
  assert.ok(allowed(base, 'grafana', 'jaeger', 16686));
  assert.ok(!allowed(base, 'grafana', 'otel-collector', 4318));
  assert.ok(!allowed(base, 'prometheus', 'jaeger', 16686));
  const jaeger = base.filter((o) => o.kind === 'NetworkPolicy').find((o) => o.metadata.name === 'jaeger')?.['spec'] as PolicySpec;
  assert.deepEqual(jaeger.egress, [], 'Jaeger opens no connections');
  // The evaluator itself: flows that exist, and one that the default deny blocks.
  assert.ok(allowed(base, 'order-service', 'product-service', 3002));
  assert.ok(!allowed(base, 'product-service', 'order-service', 3003));
});

// --- compose ----------------------------------------------------------------------------------------

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, unknown>;
  volumes?: string[];
  ports?: string[];
}
function composeServices(): Record<string, ComposeService> {
  const text = readFileSync(join(repoRoot, 'deploy/docker/compose.yaml'), 'utf8');
  return (parseYaml(text)[0] as { services: Record<string, ComposeService> }).services;
}
/** A compose service's environment with its `<<: *anchor` merged, as compose reads it. */
function composeEnv(service: ComposeService | undefined): Record<string, string> {
  const raw = { ...(service?.environment ?? {}) } as Record<string, unknown>;
  const merged = (raw['<<'] ?? {}) as Record<string, unknown>;
  delete raw['<<'];
  return Object.fromEntries(Object.entries({ ...merged, ...raw }).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]));
}

test('compose: the services export to the collector under their own names; Jaeger UI on loopback', () => {
  const services = composeServices();
  for (const [name, service] of [['user-service', 'user'], ['product-service', 'product'], ['order-service', 'order'], ['gateway', 'gateway']] as const) {
    const env = composeEnv(services[name]);
    assert.equal(env['OTEL_EXPORTER_OTLP_ENDPOINT'], 'http://otel-collector:4318', name);
    assert.equal(env['OTEL_EXPORTER_OTLP_PROTOCOL'], 'http/protobuf', name);
    assert.equal(env['OTEL_SERVICE_NAME'], service, name);
    assert.equal(env['OTEL_SDK_DISABLED'], 'false', name);
    assert.match(env['OTEL_RESOURCE_ATTRIBUTES'] ?? '', /deployment\.environment\.name=compose/);
  }
  assert.deepEqual(services['jaeger']?.ports, ['127.0.0.1:16686:16686']);
});

// docs/tracing.md tells compose users which OTEL_* variables to set in their shell or .env (sampling, turning
// tracing off). Compose hands a container only the variables its `environment:` interpolates: one the file does
// not name never reaches the SDK, so `OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1`
// sampled every trace (the SDK's ratio when the argument is missing is 1).
test('compose: every OTEL_* variable docs/tracing.md says to set reaches every traced service', () => {
  const doc = readFileSync(join(repoRoot, 'docs/tracing.md'), 'utf8');
  const section = /^## Docker Compose\n([\s\S]*?)^## /m.exec(doc)?.[1] ?? '';
  const named = [...new Set([...section.matchAll(/\b(OTEL_[A-Z_]+)(?==|`|\s)/g)].map((m) => m[1] as string))];
  assert.ok(named.includes('OTEL_TRACES_SAMPLER') && named.includes('OTEL_SDK_DISABLED'), `docs/tracing.md's compose section names ${named.join(', ')}`);
  const services = composeServices();
  for (const name of ['user-service', 'product-service', 'order-service', 'gateway']) {
    const raw = { ...((services[name]?.environment ?? {}) as Record<string, unknown>) };
    const env = { ...((raw['<<'] ?? {}) as Record<string, unknown>), ...raw };
    for (const variable of named) {
      assert.match(String(env[variable] ?? ''), new RegExp(`^\\$\\{${variable}(:-[^}]*)?\\}$`), `${name}: ${variable} set in the shell or .env never reaches the container`);
    }
  }
});

// --- Prometheus and Grafana -----------------------------------------------------------------------

test('every Prometheus keeps exemplars: Kubernetes, compose and npm run monitoring', async () => {
  const args = (containerOf(base, 'prometheus') as Container & { args?: string[] }).args ?? [];
  for (const flag of PROMETHEUS_FEATURES) {
    assert.ok(args.includes(flag), `Kubernetes: ${flag}`);
    assert.ok(composeServices()['prometheus']?.command?.includes(flag), `compose: ${flag}`);
  }
  const local = (await import(pathToFileURL(join(repoRoot, 'deploy/monitoring/dist/src/stack.js')).href)) as { PROMETHEUS_FEATURES: readonly string[] };
  assert.deepEqual([...local.PROMETHEUS_FEATURES], PROMETHEUS_FEATURES);
});

/** The Jaeger data source's jsonData fields, as Grafana documents its provisioning (docs/sources/datasources/jaeger). */
const JAEGER_JSON_DATA: Record<string, readonly string[] | null> = {
  tracesToLogsV2: ['datasourceUid', 'spanStartTimeShift', 'spanEndTimeShift', 'tags', 'filterByTraceID', 'filterBySpanID', 'customQuery', 'query'],
  tracesToMetrics: ['datasourceUid', 'spanStartTimeShift', 'spanEndTimeShift', 'tags', 'queries'],
  nodeGraph: ['enabled'],
  traceIdTimeParams: ['enabled'],
  spanBar: ['type', 'tag'],
};
/** Prometheus data source: the exemplar link fields Grafana documents. */
const EXEMPLAR_DESTINATION = ['name', 'datasourceUid', 'url', 'urlDisplayLabel'];

interface Datasource {
  name: string;
  uid: string;
  type: string;
  url: string;
  jsonData?: Record<string, unknown>;
}

function provisionedDatasources(): Datasource[] {
  const text = readFileSync(join(repoRoot, 'deploy/monitoring/grafana/provisioning/datasources/datasources.yml'), 'utf8');
  const env = { PROMETHEUS_URL: 'http://prometheus:9090', ALERTMANAGER_URL: 'http://alertmanager:9093' };
  return parseYaml(text).flatMap((doc) => (expandProvisioning(doc, { env }) as { datasources: Datasource[] }).datasources);
}

test("Grafana's Jaeger data source: documented fields only, links to Prometheus (metrics) and Loki (logs)", () => {
  const datasources = provisionedDatasources();
  const jaeger = datasources.find((d) => d.type === 'jaeger');
  assert.ok(jaeger);
  assert.equal(jaeger.uid, 'jaeger');
  assert.equal(jaeger.url, 'http://jaeger:16686');
  assert.ok(servicePorts(base, 'jaeger').some((p) => p.port === 16686));
  const jsonData = jaeger.jsonData ?? {};
  for (const [key, value] of Object.entries(jsonData)) {
    const fields = JAEGER_JSON_DATA[key];
    assert.ok(fields !== undefined, `jsonData.${key} is not a documented Jaeger setting`);
    for (const field of Object.keys(value as object)) assert.ok(fields?.includes(field), `jsonData.${key}.${field} is not documented`);
  }
  const metrics = jsonData['tracesToMetrics'] as { datasourceUid: string; tags: { key: string; value?: string }[]; queries: { name: string; query: string }[] };
  assert.equal(datasources.find((d) => d.uid === metrics.datasourceUid)?.type, 'prometheus');
  for (const tag of metrics.tags) assert.deepEqual(Object.keys(tag).filter((k) => k !== 'key' && k !== 'value'), []);
  assert.ok(metrics.queries.length >= 2);
  // Grafana's provisioning turns $$ into $: the queries reach Grafana with its $__tags placeholder.
  for (const q of metrics.queries) {
    assert.ok(q.name && q.query.includes('{$__tags}'), q.query);
    assert.match(q.query, /http_server_request_duration_seconds_(count|bucket)/);
  }
  const logs = jsonData['tracesToLogsV2'] as { datasourceUid: string; filterByTraceID: boolean; tags: { key: string; value?: string }[] };
  // No log store ships with the platform: the link targets a Loki the operator adds (docs/tracing.md).
  assert.equal(logs.datasourceUid, 'loki');
  assert.equal(logs.filterByTraceID, true);
  assert.ok(logs.tags.some((t) => t.value === 'service'));
});

/**
 * The tags Grafana's trace view can read on a span the services export, after the collector and Jaeger:
 * - the collector's resource processors (insert: set `key` from `from_attribute` or `value` when absent);
 * - Jaeger's API (collector-contrib pkg/translator/jaeger, appendTagsFromResourceAttributes): service.name
 *   becomes process.serviceName and is left out of the process tags; other resource attributes are process
 *   tags, span attributes are span tags;
 * - Grafana (createSpanLink.tsx): a configured tag key is looked up in span.process.tags and span.tags.
 */
function grafanaVisibleTags(resource: Record<string, string>, spanAttributes: Record<string, string>): Map<string, string> {
  const attributes = { ...resource };
  for (const name of collectorConfig.service.pipelines.traces.processors.filter((p) => p.split('/')[0] === 'resource')) {
    const actions = (collectorConfig.processors[name] as { attributes: { key: string; action: string; from_attribute?: string; value?: string }[] }).attributes;
    for (const a of actions) {
      assert.ok(['insert', 'upsert'].includes(a.action), `${name}: ${a.action} is not modelled here`);
      const value = a.from_attribute !== undefined ? attributes[a.from_attribute] : a.value;
      if (value !== undefined && (a.action === 'upsert' || attributes[a.key] === undefined)) attributes[a.key] = value;
    }
  }
  const processTags = Object.entries(attributes).filter(([key]) => key !== 'service.name');
  return new Map([...processTags, ...Object.entries(spanAttributes)]);
}

test("Grafana's span links filter by the span's service: every tag they map to the `service` label resolves on an exported span", () => {
  const jaeger = provisionedDatasources().find((d) => d.type === 'jaeger')!;
  const jsonData = jaeger.jsonData as Record<string, { tags: { key: string; value?: string }[] }>;
  // What the services' preload exports (packages/telemetry: resource service.name, version, environment).
  const resource = { 'service.name': 'order', 'service.version': '0.1.0', 'deployment.environment.name': 'production' };
  const dbSpan = { 'db.system.name': 'postgresql', 'db.operation.name': 'INSERT' }; // no http.route on it
  const visible = grafanaVisibleTags(resource, dbSpan);
  for (const link of ['tracesToMetrics', 'tracesToLogsV2']) {
    const toService = jsonData[link]!.tags.filter((t) => (t.value ?? t.key) === 'service');
    assert.equal(toService.length, 1, `${link}: one tag maps to the service label`);
    assert.equal(visible.get(toService[0]!.key), 'order', `${link}: tag ${toService[0]!.key} is not on the span Grafana sees`);
  }
  // The check can fail: service.name itself is never visible after Jaeger.
  assert.equal(visible.get('service.name'), undefined);
});

test('Prometheus exemplars link to the Jaeger data source by the trace_id label', () => {
  const datasources = provisionedDatasources();
  const prometheus = datasources.find((d) => d.uid === 'prometheus');
  const destinations = (prometheus?.jsonData?.['exemplarTraceIdDestinations'] ?? []) as Record<string, string>[];
  assert.equal(destinations.length, 1);
  const [destination] = destinations;
  for (const field of Object.keys(destination ?? {})) assert.ok(EXEMPLAR_DESTINATION.includes(field), field);
  assert.equal(destination?.['name'], 'trace_id');
  assert.equal(datasources.find((d) => d.uid === destination?.['datasourceUid'])?.type, 'jaeger');
});

test('the latency panels ask Prometheus for exemplars (the trace links), the other panels do not', () => {
  const dir = join(repoRoot, 'deploy/monitoring/grafana/dashboards');
  let latency = 0;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const target = node as { expr?: unknown; exemplar?: unknown; instant?: unknown };
    if (typeof target.expr === 'string') {
      const isLatency = /_bucket\b/.test(target.expr) && target.instant !== true;
      if (isLatency) latency++;
      assert.equal(target.exemplar === true, isLatency, target.expr);
    }
    Object.values(node).forEach(visit);
  };
  for (const file of ['services-overview.json', 'database.json', 'runtime.json', 'business.json', 'alerts-slo.json']) visit(JSON.parse(readFileSync(join(dir, file), 'utf8')));
  assert.ok(latency >= 2, `${latency} latency queries`);
});

/**
 * The component types built into the image the manifests run (otel/opentelemetry-collector, the core `otelcol`
 * distribution), as its build manifest lists them: open-telemetry/opentelemetry-collector-releases,
 * distributions/otelcol/manifest.yaml at tag v0.141.0, each module's type from its metadata.yaml. The collector
 * refuses to start on a type its build lacks ("unknown type"), and contrib components (k8sattributes,
 * transform, tail_sampling, ...) are not in this image.
 */
const OTELCOL_CORE_0_141: Record<'receivers' | 'processors' | 'exporters' | 'extensions' | 'connectors', string[]> = {
  receivers: ['nop', 'otlp', 'hostmetrics', 'jaeger', 'kafka', 'prometheus', 'zipkin'],
  processors: ['batch', 'memory_limiter', 'attributes', 'resource', 'span', 'probabilistic_sampler', 'filter'],
  exporters: ['debug', 'nop', 'otlp', 'otlphttp', 'file', 'kafka', 'prometheus', 'prometheusremotewrite', 'zipkin'],
  extensions: ['zpages', 'health_check', 'pprof'],
  connectors: ['forward'],
};

/** Components of a collector config whose type the core distribution lacks, and pipeline references to undefined ones. */
function collectorComponentProblems(config: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const kinds = Object.keys(OTELCOL_CORE_0_141) as (keyof typeof OTELCOL_CORE_0_141)[];
  for (const kind of kinds) {
    // A component id is type[/name] (component.ID in the collector's component package).
    for (const id of Object.keys((config[kind] ?? {}) as Record<string, unknown>)) {
      const type = id.split('/')[0] ?? '';
      if (!OTELCOL_CORE_0_141[kind].includes(type)) problems.push(`${kind}.${id}: type ${type} is not in the otelcol 0.141.0 distribution`);
    }
  }
  const service = config['service'] as { extensions?: string[]; pipelines: Record<string, Partial<Record<'receivers' | 'processors' | 'exporters', string[]>>> };
  const defined = (kind: string, id: string): boolean => id in ((config[kind] ?? {}) as Record<string, unknown>);
  for (const id of service.extensions ?? []) if (!defined('extensions', id)) problems.push(`service.extensions: ${id} is not defined`);
  for (const [pipeline, lists] of Object.entries(service.pipelines)) {
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      for (const id of lists[kind] ?? []) if (!defined(kind, id) && !defined('connectors', id)) problems.push(`service.pipelines.${pipeline}.${kind}: ${id} is not defined`);
    }
  }
  return problems;
}

test('every collector component is one the pinned core distribution is built with, and every pipeline names defined components', () => {
  assert.equal(COLLECTOR_IMAGE, 'otel/opentelemetry-collector:0.141.0', 're-read distributions/otelcol/manifest.yaml of the new release for OTELCOL_CORE_0_141');
  const config = parseYaml(collectorFile)[0] as Record<string, unknown>;
  assert.deepEqual(collectorComponentProblems(config), []);
  // Not vacuous: contrib's k8sattributes (not in the core image), a misspelt exporter type, an undefined processor.
  const broken = structuredClone(config) as Record<string, Record<string, unknown>> & { service: { pipelines: { traces: { processors: string[] } } } };
  broken['processors'] = { ...broken['processors'], k8sattributes: {} };
  broken['exporters'] = { ...broken['exporters'], 'otlp_grpc/jaeger': {} };
  broken.service.pipelines.traces.processors = [...broken.service.pipelines.traces.processors, 'batch/2'];
  assert.deepEqual(collectorComponentProblems(broken), [
    'processors.k8sattributes: type k8sattributes is not in the otelcol 0.141.0 distribution',
    'exporters.otlp_grpc/jaeger: type otlp_grpc is not in the otelcol 0.141.0 distribution',
    'service.pipelines.traces.processors: batch/2 is not defined',
  ]);
});

/**
 * The keys each collector component of ours may hold, as the pinned release decodes them: the collector unmarshals
 * a component's config strictly (confmap's ErrorUnused), so a misspelt or misplaced key (`spike_limit_percent`,
 * `tls.insecure_skip`) stops it at start with "has invalid keys". A nested object is the keys one level down; true
 * is a value not looked into; an array's items are checked against the same keys. Read from
 * open-telemetry/opentelemetry-collector at tag v0.141.0 (the `mapstructure` tags, squashed structs inlined):
 * receiver/otlpreceiver/config.go (Protocols, HTTPConfig), config/configgrpc/configgrpc.go (ServerConfig,
 * ClientConfig), config/confignet/confignet.go (AddrConfig), config/confighttp/server.go (ServerConfig),
 * config/configtls/configtls.go (Config, ClientConfig), internal/memorylimiter/config.go,
 * processor/batchprocessor/config.go, exporter/otlpexporter/config.go (with exporterhelper's TimeoutConfig),
 * service/telemetry/otelconftelemetry/config.go and internal/migration/v0.3.0.go (LogsConfigV030,
 * MetricsConfigV030: level, and otelconf's MeterProvider readers and views). The two contrib components of the
 * core image, from open-telemetry/opentelemetry-collector-contrib: extension/healthcheckextension/config.go (an
 * HTTP server's keys, path, response_body, check_collector_pipeline) and the resource processor's
 * internal/coreinternal/attraction (ActionKeyValue).
 */
type KeySchema = { readonly [key: string]: KeySchema | true };
const fields = (names: string): Record<string, true> => Object.fromEntries(names.split(/\s+/).filter(Boolean).map((n) => [n, true as const]));
const TLS_CLIENT = fields('ca_file ca_pem include_system_ca_certs_pool cert_file cert_pem key_file key_pem min_version max_version cipher_suites reload_interval curve_preferences tpm insecure insecure_skip_verify server_name_override');
const GRPC_SERVER = fields('endpoint transport dialer tls max_recv_msg_size_mib max_concurrent_streams read_buffer_size write_buffer_size keepalive auth include_metadata middlewares');
const HTTP_SERVER = fields('endpoint tls cors auth max_request_body_size include_metadata response_headers compression_algorithms read_timeout read_header_timeout write_timeout idle_timeout middlewares keep_alives_enabled');
const COLLECTOR_0_141_KEYS: Record<string, KeySchema> = {
  'extensions.health_check': { ...HTTP_SERVER, ...fields('path response_body check_collector_pipeline') },
  'receivers.otlp': { protocols: { grpc: GRPC_SERVER, http: { ...HTTP_SERVER, ...fields('traces_url_path metrics_url_path logs_url_path') } } },
  'processors.memory_limiter': fields('check_interval min_gc_interval_when_soft_limited min_gc_interval_when_hard_limited limit_mib spike_limit_mib limit_percentage spike_limit_percentage'),
  'processors.batch': fields('timeout send_batch_size send_batch_max_size metadata_keys metadata_cardinality_limit'),
  'processors.resource': { attributes: fields('key value pattern from_attribute from_context converted_type action') },
  'exporters.otlp': { ...fields('timeout sending_queue retry_on_failure endpoint compression keepalive read_buffer_size write_buffer_size wait_for_ready headers balancer_name authority auth middlewares'), tls: TLS_CLIENT },
  'service.telemetry': {
    logs: fields('level development encoding disable_caller disable_stacktrace sampling output_paths error_output_paths initial_fields processors'),
    metrics: fields('level readers views'),
    ...fields('traces resource'),
  },
};

/** The keys of `value` that `schema` lacks, by their path. */
function unknownKeys(value: unknown, schema: KeySchema, path: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => unknownKeys(item, schema, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, inner]) => {
    const known = schema[key];
    if (known === undefined) return [`${path}.${key}`];
    return known === true ? [] : unknownKeys(inner, known, `${path}.${key}`);
  });
}

/** Every key of every component (by its type, the part of its id before `/`) and of service.telemetry that the pinned collector does not decode. */
function collectorKeyProblems(config: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const kind of ['extensions', 'receivers', 'processors', 'exporters']) {
    for (const [id, settings] of Object.entries((config[kind] ?? {}) as Record<string, unknown>)) {
      const schema = COLLECTOR_0_141_KEYS[`${kind}.${id.split('/')[0] ?? ''}`];
      if (schema === undefined) problems.push(`${kind}.${id}: no key list for its type here (add it from the release's source)`);
      else problems.push(...unknownKeys(settings, schema, `${kind}.${id}`));
    }
  }
  const telemetry = (config['service'] as { telemetry?: unknown } | undefined)?.telemetry;
  problems.push(...unknownKeys(telemetry, COLLECTOR_0_141_KEYS['service.telemetry'] ?? {}, 'service.telemetry'));
  return problems;
}

test('every key of the collector config is one the pinned release decodes (it refuses to start on any other)', () => {
  assert.equal(COLLECTOR_IMAGE, 'otel/opentelemetry-collector:0.141.0', 're-read the config structs of the new release for COLLECTOR_0_141_KEYS');
  const config = parseYaml(collectorFile)[0] as Record<string, unknown>;
  assert.deepEqual(collectorKeyProblems(config), []);
  // What the release checks beyond the keys (memorylimiter Config.Validate, otelconftelemetry Config.Validate).
  const limiter = collectorConfig.processors['memory_limiter'] as { check_interval: string; limit_percentage: number; spike_limit_percentage: number };
  assert.ok(limiter.limit_percentage > 0 && limiter.limit_percentage <= 100 && limiter.spike_limit_percentage < limiter.limit_percentage);
  assert.match(limiter.check_interval, /^[1-9]\d*(ms|s)$/);
  // Not vacuous: a misspelt limiter key, a TLS key one level too high, an unknown key inside a receiver protocol, a
  // log setting in the metrics block.
  const broken = structuredClone(config) as Record<string, Record<string, Record<string, unknown>>>;
  broken['processors']!['memory_limiter'] = { ...broken['processors']!['memory_limiter'], spike_limit_percent: 20 };
  broken['exporters']!['otlp/jaeger'] = { ...broken['exporters']!['otlp/jaeger'], insecure: true };
  (broken['receivers']!['otlp'] as { protocols: { http: Record<string, unknown> } }).protocols.http['path'] = '/v1/traces';
  (broken['service']!['telemetry'] as { metrics: Record<string, unknown> }).metrics['encoding'] = 'json';
  assert.deepEqual(collectorKeyProblems(broken), [
    'receivers.otlp.protocols.http.path',
    'processors.memory_limiter.spike_limit_percent',
    'exporters.otlp/jaeger.insecure',
    'service.telemetry.metrics.encoding',
  ]);
});

/**
 * Where Jaeger 2.12.0 all-in-one listens, from jaegertracing/jaeger at tag v2.12.0: cmd/jaeger/internal/all-in-one.yaml
 * (the config the image runs without --config) puts the OTLP receivers on ${env:JAEGER_LISTEN_HOST:-localhost}, and
 * cmd/jaeger/Dockerfile sets JAEGER_LISTEN_HOST=0.0.0.0 in the image; the jaeger_query extension, not set in that file,
 * serves the UI and the HTTP API Grafana reads on ":16686" (cmd/query/app/flags.go DefaultQueryOptions,
 * ports/ports.go QueryHTTP). An environment that set JAEGER_LISTEN_HOST to loopback (or the default it falls back
 * to when unset) would leave the collector's exports refused.
 */
const JAEGER_2_12_LISTENS = { otlpGrpc: 4317, otlpHttp: 4318, queryHttp: 16686 } as const;

test("the collector and Grafana reach Jaeger on the ports Jaeger 2.12 listens on, on the pod's address", () => {
  assert.equal(JAEGER_IMAGE, 'jaegertracing/jaeger:2.12.0', 're-read all-in-one.yaml, the Dockerfile and the query defaults of the new release');
  const jaeger = containerOf(base, 'jaeger');
  const port = (name: string) => jaeger.ports?.find((p) => p.name === name)?.containerPort;
  assert.equal(port('otlp-grpc'), JAEGER_2_12_LISTENS.otlpGrpc);
  assert.equal(port('http'), JAEGER_2_12_LISTENS.queryHttp);
  // Nothing in Kubernetes or compose moves Jaeger's listeners back to loopback, or passes its own config.
  const compose = composeServices()['jaeger'];
  for (const env of [Object.fromEntries((jaeger.env ?? []).map((e) => [e.name, e.value])), (compose?.environment ?? {}) as Record<string, unknown>]) {
    assert.equal(env['JAEGER_LISTEN_HOST'], undefined, 'JAEGER_LISTEN_HOST: the image sets 0.0.0.0');
  }
  for (const args of [JAEGER_ARGS, compose?.command ?? []]) assert.ok(!args.some((a) => a.startsWith('--config')), 'a --config replaces the all-in-one config these ports are read from');
  const exporter = collectorConfig.exporters['otlp/jaeger'];
  assert.equal(portOf(exporter?.endpoint ?? ''), JAEGER_2_12_LISTENS.otlpGrpc);
  const grafanaUrl = new URL(provisionedDatasources().find((d) => d.type === 'jaeger')?.url ?? '');
  assert.equal(Number(grafanaUrl.port), JAEGER_2_12_LISTENS.queryHttp);
});

/**
 * The jsonData keys Grafana 11.6 reads for the two other data sources we provision (an unknown key is kept and
 * ignored without a word, so a misspelt one silently does nothing). Prometheus: every `jsonData.<key>` that
 * @grafana/prometheus@11.6.0 reads (dist/esm, the package built from the v11.6.0 tag's packages/grafana-prometheus),
 * manageAlerts among them; Alertmanager: AlertManagerDataSourceJsonData in grafana/grafana
 * public/app/plugins/datasource/alertmanager/types.ts (implementation "cortex" | "mimir" | "prometheus").
 */
const DATASOURCE_JSON_DATA: Record<string, readonly string[]> = {
  prometheus: [
    'prometheusType', 'httpMethod', 'prometheusVersion', 'incrementalQuerying', 'timeInterval', 'seriesEndpoint',
    'incrementalQueryOverlapWindow', 'exemplarTraceIdDestinations', 'disableRecordingRules', 'disableMetricsLookup',
    'defaultEditor', 'customQueryParameters', 'codeModeMetricNamesSuggestionLimit', 'cacheLevel', 'queryTimeout', 'manageAlerts',
  ],
  alertmanager: ['implementation', 'handleGrafanaManagedAlerts'],
};

/** The jsonData keys of the provisioned Prometheus and Alertmanager data sources that Grafana 11.6 does not read. */
function unreadJsonData(datasources: Datasource[]): string[] {
  return Object.entries(DATASOURCE_JSON_DATA).flatMap(([type, keys]) => {
    const ds = datasources.find((d) => d.type === type);
    if (!ds) return [`no ${type} data source`];
    return Object.keys(ds.jsonData ?? {}).filter((k) => !keys.includes(k)).map((k) => `${ds.name}.jsonData.${k}`);
  });
}

test('the Prometheus and Alertmanager data sources set only jsonData keys Grafana 11.6 reads, with values it knows', () => {
  const datasources = provisionedDatasources();
  assert.deepEqual(unreadJsonData(datasources), []);
  const prometheus = datasources.find((d) => d.type === 'prometheus')?.jsonData ?? {};
  // datasource.ts: the method of every query (GET when unset).
  assert.ok(['GET', 'POST'].includes(String(prometheus['httpMethod'])), `httpMethod ${String(prometheus['httpMethod'])}`);
  // The scrape interval Grafana assumes for $__rate_interval: the one every Prometheus here scrapes at.
  for (const file of ['prometheus.yml', 'prometheus-compose.yml', 'prometheus-k8s.yml']) {
    const global = (parseYaml(readFileSync(join(repoRoot, 'deploy/monitoring/prometheus', file), 'utf8'))[0] as { global: { scrape_interval: string } }).global;
    assert.equal(prometheus['timeInterval'], global.scrape_interval, file);
  }
  const alertmanager = datasources.find((d) => d.type === 'alertmanager')?.jsonData ?? {};
  assert.ok(['cortex', 'mimir', 'prometheus'].includes(String(alertmanager['implementation'])));
  // Not vacuous: a key in another letter case, and one of the Jaeger data source's, are reported.
  const broken = structuredClone(datasources);
  const brokenPrometheus = broken.find((d) => d.type === 'prometheus')!;
  brokenPrometheus.jsonData = { ...brokenPrometheus.jsonData, exemplarTraceIDDestinations: [], tracesToMetrics: {} };
  assert.deepEqual(unreadJsonData(broken), ['Prometheus.jsonData.exemplarTraceIDDestinations', 'Prometheus.jsonData.tracesToMetrics']);
});
