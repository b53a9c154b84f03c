// The monitoring stack's manifests (prometheus.yaml, alertmanager.yaml,
// grafana.yaml), built here so that their ConfigMaps are generated from the
// files in deploy/monitoring: one source of truth for rules, scrape config,
// Alertmanager routes, Grafana provisioning and dashboards.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import type { IConfigMap, IContainer, IPersistentVolumeClaim, IPodSecurityContext, IPodSpec, IService, IServiceAccount, IVolume, IVolumeMount } from 'kubernetes-models/v1';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IClusterRole, IClusterRoleBinding, IRole, IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { k8sDir, parseYaml, repoRoot } from './manifests.js';

const monitoringDir = join(repoRoot, 'deploy/monitoring');
export const namespace = 'ecommerce';

/** Where a generated ConfigMap's data comes from, relative to the repo root. */
export const sourceAnnotation = 'ecommerce.local/generated-from';

export type Manifest = IConfigMap | IService | IServiceAccount | IDeployment | IClusterRole | IClusterRoleBinding | IRole | IRoleBinding | IPersistentVolumeClaim;

/**
 * Prometheus keeps 35 days: the SLO panels and budget read 30 days, plus a
 * margin. On a PVC, so a restart or reschedule does not wipe the history.
 */
const PROMETHEUS_RETENTION = '35d';
/**
 * The Prometheus pod's init container: prometheus-k8s.yml with __NAMESPACE__ replaced by the pod's
 * namespace (a DNS label: nothing sed would read specially), into the emptyDir Prometheus reads.
 */
const PROMETHEUS_CONFIG_RENDER =
  'set -eu; test -n "$POD_NAMESPACE"; sed "s/__NAMESPACE__/$POD_NAMESPACE/g" /etc/prometheus/template/prometheus.yml > /etc/prometheus/config/prometheus.yml';
const PROMETHEUS_VOLUME = '20Gi';
/**
 * Feature flags of every Prometheus here (Kubernetes, compose, `npm run monitoring`): exemplar storage, so
 * the trace ids the services attach to histogram samples (OpenMetrics exposition) are kept and Grafana
 * links a latency point to its trace. Prometheus 2.x asks for OpenMetrics first in its scrape Accept header.
 */
export const PROMETHEUS_FEATURES = ['--enable-feature=exemplar-storage'];
/**
 * Where a person reaches Prometheus and Alertmanager: the local ends of the port-forwards of docs/deploy.md
 * (step 7). Without the flag each derives its URL from the pod's host name (http://prometheus-7d9f...:9090/),
 * which nothing outside the pod resolves, and every alert's generatorURL and Alertmanager's own links point
 * there. Root path only: a path in the flag moves every endpoint under it, the probes and /metrics included.
 * Behind a real host name, patch these args in an overlay (docs/deploy.md, "Production").
 */
const PROMETHEUS_EXTERNAL_URL = 'http://127.0.0.1:9090/';
const ALERTMANAGER_EXTERNAL_URL = 'http://127.0.0.1:9093/';

export function labels(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'ecommerce', 'app.kubernetes.io/component': 'monitoring' };
}

/** Top-level files of a deploy/monitoring folder (subfolders such as rules/tests are not config). */
function filesOf(relDir: string, pattern: RegExp): string[] {
  const dir = join(monitoringDir, relDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => pattern.test(f) && statSync(join(dir, f)).isFile()).sort();
}

export function configMap(name: string, relDir: string, files: string[], keyOf: (file: string) => string = (f) => f): IConfigMap {
  const data: Record<string, string> = {};
  for (const file of files) data[keyOf(file)] = readFileSync(join(monitoringDir, relDir, file), 'utf8');
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      labels: labels(name),
      annotations: { [sourceAnnotation]: files.map((f) => posix.join('deploy/monitoring', relDir, f)).join(',') },
    },
    data,
  };
}

/** Rolls the pods when a ConfigMap they mount changes (ConfigMaps are not watched by the apps). */
export function checksum(...maps: IConfigMap[]): string {
  const hash = createHash('sha256');
  for (const map of maps) hash.update(JSON.stringify(map.data ?? {}));
  return hash.digest('hex').slice(0, 16);
}

export function podSecurity(uid: number): IPodSecurityContext {
  return { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: 'RuntimeDefault' } };
}

