// What the API server refuses although the OpenAPI schema allows it. The schema (validateObject in
// manifests.ts, strict-fields.ts) knows types and field names only: a port name of 16 characters, a Service
// named "1web", a selector that does not select its own template or a request above its limit all pass it, and
// `kubectl apply` then fails on the cluster, object by object, halfway through the apply.
//
// Each rule below is one of the API server's own, from kubernetes/kubernetes:
// - staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go: IsDNS1123Label, IsDNS1123Subdomain,
//   IsDNS1035Label, IsValidPortName (IANA_SVC_NAME), IsQualifiedName (label keys), IsValidLabelValue,
//   IsConfigMapKey;
// - pkg/apis/core/validation/validation.go: ValidateServiceName (a DNS-1035 label), validateContainerPorts,
//   validateContainers (unique DNS-1123 label names, init containers included), validateVolumes (unique names),
//   validateVolumeMounts ("not found" for a mount naming no volume; a mountPath used twice "must be unique"),
//   ValidateResourceRequirements (a request "must be less than or equal to" its limit), validateProbe callers
//   (a liveness or startup probe's successThreshold "must be 1"), ValidateService (several ports: each named,
//   names unique; a named targetPort is an IANA_SVC_NAME), ValidateConfigMap (keys; data "must have at most
//   1048576 bytes");
// - pkg/apis/apps/validation/validation.go: ValidateDeploymentSpec / ValidateStatefulSetSpec ("selector does
//   not match template labels"), ValidateRollingUpdateDeployment (maxUnavailable "may not be 0 when maxSurge is
//   0"), ValidateDeploymentStrategy (no rollingUpdate with type Recreate);
// - pkg/apis/autoscaling/validation/validation.go: minReplicas "must be less than or equal to maxReplicas";
// - pkg/apis/networking/validation/validation.go, validateHTTPIngressRuleValue: an Exact or Prefix path is
//   absolute and holds no "//", "/./", "/../", "%2f", and does not end in "/.." or "/.".
// And, from the same files: validateEnvVarValueFrom (an env var with `valueFrom` "may not be specified when
// `value` is not empty", and names one source: "may not have more than one field specified at a time"),
// validateHandler (a probe names exactly one handler: "must specify a handler type" / "may not specify more than
// 1 handler type"), ValidateService (a port and protocol pair used twice: "Duplicate value"), ValidateSecret (keys
// as ConfigMap keys; data "must have at most 1048576 bytes"), policy/validation ValidatePodDisruptionBudgetSpec
// ("minAvailable and maxUnavailable cannot be both set"); and apimachinery pkg/api/validation/objectmeta.go
// ValidateAnnotations (all annotations together at most TotalAnnotationSizeLimitB, 256 KiB), which `kubectl apply`
// (client-side, what docs/deploy.md runs) meets with the object's whole JSON in its
// kubectl.kubernetes.io/last-applied-configuration annotation (k8s.io/kubectl pkg/util/apply.go
// GetModifiedConfiguration): an object near 256 KiB applies with `kubectl create` and fails with `kubectl apply`.
// Also validateEnv (IsEnvVarName: `[-._a-zA-Z][-._a-zA-Z0-9]*` on clusters without RelaxedEnvironmentVariableValidation),
// networking's ValidateNetworkPolicyPort (a named port is an IANA_SVC_NAME) and validateIngressRules /
// validateIngressTLS (hosts are DNS-1123 subdomains, a leading "*." allowed, never an IP address).
import { podTemplate, type K8sObject } from './manifests.js';

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const qualifiedNamePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const configMapKey = /^[-._a-zA-Z0-9]+$/;

const isDns1123Label = (s: string): boolean => s.length <= 63 && dns1123Label.test(s);
const isDns1123Subdomain = (s: string): boolean => s.length <= 253 && dns1123Subdomain.test(s);
export const isDns1035Label = (s: string): boolean => s.length <= 63 && dns1035Label.test(s);
/** IANA_SVC_NAME: at most 15 characters of [-a-z0-9], at least one letter, no "--", no hyphen at either end. */
export const isValidPortName = (s: string): boolean =>
  s.length >= 1 && s.length <= 15 && /^[-a-z0-9]+$/.test(s) && /[a-z]/.test(s) && !s.includes('--') && !s.startsWith('-') && !s.endsWith('-');
