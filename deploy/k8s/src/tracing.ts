// tracing.yaml: the OpenTelemetry Collector (its pipeline a verbatim copy of
// deploy/monitoring/otel-collector/otel-collector.yaml) and Jaeger all-in-one.
// The services export OTLP/HTTP to the collector (otel-collector:4318), the
// collector forwards OTLP/gRPC to Jaeger (jaeger:4317), Grafana reads Jaeger's
// query API (jaeger:16686). NetworkPolicies allow exactly these flows
// (networkpolicies.yaml); deploy/k8s/test/tracing.test.ts checks them.
import type { IService } from 'kubernetes-models/v1';
import { checksum, configMap, containerSecurity, deployment, labels, namespace, podSecurity, tmpMount, tmpVolume, type Manifest } from './monitoring.js';

export const COLLECTOR_IMAGE = 'otel/opentelemetry-collector:0.141.0';
export const JAEGER_IMAGE = 'jaegertracing/jaeger:2.12.0';
/**
 * How many traces Jaeger's memory store keeps (a ring: the oldest go first). Its all-in-one default, 100,000,
 * does not fit the pod: the store keeps each trace as OTLP pdata with a copy of every service's resource, about
 * 15-25 KB for an order's 8 spans from 4 services (an estimate from the spans' attributes, not a measurement:
 * Jaeger cannot run here), 1.5-2.5 GB at 100,000, so the pod would be OOM-killed under load and lose them all.
 * 20,000 is 0.3-0.5 GB under the 800 MiB GOMEMLIMIT and the 1 Gi limit.
 */
export const JAEGER_MAX_TRACES = 20_000;
/**
 * The image runs its embedded all-in-one config when no --config is given; --set overrides one key of it
 * (otelcol's flags, merged after the config; Jaeger 2.12 cmd/jaeger/internal/command.go and all-in-one.yaml,
 * whose memory backend is named some_storage). Re-read both on an upgrade of the image.
 */
export const JAEGER_ARGS = [`--set=extensions.jaeger_storage.backends.some_storage.memory.max_traces=${JAEGER_MAX_TRACES}`];

function servicePorts(name: string, ports: { name: string; port: number }[]): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: labels(name) },
    spec: { selector: { 'app.kubernetes.io/name': name }, ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: 'TCP' })) },
  };
}

export function tracingManifests(): Manifest[] {
  const config = configMap('otel-collector-config', 'otel-collector', ['otel-collector.yaml'], () => 'config.yaml');
  const collector = deployment('otel-collector', {
    // Its own metrics (dropped, refused and queued spans), on the port its config opens to the pod network.
    annotations: { 'checksum/config': checksum(config), 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8888', 'prometheus.io/path': '/metrics' },
    pod: {
      automountServiceAccountToken: false,
      // The image's own non-root user.
      securityContext: podSecurity(10001),
      containers: [
        {
          name: 'otel-collector',
          image: COLLECTOR_IMAGE,
          imagePullPolicy: 'IfNotPresent',
          args: ['--config=/etc/otelcol/config.yaml'],
          // GOMEMLIMIT below the limit: the Go runtime collects before the kernel kills.
          env: [{ name: 'GOMEMLIMIT', value: '400MiB' }],
          ports: [
            { name: 'otlp-http', containerPort: 4318 },
            { name: 'otlp-grpc', containerPort: 4317 },
            { name: 'health', containerPort: 13133 },
            { name: 'metrics', containerPort: 8888 },
          ],
          readinessProbe: { httpGet: { path: '/', port: 'health' }, periodSeconds: 10 },
          livenessProbe: { httpGet: { path: '/', port: 'health' }, periodSeconds: 15, failureThreshold: 4 },
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
          securityContext: containerSecurity,
          volumeMounts: [{ name: 'config', mountPath: '/etc/otelcol', readOnly: true }, tmpMount],
        },
      ],
      volumes: [{ name: 'config', configMap: { name: 'otel-collector-config' } }, tmpVolume],
    },
  });
  const jaeger = deployment('jaeger', {
    // In-memory storage: one replica, and a new pod starts empty (docs/tracing.md: a Badger or
    // Elasticsearch backend for traces that must outlive the pod).
    recreate: true,
    annotations: {},
    pod: {
      automountServiceAccountToken: false,
      securityContext: podSecurity(10001),
      containers: [
        {
          name: 'jaeger',
          image: JAEGER_IMAGE,
          imagePullPolicy: 'IfNotPresent',
          args: JAEGER_ARGS,
          env: [{ name: 'GOMEMLIMIT', value: '800MiB' }],
          ports: [
            { name: 'http', containerPort: 16686 },
            { name: 'otlp-grpc', containerPort: 4317 },
          ],
          readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 10 },
          livenessProbe: { tcpSocket: { port: 'otlp-grpc' }, periodSeconds: 15, failureThreshold: 4 },
          resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '1Gi' } },
          securityContext: containerSecurity,
          volumeMounts: [tmpMount],
        },
      ],
      volumes: [tmpVolume],
    },
  });
  return [
    config,
    collector,
    servicePorts('otel-collector', [
      { name: 'otlp-http', port: 4318 },
      { name: 'otlp-grpc', port: 4317 },
    ]),
    jaeger,
    servicePorts('jaeger', [
      { name: 'http', port: 16686 },
      { name: 'otlp-grpc', port: 4317 },
    ]),
  ];
}