export const containerSecurity: IContainer['securityContext'] = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  privileged: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export function deployment(name: string, spec: { pod: IPodSpec; annotations: Record<string, string>; recreate?: boolean }): IDeployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name, ...labels(name) } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      // Single-replica stateful-ish tools: never two writers on the same data.
      strategy: spec.recreate ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: name, ...labels(name) }, annotations: spec.annotations },
        spec: spec.pod,
      },
    },
  };
}

function service(name: string, port: number): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: labels(name) },
    spec: { selector: { 'app.kubernetes.io/name': name }, ports: [{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }] },
  };
}

export const tmpVolume: IVolume = { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } };
export const tmpMount: IVolumeMount = { name: 'tmp', mountPath: '/tmp' };

/** prometheus.yaml: RBAC for discovery, config + rules, Prometheus, postgres_exporter. */
export function prometheusManifests(): Manifest[] {
  const config = configMap('prometheus-config', 'prometheus', ['prometheus-k8s.yml'], () => 'prometheus.yml');
  const rules = configMap('prometheus-rules', 'rules', filesOf('rules', /\.ya?ml$/));
  const queries = configMap('postgres-exporter-queries', 'postgres', filesOf('postgres', /^queries\.ya?ml$/));
  const account: IServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'prometheus', namespace, labels: labels('prometheus') } };
  // Cluster-wide only what has no namespace: the nodes, and their kubelet
  // and cAdvisor metrics through the API server's node proxy.
  const role: IClusterRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'ecommerce-prometheus', labels: labels('prometheus') },
    rules: [
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] },
    ],
  };
  const binding: IClusterRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'ecommerce-prometheus', labels: labels('prometheus') },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ecommerce-prometheus' },
    subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace }],
  };
  // Pod and service discovery in our namespace only (prometheus-k8s.yml: own_namespace).
  const discovery: IRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'prometheus-discovery', namespace, labels: labels('prometheus') },
    rules: [
      { apiGroups: [''], resources: ['pods', 'services', 'endpoints'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    ],
  };
  const discoveryBinding: IRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'prometheus-discovery', namespace, labels: labels('prometheus') },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'prometheus-discovery' },
    subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace }],
  };
  const prometheus = deployment('prometheus', {
    recreate: true,
    annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090', 'prometheus.io/path': '/metrics', 'checksum/config': checksum(config, rules) },
    pod: {
      serviceAccountName: 'prometheus',
      // The TSDB volume: chowned file by file only while its root is not yet the group's (a new volume), not on
      // every start; Prometheus writes every file as 65534:65534 itself.
      securityContext: { ...podSecurity(65534), fsGroupChangePolicy: 'OnRootMismatch' },
      initContainers: [
        {
          // prometheus-k8s.yml names our namespace as __NAMESPACE__ (Prometheus expands no variable
          // in its config): written out here with the pod's own namespace, so an overlay's
          // `namespace:` reaches the scrape filters too. The same image: busybox sh and sed.
          name: 'config',
          image: 'prom/prometheus:v2.55.1',
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', PROMETHEUS_CONFIG_RENDER],
          env: [{ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }],
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
          securityContext: containerSecurity,
          volumeMounts: [
            { name: 'config-template', mountPath: '/etc/prometheus/template', readOnly: true },
            { name: 'config', mountPath: '/etc/prometheus/config' },
          ],
        },
      ],
      containers: [
        {
          name: 'prometheus',
          image: 'prom/prometheus:v2.55.1',
          imagePullPolicy: 'IfNotPresent',
          // prometheus-k8s.yml loads "../rules/*.yml": config and rules side by side.
          args: [
            '--config.file=/etc/prometheus/config/prometheus.yml',
            '--storage.tsdb.path=/prometheus',
            `--storage.tsdb.retention.time=${PROMETHEUS_RETENTION}`,
            // 80% of the 20Gi volume. Prometheus reads GB as GiB (powers of 2), counts the WAL in
            // it, deletes only whole blocks and needs room to write a compacted block before it
            // deletes the old ones: its storage docs say at most 80-85% of the disk (18GB was 90%,
            // which a full volume crash-loops on: "no space left on device").
            '--storage.tsdb.retention.size=16GB',
            '--web.enable-lifecycle',
            `--web.external-url=${PROMETHEUS_EXTERNAL_URL}`,
            // Trace ids on latency histograms (docs/tracing.md): kept only with this flag.
            ...PROMETHEUS_FEATURES,
          ],
          ports: [{ name: 'http', containerPort: 9090 }],
          readinessProbe: { httpGet: { path: '/-/ready', port: 'http' }, periodSeconds: 10 },
          livenessProbe: { httpGet: { path: '/-/healthy', port: 'http' }, periodSeconds: 15, failureThreshold: 4 },
          resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
          securityContext: containerSecurity,
          volumeMounts: [
            { name: 'config', mountPath: '/etc/prometheus/config', readOnly: true },
            { name: 'rules', mountPath: '/etc/prometheus/rules', readOnly: true },
            { name: 'data', mountPath: '/prometheus' },
            tmpMount,
          ],
        },
      ],
      volumes: [
        { name: 'config-template', configMap: { name: 'prometheus-config' } },
        // prometheus.yml as the init container wrote it.
        { name: 'config', emptyDir: { sizeLimit: '1Mi' } },
        { name: 'rules', configMap: { name: 'prometheus-rules' } },
        // 35 days of history for the 30-day SLO: on a volume that outlives the
        // pod (Recreate strategy: the RWO volume has one writer at a time).
        { name: 'data', persistentVolumeClaim: { claimName: 'prometheus-data' } },
        tmpVolume,
      ],
    },
  });
  const exporterSecret = (name: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: 'postgres-exporter-db', key } } });
  const exporter = deployment('postgres-exporter', {
    annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9187', 'prometheus.io/path': '/metrics', 'checksum/config': checksum(queries) },
    pod: {
      automountServiceAccountToken: false,
      securityContext: podSecurity(65534),
      containers: [
        {
          name: 'postgres-exporter',
          // v0.17.0 is the first release whose collectors read PostgreSQL 17
          // (checkpoint columns moved to pg_stat_checkpointer, new
          // pg_stat_statements columns); older ones fail those collectors
          // (pg_scrape_collector_success 0). The test "postgres_exporter
          // matches the PostgreSQL major" keeps the two in step.
          image: 'quay.io/prometheuscommunity/postgres-exporter:v0.17.1',
          imagePullPolicy: 'IfNotPresent',
          // The same custom pg_stat_statements queries as the local and compose
          // setups, so the dashboards see the same metric names everywhere.
          args: ['--extend.query-path=/etc/postgres-exporter/queries.yml'],
          // The role and password stay out of the URL (DATA_SOURCE_NAME would need them
          // percent-encoded, which $(VAR) cannot do): with DATA_SOURCE_URI, the exporter
          // builds the URL itself from DATA_SOURCE_USER and DATA_SOURCE_PASS with Go's
          // url.UserPassword, which escapes them (cmd/postgres_exporter/datasource.go).
          env: [
            exporterSecret('DB_HOST', 'host'),
            exporterSecret('DB_PORT', 'port'),
            exporterSecret('DB_NAME', 'database'),
            exporterSecret('DB_SSLMODE', 'sslmode'),
            { name: 'DATA_SOURCE_URI', value: '$(DB_HOST):$(DB_PORT)/$(DB_NAME)?sslmode=$(DB_SSLMODE)' },
            exporterSecret('DATA_SOURCE_USER', 'username'),
            exporterSecret('DATA_SOURCE_PASS', 'password'),
          ],
          ports: [{ name: 'http', containerPort: 9187 }],
          readinessProbe: { httpGet: { path: '/metrics', port: 'http' }, periodSeconds: 15, timeoutSeconds: 5 },
          livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 20 },
          resources: { requests: { cpu: '20m', memory: '32Mi' }, limits: { cpu: '250m', memory: '128Mi' } },
          securityContext: containerSecurity,
          volumeMounts: [{ name: 'queries', mountPath: '/etc/postgres-exporter', readOnly: true }, tmpMount],
        },
      ],
      volumes: [{ name: 'queries', configMap: { name: 'postgres-exporter-queries' } }, tmpVolume],
    },
  });
  const data: IPersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'prometheus-data', namespace, labels: labels('prometheus') },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: PROMETHEUS_VOLUME } } },
  };
  return [account, role, binding, discovery, discoveryBinding, config, rules, queries, data, prometheus, service('prometheus', 9090), exporter, service('postgres-exporter', 9187)];
}