/** A label or annotation key: an optional DNS subdomain prefix and "/", then a name of at most 63 characters. */
export function isQualifiedName(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts.at(-1) ?? '';
  if (parts.length === 2 && !isDns1123Subdomain(parts[0] ?? '')) return false;
  return name.length <= 63 && qualifiedNamePart.test(name);
}
export const isValidLabelValue = (v: string): boolean => v === '' || (v.length <= 63 && qualifiedNamePart.test(v));
export const isConfigMapKey = (k: string): boolean => k.length <= 253 && configMapKey.test(k) && k !== '.' && k !== '..' && !k.startsWith('..');

/** A resource quantity in base units (cores, bytes), for comparing a request with its limit. */
export function quantity(text: string | number): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(String(text));
  if (!m) throw new Error(`not a quantity: ${text}`);
  const scale: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  return Number(m[1]) * (scale[m[2] ?? ''] ?? Number.NaN);
}

/** An Exact or Prefix path the API server accepts (networking validation). */
export function isValidIngressPath(path: string): boolean {
  if (!path.startsWith('/')) return false;
  for (const bad of ['//', '/./', '/../', '%2f', '%2F']) if (path.includes(bad)) return false;
  return !path.endsWith('/..') && !path.endsWith('/.');
}

interface ContainerLike {
  name: string;
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string }[];
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  livenessProbe?: { successThreshold?: number };
  readinessProbe?: Record<string, unknown>;
  startupProbe?: { successThreshold?: number };
  env?: { name: string; value?: string; valueFrom?: Record<string, unknown> }[];
}

