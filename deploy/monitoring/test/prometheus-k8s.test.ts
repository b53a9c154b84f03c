// The Kubernetes Prometheus config. Debian's Prometheus 2.42 is built
// without Kubernetes service discovery, so promtool rejects
// kubernetes_sd_configs outright. The test swaps each kubernetes_sd_configs
// for a file_sd_configs fed with the __meta_kubernetes_* labels the real
// discovery would produce: the rest of the config is then checked by promtool
// and the relabelling is checked by a real Prometheus, which is what matters.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { prometheusK8sConfigPath, rulesDir } from '../src/paths.js';
import { startPrometheus, type RunningPrometheus } from '../src/prometheus-process.js';
import { missingTools, runTool } from '../src/tools.js';
import { needTools } from './support.js';

interface ScrapeConfig {
  job_name: string;
  kubernetes_sd_configs?: Array<{ role: string }>;
  file_sd_configs?: Array<{ files: string[] }>;
  tls_config?: { ca_file?: string };
  authorization?: { credentials_file?: string };
  [key: string]: unknown;
}
interface PrometheusConfig {
  rule_files: string[];
  scrape_configs: ScrapeConfig[];
  [key: string]: unknown;
}

// Port 1 on loopback: nothing listens, so scrapes fail fast and stay local.
// As Prometheus's pod discovery makes them: one target per declared container port (here the annotated
// one, else 8080), with its number.
const pod = (name: string, labels: Record<string, string>) => {
  const port = labels.__meta_kubernetes_pod_annotation_prometheus_io_port ?? '8080';
  return {
    targets: [`127.0.0.1:${port}`],
    labels: {
      __meta_kubernetes_namespace: 'shop',
      __meta_kubernetes_pod_name: name,
      __meta_kubernetes_pod_container_name: name.split('-')[0] ?? name,
      __meta_kubernetes_pod_container_port_number: port,
      __meta_kubernetes_pod_phase: 'Running',
      ...labels,
    },
  };
};
// ...and one target at the bare pod IP for each container that declares no port: an init container
// (the services' wait-for-database) or a sidecar (Alertmanager's alert-log). The pod's annotations are on
// these too, so without a rule for it each would be a second scrape of the annotated port.
const portless = (of: ReturnType<typeof pod>, container: string, init: boolean) => {
  const { __meta_kubernetes_pod_container_port_number: _port, ...labels } = of.labels;
  return {
    targets: ['127.0.0.1'],
    labels: { ...labels, __meta_kubernetes_pod_container_name: container, __meta_kubernetes_pod_container_init: String(init) },
  };
};

const orderPod = pod('order-7d9', {
  __meta_kubernetes_pod_label_app: 'order',
  __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
  __meta_kubernetes_pod_annotation_prometheus_io_port: '1',
});
const exporterPod = pod('postgres-exporter-1', {
  __meta_kubernetes_pod_label_app: 'postgres-exporter',
  __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
  __meta_kubernetes_pod_annotation_prometheus_io_port: '1',
});

const fixturePods = [
  orderPod,
  portless(orderPod, 'wait-for-database', true),
  exporterPod,
  portless(exporterPod, 'log-tail', false),
  pod('product-2a4', {
    __meta_kubernetes_pod_label_app_kubernetes_io_name: 'product-service',
    __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
    __meta_kubernetes_pod_annotation_prometheus_io_port: '1',
    __meta_kubernetes_pod_annotation_prometheus_io_path: '/custom-metrics',
  }),
  pod('user-pending', {
    __meta_kubernetes_pod_label_app: 'user',
    __meta_kubernetes_pod_phase: 'Pending',
    __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
    __meta_kubernetes_pod_annotation_prometheus_io_port: '1',
  }),
  pod('redis-1', { __meta_kubernetes_pod_label_app: 'redis' }),
  // ingress-nginx's controller: one target per container port; only the
  // metrics port is scraped, by the ingress-nginx job.
  ...['http', 'metrics'].map((port) => ({
    targets: [port === 'metrics' ? '127.0.0.1:10254' : '127.0.0.1:80'],
    labels: {
      __meta_kubernetes_namespace: 'ingress-nginx',
      __meta_kubernetes_pod_name: 'ingress-nginx-controller-5f8',
      __meta_kubernetes_pod_container_name: 'controller',
      __meta_kubernetes_pod_container_port_name: port,
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_label_app_kubernetes_io_name: 'ingress-nginx',
      __meta_kubernetes_pod_label_app_kubernetes_io_component: 'controller',
    },
  })),
];

const fixtureServices = [
  {
    targets: ['127.0.0.1:1'],
    labels: {
      __meta_kubernetes_service_label_app_kubernetes_io_name: 'kube-state-metrics',
      __meta_kubernetes_service_port_name: 'http-metrics',
    },
  },
  {
    targets: ['127.0.0.1:1'],
    labels: { __meta_kubernetes_service_label_app_kubernetes_io_name: 'kube-state-metrics', __meta_kubernetes_service_port_name: 'telemetry' },
  },
];