/** alertmanager.yaml: its config from deploy/monitoring/alertmanager, one replica. */
export function alertmanagerManifests(): Manifest[] {
  const config = configMap('alertmanager-config', 'alertmanager', filesOf('alertmanager', /\.(ya?ml|tmpl)$/));
  // The receiver behind alertmanager.yml's http://127.0.0.1:9095/alerts: a
  // sidecar, so the same URL works locally and here (deploy/k8s/alert-log).
  const alertLog: IConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'alert-log', namespace, labels: labels('alert-log'), annotations: { [sourceAnnotation]: 'deploy/k8s/alert-log/alert-log.mjs' } },
    data: { 'alert-log.mjs': readFileSync(join(k8sDir, 'alert-log/alert-log.mjs'), 'utf8') },
  };
  const alertmanager = deployment('alertmanager', {
    recreate: true,
    annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9093', 'prometheus.io/path': '/metrics', 'checksum/config': checksum(config, alertLog) },
    pod: {
      automountServiceAccountToken: false,
      securityContext: podSecurity(65534),
      containers: [
        {
          name: 'alertmanager',
          image: 'prom/alertmanager:v0.27.0',
          imagePullPolicy: 'IfNotPresent',
          // An empty cluster address turns off HA gossip: one replica, no peers.
          args: [
            '--config.file=/etc/alertmanager/alertmanager.yml',
            '--storage.path=/alertmanager',
            '--cluster.listen-address=',
            `--web.external-url=${ALERTMANAGER_EXTERNAL_URL}`,
          ],
          ports: [{ name: 'http', containerPort: 9093 }],
          readinessProbe: { httpGet: { path: '/-/ready', port: 'http' }, periodSeconds: 10 },
          livenessProbe: { httpGet: { path: '/-/healthy', port: 'http' }, periodSeconds: 15 },
          resources: { requests: { cpu: '20m', memory: '32Mi' }, limits: { cpu: '250m', memory: '128Mi' } },
          securityContext: containerSecurity,
          volumeMounts: [
            { name: 'config', mountPath: '/etc/alertmanager', readOnly: true },
            { name: 'data', mountPath: '/alertmanager' },
            tmpMount,
          ],
        },
        {
          name: 'alert-log',
          // The official Node image, pinned like every image here.
          image: 'node:24.11.1-bookworm-slim',
          imagePullPolicy: 'IfNotPresent',
          command: ['node', '/opt/alert-log/alert-log.mjs'],
          env: [
            { name: 'ALERT_LOG_PORT', value: '9095' },
            { name: 'NODE_OPTIONS', value: '--max-old-space-size=32' },
          ],
          resources: { requests: { cpu: '5m', memory: '32Mi' }, limits: { cpu: '100m', memory: '96Mi' } },
          securityContext: containerSecurity,
          volumeMounts: [{ name: 'alert-log', mountPath: '/opt/alert-log', readOnly: true }],
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: 'alertmanager-config' } },
        { name: 'alert-log', configMap: { name: 'alert-log' } },
        { name: 'data', emptyDir: { sizeLimit: '256Mi' } },
        tmpVolume,
      ],
    },
  });
  return [config, alertLog, alertmanager, service('alertmanager', 9093)];
}