const lastApplied = 'kubectl.kubernetes.io/last-applied-configuration';
const envVarName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Every rule above that an object breaks, as "<Kind>/<name>: <field>: <why>". */
export function apiServerProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata.name}`;
    const say = (field: string, why: string): void => void problems.push(`${id}: ${field}: ${why}`);
    const spec = (o['spec'] ?? {}) as Record<string, unknown>;
    if (o.kind === 'Service' ? !isDns1035Label(o.metadata.name) : !isDns1123Subdomain(o.metadata.name)) {
      say('metadata.name', o.kind === 'Service' ? 'not a DNS-1035 label (a letter first, at most 63 characters)' : 'not a DNS-1123 subdomain');
    }
    if (o.metadata.namespace !== undefined && !isDns1123Label(o.metadata.namespace)) say('metadata.namespace', 'not a DNS-1123 label');
    const labelProblems = (where: string, labels: Record<string, string> | undefined): void => {
      for (const [k, v] of Object.entries(labels ?? {})) {
        if (!isQualifiedName(k)) say(`${where}.labels`, `key ${JSON.stringify(k)} is not a qualified name`);
        if (!isValidLabelValue(String(v))) say(`${where}.labels.${k}`, `value ${JSON.stringify(v)} is not a valid label value`);
      }
    };
    labelProblems('metadata', o.metadata.labels);
    for (const k of Object.keys(o.metadata.annotations ?? {})) if (!isQualifiedName(k)) say('metadata.annotations', `key ${JSON.stringify(k)} is not a qualified name`);

    const annotationBytes = Object.entries(o.metadata.annotations ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)), 0);
    const applied = annotationBytes + Buffer.byteLength(lastApplied) + Buffer.byteLength(JSON.stringify(o));
    if (applied > 262144) say('metadata.annotations', `${applied} bytes with kubectl apply's ${lastApplied}, over the 262144 annotations may hold`);

    if (o.kind === 'Secret') {
      const data = { ...((o['data'] ?? {}) as Record<string, string>), ...((o['stringData'] ?? {}) as Record<string, string>) };
      for (const k of Object.keys(data)) if (!isConfigMapKey(k)) say('data', `key ${JSON.stringify(k)} is not a valid Secret key`);
      const size = Object.values(data).reduce((n, v) => n + Buffer.byteLength(v), 0);
      if (size > 1048576) say('data', `${size} bytes, over the 1 MiB a Secret may hold`);
    }

    if (o.kind === 'PodDisruptionBudget' && spec['minAvailable'] !== undefined && spec['maxUnavailable'] !== undefined) {
      say('spec', 'minAvailable and maxUnavailable cannot be both set');
    }

    if (o.kind === 'ConfigMap') {
      const data = { ...((o['data'] ?? {}) as Record<string, string>), ...((o['binaryData'] ?? {}) as Record<string, string>) };
      for (const k of Object.keys(data)) if (!isConfigMapKey(k)) say('data', `key ${JSON.stringify(k)} is not a valid ConfigMap key`);
      const size = Object.entries(data).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
      if (size > 1048576) say('data', `${size} bytes, over the 1 MiB a ConfigMap may hold`);
    }

    if (o.kind === 'Service') {
      const ports = (spec['ports'] ?? []) as { name?: string; targetPort?: number | string }[];
      const names = ports.map((p) => p.name);
      if (ports.length > 1 && names.some((n) => !n)) say('spec.ports', 'several ports, not all named');
      if (new Set(names).size !== names.length) say('spec.ports', 'a port name used twice');
      const pairs = ports.map((p) => `${(p as { port?: number }).port}/${(p as { protocol?: string }).protocol ?? 'TCP'}`);
      pairs.forEach((pair, i) => { if (pairs.indexOf(pair) !== i) say(`spec.ports[${i}]`, `Duplicate value: ${pair}`); });
      ports.forEach((p, i) => {
        if (p.name && !isDns1123Label(p.name)) say(`spec.ports[${i}].name`, 'not a DNS-1123 label');
        if (typeof p.targetPort === 'string' && !isValidPortName(p.targetPort)) say(`spec.ports[${i}].targetPort`, `${JSON.stringify(p.targetPort)} is not an IANA_SVC_NAME`);
      });
    }

    if (o.kind === 'HorizontalPodAutoscaler') {
      const { minReplicas = 1, maxReplicas } = spec as { minReplicas?: number; maxReplicas: number };
      if (minReplicas > maxReplicas) say('spec.minReplicas', `${minReplicas} > maxReplicas ${maxReplicas}`);
    }

    if (o.kind === 'Deployment') {
      const strategy = spec['strategy'] as { type?: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } } | undefined;
      if (strategy?.type === 'Recreate' && strategy.rollingUpdate) say('spec.strategy.rollingUpdate', 'may not be specified when strategy type is Recreate');
      const zero = (v: number | string | undefined): boolean => v === 0 || v === '0%';
      if (strategy?.rollingUpdate && zero(strategy.rollingUpdate.maxSurge) && zero(strategy.rollingUpdate.maxUnavailable)) say('spec.strategy.rollingUpdate.maxUnavailable', 'may not be 0 when maxSurge is 0');
    }

    if (o.kind === 'NetworkPolicy') {
      // ValidateNetworkPolicyPort: a named port is an IANA_SVC_NAME (the schema checks the protocol's enum).
      for (const dir of ['ingress', 'egress'] as const) {
        ((spec[dir] ?? []) as { ports?: { port?: number | string }[] }[]).forEach((rule, i) => (rule.ports ?? []).forEach((p, j) => {
          if (typeof p.port === 'string' && !isValidPortName(p.port)) say(`spec.${dir}[${i}].ports[${j}].port`, `${JSON.stringify(p.port)} is not an IANA_SVC_NAME`);
        }));
      }
    }

    if (o.kind === 'Ingress') {
      const rules = (spec['rules'] ?? []) as { host?: string; http?: { paths: { path?: string; pathType: string }[] } }[];
      // validateIngressRules / validateIngressTLS: a host is a DNS-1123 subdomain (a leading "*." allowed), not an IP.
      const hostOk = (h: string): boolean => isDns1123Subdomain(h.startsWith('*.') ? h.slice(2) : h) && !/^[0-9.]+$/.test(h);
      rules.forEach((r, i) => { if (r.host !== undefined && !hostOk(r.host)) say(`spec.rules[${i}].host`, `${JSON.stringify(r.host)} is not a DNS-1123 subdomain`); });
      ((spec['tls'] ?? []) as { hosts?: string[] }[]).forEach((t, i) => (t.hosts ?? []).forEach((h, j) => {
        if (!hostOk(h)) say(`spec.tls[${i}].hosts[${j}]`, `${JSON.stringify(h)} is not a DNS-1123 subdomain`);
      }));
      rules.forEach((r, i) => r.http?.paths.forEach((p, j) => {
        if (p.pathType !== 'ImplementationSpecific' && !isValidIngressPath(p.path ?? '')) say(`spec.rules[${i}].http.paths[${j}].path`, `${JSON.stringify(p.path)} is not a valid ${p.pathType} path`);
      }));
    }

    const template = podTemplate(o);
    if (!template) continue;
    labelProblems('spec.template.metadata', template.metadata?.labels);
    if (o.kind !== 'Job') {
      const selector = (spec['selector'] as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ?? {};
      const labels = template.metadata?.labels ?? {};
      if (Object.keys(selector).length === 0) say('spec.selector', 'empty');
      if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) say('spec.selector', 'selector does not match template labels');
    }
    const volumes = (template.spec.volumes ?? []).map((v) => v.name);
    const claims = ((spec['volumeClaimTemplates'] ?? []) as { metadata: { name: string } }[]).map((t) => t.metadata.name);
    if (new Set(volumes).size !== volumes.length) say('spec.template.spec.volumes', 'a volume name used twice');
    for (const v of volumes) if (!isDns1123Label(v)) say('spec.template.spec.volumes', `${JSON.stringify(v)} is not a DNS-1123 label`);
    const containers = [
      ...(template.spec.initContainers ?? []).map((c) => ['initContainers', c] as const),
      ...template.spec.containers.map((c) => ['containers', c] as const),
    ];
    const containerNames = containers.map(([, c]) => c.name);
    if (new Set(containerNames).size !== containerNames.length) say('spec.template.spec', 'a container name used twice (init containers included)');
    containers.forEach(([list, container], index) => {
      const c = container as unknown as ContainerLike;
      const at = `spec.template.spec.${list}[${list === 'containers' ? index - (template.spec.initContainers ?? []).length : index}]`;
      if (!isDns1123Label(c.name)) say(`${at}.name`, 'not a DNS-1123 label');
      const portNames = (c.ports ?? []).map((p) => p.name).filter((n): n is string => n !== undefined);
      if (new Set(portNames).size !== portNames.length) say(`${at}.ports`, 'a port name used twice');
      (c.ports ?? []).forEach((p, i) => {
        if (p.name !== undefined && !isValidPortName(p.name)) say(`${at}.ports[${i}].name`, `${JSON.stringify(p.name)} is not an IANA_SVC_NAME (at most 15 of [-a-z0-9], a letter, no "--")`);
      });
      const mountPaths = new Set<string>();
      (c.volumeMounts ?? []).forEach((m, i) => {
        if (!volumes.includes(m.name) && !claims.includes(m.name)) say(`${at}.volumeMounts[${i}].name`, `${JSON.stringify(m.name)} not found`);
        if (mountPaths.has(m.mountPath)) say(`${at}.volumeMounts[${i}].mountPath`, `${m.mountPath} must be unique`);
        mountPaths.add(m.mountPath);
      });
      for (const [resource, request] of Object.entries(c.resources?.requests ?? {})) {
        const limit = c.resources?.limits?.[resource];
        if (limit !== undefined && quantity(request) > quantity(limit)) say(`${at}.resources.requests.${resource}`, `${request} must be less than or equal to the limit ${limit}`);
      }
      for (const probe of ['livenessProbe', 'startupProbe'] as const) {
        const threshold = c[probe]?.successThreshold;
        if (threshold !== undefined && threshold !== 1) say(`${at}.${probe}.successThreshold`, 'must be 1');
      }
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
        const p = c[probe] as Record<string, unknown> | undefined;
        if (!p) continue;
        const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((h) => p[h] !== undefined);
        if (handlers.length !== 1) say(`${at}.${probe}`, handlers.length === 0 ? 'must specify a handler type' : `may not specify more than 1 handler type (${handlers.join(', ')})`);
      }
      (c.env ?? []).forEach((e, i) => {
        // validateEnv: IsEnvVarName (before RelaxedEnvironmentVariableValidation, GA in 1.34: what older clusters check).
        if (!envVarName.test(e.name)) say(`${at}.env[${i}].name`, `${JSON.stringify(e.name)} is not a valid environment variable name (${envVarName.source})`);
        if (e.valueFrom === undefined) return;
        if (e.value !== undefined && e.value !== '') say(`${at}.env[${i}].valueFrom`, 'may not be specified when `value` is not empty');
        const sources = Object.keys(e.valueFrom);
        if (sources.length !== 1) say(`${at}.env[${i}].valueFrom`, sources.length === 0 ? 'must specify one of: fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef' : 'may not have more than one field specified at a time');
      });
    });
  }
  return problems;
}