/** The k8s config with discovery and credentials pointed at local files. */
async function offlineConfig(dir: string): Promise<string> {
  const config = YAML.parse(await readFile(prometheusK8sConfigPath, 'utf8')) as PrometheusConfig;
  const fixtures: Record<string, unknown[]> = { pod: fixturePods, service: fixtureServices, node: [] };
  for (const [role, content] of Object.entries(fixtures)) {
    await writeFile(path.join(dir, `${role}.json`), JSON.stringify(content));
  }
  await writeFile(path.join(dir, 'token'), 'not-a-token');
  await writeFile(path.join(dir, 'ca.crt'), '');
  for (const job of config.scrape_configs) {
    const sd = job.kubernetes_sd_configs;
    if (sd) {
      job.file_sd_configs = sd.map((s) => ({ files: [path.join(dir, `${s.role}.json`)] }));
      delete job.kubernetes_sd_configs;
    }
    if (job.authorization?.credentials_file) job.authorization.credentials_file = path.join(dir, 'token');
    if (job.tls_config?.ca_file) job.tls_config.ca_file = path.join(dir, 'ca.crt');
  }
  config.rule_files = config.rule_files.map((f) => path.resolve(path.dirname(prometheusK8sConfigPath), f));
  // Rules would alert on the fixture targets; Alertmanager is not running here.
  delete config.alerting;
  return YAML.stringify(config);
}

describe('kubernetes prometheus config', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'prom-k8s-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('uses pod, service and node discovery and the shared rule files', async () => {
    const config = YAML.parse(await readFile(prometheusK8sConfigPath, 'utf8')) as PrometheusConfig;
    const roles = config.scrape_configs.flatMap((j) => (j.kubernetes_sd_configs ?? []).map((s) => s.role));
    assert.deepEqual([...new Set(roles)].sort(), ['node', 'pod', 'service']);
    const rules = config.rule_files.map((f) => path.resolve(path.dirname(prometheusK8sConfigPath), f));
    assert.deepEqual(rules, [path.join(rulesDir, '*.yml')]);
  });

  test('promtool check config accepts it (discovery swapped for file_sd)', async (t) => {
    if (!needTools(t, ['promtool'])) return;
    const file = path.join(dir, 'prometheus-k8s-offline.yml');
    await writeFile(file, await offlineConfig(dir));
    const result = runTool('promtool', ['check', 'config', file]);
    assert.equal(result.status, 0, result.output);
  });

  describe('relabelling, in a real Prometheus', () => {
    let prometheus: RunningPrometheus | undefined;
    interface Target {
      labels: Record<string, string>;
      discoveredLabels: Record<string, string>;
      scrapeUrl?: string;
      scrapePool: string;
    }
    let active: Target[] = [];
    let dropped: Target[] = [];

    before(async () => {
      if (missingTools(['prometheus']).length > 0) return;
      prometheus = await startPrometheus({ config: await offlineConfig(dir) });
      // file_sd is read at start; poll until the pod targets are in.
      for (let i = 0; i < 50; i++) {
        const body = (await (await fetch(`${prometheus.url}/api/v1/targets?state=any`)).json()) as {
          data: { activeTargets: Target[]; droppedTargets: Target[] };
        };
        active = body.data.activeTargets;
        dropped = body.data.droppedTargets;
        if (active.filter((a) => a.scrapePool === 'kubernetes-pods').length >= 3 && active.some((a) => a.scrapePool === 'ingress-nginx')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    after(async () => prometheus?.stop());

    test('annotated running pods become targets with service, port and path', (t) => {
      if (!needTools(t, ['prometheus'])) return;
      const pods = active.filter((a) => a.scrapePool === 'kubernetes-pods');
      // One target per pod: the init container's and the sidecar's (no port) are not a second scrape.
      assert.deepEqual(pods.map((p) => p.labels.pod).sort(), ['order-7d9', 'postgres-exporter-1', 'product-2a4'], JSON.stringify(pods.map((p) => p.labels)));
      const byService = new Map(pods.map((p) => [p.labels.service, p]));
      assert.deepEqual([...byService.keys()].sort(), ['order', 'postgres-exporter', 'product']);
      assert.equal(byService.get('order')?.scrapeUrl, 'http://127.0.0.1:1/metrics');
      assert.equal(byService.get('product')?.scrapeUrl, 'http://127.0.0.1:1/custom-metrics');
      assert.equal(byService.get('order')?.labels.namespace, 'shop');
      assert.equal(byService.get('order')?.labels.pod, 'order-7d9');
    });

    test('unannotated and pending pods are dropped', (t) => {
      if (!needTools(t, ['prometheus'])) return;
      const names = dropped
        .filter((d) => d.discoveredLabels.job === 'kubernetes-pods')
        .map((d) => d.discoveredLabels.__meta_kubernetes_pod_name)
        .filter(Boolean)
        .sort();
      assert.deepEqual(names, ['ingress-nginx-controller-5f8', 'ingress-nginx-controller-5f8', 'order-7d9', 'postgres-exporter-1', 'redis-1', 'user-pending']);
    });

    test('the ingress-nginx controller is scraped on its metrics port only, as service ingress-nginx (edge SLI)', (t) => {
      if (!needTools(t, ['prometheus'])) return;
      const ingress = active.filter((a) => a.scrapePool === 'ingress-nginx');
      assert.equal(ingress.length, 1, JSON.stringify(ingress.map((i) => i.scrapeUrl)));
      assert.equal(ingress[0]?.scrapeUrl, 'http://127.0.0.1:10254/metrics');
      assert.equal(ingress[0]?.labels.service, 'ingress-nginx');
      assert.equal(ingress[0]?.labels.pod, 'ingress-nginx-controller-5f8');
      // honor_labels: the controller's own `namespace` and `service` (the
      // Ingress's namespace, the backend Service) stay on its series.
      const job = (YAML.parse(readFileSync(prometheusK8sConfigPath, 'utf8')) as PrometheusConfig).scrape_configs.find((j) => j.job_name === 'ingress-nginx');
      assert.equal(job?.honor_labels, true);
    });

    test('kube-state-metrics is found by its service label and port name', (t) => {
      if (!needTools(t, ['prometheus'])) return;
      const ksm = active.filter((a) => a.scrapePool === 'kube-state-metrics');
      assert.equal(ksm.length, 1);
    });
  });
});