/** ConfigMap names are DNS labels; dashboard files are not necessarily. */
function dnsName(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
}

/**
 * The folder Grafana's dashboard provider reads, from the repo's provider
 * file (providers[].options.path), so the mount and the file always agree.
 * The path is a literal: Grafana has no `${VAR:-default}` syntax (see
 * grafana-expand.ts), so a variable there would need the same value set in
 * every runtime anyway.
 */
function dashboardsPath(providerFiles: string[]): string {
  for (const file of providerFiles) {
    for (const doc of parseYaml(readFileSync(join(monitoringDir, 'grafana/provisioning/dashboards', file), 'utf8'))) {
      const providers = (doc as { providers?: { options?: { path?: string } }[] }).providers ?? [];
      const path = providers.find((p) => p.options?.path)?.options?.path;
      if (path?.includes('$')) throw new Error(`${file}: the dashboards path must be a literal, not ${path}`);
      if (path) return path;
    }
  }
  throw new Error('no dashboard provider with options.path in grafana/provisioning/dashboards');
}

/** grafana.yaml: provisioning (datasources, dashboard providers, ...) and one ConfigMap per dashboard. */
export function grafanaManifests(): Manifest[] {
  const provisioningRoot = 'grafana/provisioning';
  const provisioningDirs = existsSync(join(monitoringDir, provisioningRoot))
    ? readdirSync(join(monitoringDir, provisioningRoot)).filter((d) => statSync(join(monitoringDir, provisioningRoot, d)).isDirectory()).sort()
    : [];
  const provisioning = provisioningDirs.map((dir) =>
    configMap(`grafana-provisioning-${dnsName(dir)}`, posix.join(provisioningRoot, dir), filesOf(posix.join(provisioningRoot, dir), /\.(ya?ml|json)$/)),
  );
  const dashboardFiles = filesOf('grafana/dashboards', /\.json$/);
  // One ConfigMap per dashboard: `kubectl apply` (client side) keeps a copy of
  // each object in an annotation limited to 256 KiB, which all of them
  // together could exceed.
  const dashboards = dashboardFiles.map((file) => configMap(`grafana-dashboard-${dnsName(basename(file, '.json'))}`, 'grafana/dashboards', [file]));
  const dashboardDir = dashboardsPath(filesOf(posix.join(provisioningRoot, 'dashboards'), /\.ya?ml$/));
  const volumes: IVolume[] = [
    ...provisioning.map((map) => ({ name: map.metadata?.name ?? '', configMap: { name: map.metadata?.name ?? '' } })),
    { name: 'dashboards', projected: { sources: dashboards.map((map) => ({ configMap: { name: map.metadata?.name ?? '' } })) } },
    { name: 'data', emptyDir: { sizeLimit: '512Mi' } },
    tmpVolume,
  ];
  const mounts: IVolumeMount[] = [
    ...provisioningDirs.map((dir, i) => ({ name: provisioning[i]?.metadata?.name ?? '', mountPath: `/etc/grafana/provisioning/${dir}`, readOnly: true })),
    { name: 'dashboards', mountPath: dashboardDir, readOnly: true },
    { name: 'data', mountPath: '/var/lib/grafana' },
    tmpMount,
  ];
  const grafana = deployment('grafana', {
    recreate: true,
    annotations: { 'checksum/config': checksum(...provisioning, ...dashboards) },
    pod: {
      automountServiceAccountToken: false,
      securityContext: podSecurity(472),
      containers: [
        {
          name: 'grafana',
          image: 'grafana/grafana:11.6.16',
          imagePullPolicy: 'IfNotPresent',
          env: [
            { name: 'GF_SECURITY_ADMIN_USER', valueFrom: { secretKeyRef: { name: 'grafana-admin', key: 'username' } } },
            { name: 'GF_SECURITY_ADMIN_PASSWORD', valueFrom: { secretKeyRef: { name: 'grafana-admin', key: 'password' } } },
            // datasources.yml reads ${PROMETHEUS_URL} and ${ALERTMANAGER_URL}
            // (Grafana expands only $VAR / ${VAR} in provisioning files; test:
            // deploy/k8s/test/grafana.test.ts).
            { name: 'PROMETHEUS_URL', value: 'http://prometheus:9090' },
            { name: 'ALERTMANAGER_URL', value: 'http://alertmanager:9093' },
            // Read-only root filesystem: logs to stdout only; no phoning home.
            { name: 'GF_LOG_MODE', value: 'console' },
            { name: 'GF_PATHS_DATA', value: '/var/lib/grafana' },
            { name: 'GF_ANALYTICS_REPORTING_ENABLED', value: 'false' },
            { name: 'GF_ANALYTICS_CHECK_FOR_UPDATES', value: 'false' },
            { name: 'GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES', value: 'false' },
            { name: 'GF_PLUGINS_PREINSTALL_DISABLED', value: 'true' },
          ],
          ports: [{ name: 'http', containerPort: 3000 }],
          // Grafana serves HTTP only after its database migrations, which a first start on a
          // slow disk can stretch over minutes: the startup probe allows 5 (60 x 5 s), and
          // liveness (no initial delay) begins only once it has passed, as for the services.
          startupProbe: { httpGet: { path: '/api/health', port: 'http' }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 60 },
          readinessProbe: { httpGet: { path: '/api/health', port: 'http' }, periodSeconds: 10, timeoutSeconds: 3 },
          livenessProbe: { httpGet: { path: '/api/health', port: 'http' }, periodSeconds: 20, timeoutSeconds: 3, failureThreshold: 4 },
          resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '384Mi' } },
          securityContext: containerSecurity,
          volumeMounts: mounts,
        },
      ],
      volumes,
    },
  });
  // Its admin Secret (grafana-admin) comes from the overlay, like every Secret.
  return [...provisioning, ...dashboards, grafana, service('grafana', 3000)];
}
