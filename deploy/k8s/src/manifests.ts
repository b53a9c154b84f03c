// Loading the committed manifests and checking them against the official
// Kubernetes API schemas (kubernetes-models), shared by the tests, the
// ConfigMap generator and the container test.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import * as coreV1 from 'kubernetes-models/v1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as batchV1 from 'kubernetes-models/batch/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as rbacV1 from 'kubernetes-models/rbac.authorization.k8s.io/v1';

/** deploy/k8s, whether running from src (tsx) or from dist/src. */
export const k8sDir = resolve(dirname(fileURLToPath(import.meta.url)), fileURLToPath(import.meta.url).includes('/dist/') ? '../..' : '..');
export const repoRoot = resolve(k8sDir, '../..');
/** The base kustomization: every manifest but the Secrets. */
export const baseDir = join(k8sDir, 'base');

/** A parsed manifest object, as plain JSON. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface LoadedObject {
  file: string;
  object: K8sObject;
}

/** The manifest files the base kustomization (deploy/k8s/base/kustomization.yaml) lists, in its order. */
export function kustomizationResources(): string[] {
  const kustomization = parseYaml(readFileSync(join(baseDir, 'kustomization.yaml'), 'utf8'))[0] as { resources?: string[] };
  return kustomization.resources ?? [];
}

export function parseYaml(text: string): unknown[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw doc.errors[0];
    return doc.toJS() as unknown;
  }).filter((doc) => doc !== null && doc !== undefined);
}

/** The overlay a fresh minikube (and the container test) uses. */
export const devOverlay = 'deploy/k8s/overlays/dev';
export const productionOverlay = 'deploy/k8s/overlays/production';

/**
 * Every object `kubectl apply -k deploy/k8s` (the dev overlay) creates: the
 * base's manifests plus the development Secrets, rendered as kustomize does.
 */
export function loadManifests(): LoadedObject[] {
  return renderKustomizationFiles('deploy/k8s');
}

interface KustomizationFile {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  patches?: { target?: { kind?: string; name?: string }; patch?: string; path?: string }[];
  replacements?: Replacement[];
}
interface Replacement {
  source: { kind: string; name: string; fieldPath: string };
  targets: { select: { kind: string; name: string }; fieldPaths: string[]; options?: { create?: boolean } }[];
}
type JsonPatchOp = { op: 'add' | 'replace' | 'remove' | 'test'; path: string; value?: unknown };

/** Kinds that live outside any namespace (kustomize's namespace transformer skips them). */
const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass', 'CustomResourceDefinition', 'PriorityClass', 'IngressClass']);

function pointer(path: string): string[] {
  if (!path.startsWith('/')) throw new Error(`JSON pointer ${path} must start with /`);
  return path.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6902 (the subset kustomize users write: add, replace, remove, test). */
export function applyJsonPatch(target: unknown, ops: JsonPatchOp[]): void {
  for (const op of ops) {
    const parts = pointer(op.path);
    const last = parts.pop() as string;
    let parent = target as Record<string, unknown> | unknown[];
    for (const part of parts) {
      const next = Array.isArray(parent) ? parent[Number(part)] : parent[part];
      if (next === undefined || next === null || typeof next !== 'object') throw new Error(`${op.op} ${op.path}: ${part} does not exist`);
      parent = next as Record<string, unknown> | unknown[];
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length || (op.op !== 'add' && index >= parent.length)) throw new Error(`${op.op} ${op.path}: no index ${last}`);
      if (op.op === 'add') parent.splice(index, 0, structuredClone(op.value));
      else if (op.op === 'replace') parent[index] = structuredClone(op.value);
      else if (op.op === 'remove') parent.splice(index, 1);
      else if (JSON.stringify(parent[index]) !== JSON.stringify(op.value)) throw new Error(`test ${op.path} failed`);
    } else {
      if (op.op !== 'add' && !(last in parent)) throw new Error(`${op.op} ${op.path}: ${last} does not exist`);
      if (op.op === 'add' || op.op === 'replace') parent[last] = structuredClone(op.value);
      else if (op.op === 'remove') delete parent[last];
      else if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) throw new Error(`test ${op.path} failed`);
    }
  }
}

/**
 * What `kubectl kustomize <dir>` renders, for the features our
 * kustomizations use (resources: files and directories; namespace; labels
 * without selectors; images; JSON 6902 patches; replacements by kind and
 * name), in kustomize's order: patches, namespace, labels, images,
 * replacements; objects annotated `config.kubernetes.io/local-config: "true"`
 * serve as replacement sources but are not rendered. Anything else throws, so a new feature
 * cannot be silently ignored. The tests compare this with the real kustomize
 * whenever kubectl is installed. `file` is relative to deploy/k8s.
 */
function renderKustomizationFiles(dir: string): LoadedObject[] {
  const root = resolve(repoRoot, dir);
  const k = parseYaml(readFileSync(join(root, 'kustomization.yaml'), 'utf8'))[0] as KustomizationFile;
  for (const key of Object.keys(k)) {
    if (!['apiVersion', 'kind', 'namespace', 'resources', 'labels', 'images', 'patches', 'replacements'].includes(key)) throw new Error(`${dir}/kustomization.yaml: ${key} is not reproduced by renderKustomization`);
  }
  const out: LoadedObject[] = [];
  for (const resource of k.resources ?? []) {
    const path = resolve(root, resource);
    if (statSync(path).isDirectory()) {
      out.push(...renderKustomizationFiles(path));
      continue;
    }
    // kustomize's load restrictor: files must be inside the kustomization's folder.
    if (!path.startsWith(`${root}/`)) throw new Error(`${dir}: ${resource} is outside the kustomization root`);
    for (const object of parseYaml(readFileSync(path, 'utf8')) as K8sObject[]) {
      originalNamespace.set(object, object.metadata.namespace);
      out.push({ file: relative(k8sDir, path), object });
    }
  }
  for (const patch of k.patches ?? []) {
    const text = patch.patch ?? readFileSync(resolve(root, patch.path ?? ''), 'utf8');
    const ops = parseYaml(text)[0];
    if (!Array.isArray(ops)) throw new Error(`${dir}: only JSON 6902 patches are reproduced`);
    const targets = out.filter(({ object }) => (!patch.target?.kind || object.kind === patch.target.kind) && (!patch.target?.name || object.metadata.name === patch.target.name));
    if (targets.length === 0) throw new Error(`${dir}: patch target ${JSON.stringify(patch.target)} matches nothing`);
    for (const { object } of targets) applyJsonPatch(object, ops as JsonPatchOp[]);
  }
  for (const { object } of out) {
    if (k.namespace && !clusterScoped.has(object.kind)) object.metadata.namespace = k.namespace;
    // The namespace transformer's field specs (api/internal/konfig/builtinpluginconsts/namespace.go)
    // include metadata/name of a v1 Namespace: the Namespace object is renamed too.
    if (k.namespace && object.kind === 'Namespace' && object.apiVersion === 'v1') object.metadata.name = k.namespace;
    for (const label of k.labels ?? []) {
      if (label.includeSelectors || label.includeTemplates) throw new Error(`${dir}: labels on selectors/templates are not reproduced`);
      object.metadata.labels = { ...object.metadata.labels, ...label.pairs };
    }
    const template = podTemplate(object);
    for (const c of [...(template?.spec.initContainers ?? []), ...(template?.spec.containers ?? [])]) {
      const [, name = c.image, tag] = /^(.*?)(?::([\w][\w.-]*))?(@sha256:[0-9a-f]+)?$/.exec(c.image) ?? [];
      const image = (k.images ?? []).find((i) => i.name === name);
      if (!image) continue;
      c.image = image.digest ? `${image.newName ?? name}@${image.digest}` : `${image.newName ?? name}${image.newTag ?? tag ? `:${image.newTag ?? tag}` : ''}`;
    }
  }
  if (k.namespace) setBindingSubjects(out.map((o) => o.object), k.namespace);
  for (const r of k.replacements ?? []) replace(out.map((o) => o.object), r, dir);
  return out.filter(({ object }) => object.metadata.annotations?.['config.kubernetes.io/local-config'] !== 'true');
}

/**
 * One entry of `replacements:` (kustomize api/filters/replacement): the source field's value
 * copied into each target field. A field path is dot-separated, a number indexing a list; a
 * missing target field is an error unless `options.create`. Selection by kind and name only.
 */
function replace(objects: K8sObject[], r: Replacement, dir: string): void {
  const only = (kind: string, name: string): K8sObject => {
    const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
    if (found.length !== 1) throw new Error(`${dir}: replacement selects ${found.length} ${kind}/${name}`);
    return found[0] as K8sObject;
  };
  const walk = (object: K8sObject, path: string, create: boolean): { parent: Record<string, unknown>; key: string } => {
    const parts = path.split('.');
    const key = parts.pop() as string;
    let node: Record<string, unknown> = object;
    for (const part of parts) {
      if (node[part] === undefined && create) node[part] = {};
      const next = node[part];
      if (next === null || typeof next !== 'object') throw new Error(`${dir}: no field ${path} in ${object.kind}/${object.metadata.name}`);
      node = next as Record<string, unknown>;
    }
    return { parent: node, key };
  };
  const { parent, key } = walk(only(r.source.kind, r.source.name), r.source.fieldPath, false);
  const value = parent[key];
  if (value === undefined) throw new Error(`${dir}: replacement source ${r.source.kind}/${r.source.name} has no ${r.source.fieldPath}`);
  for (const target of r.targets) {
    const object = only(target.select.kind, target.select.name);
    for (const path of target.fieldPaths) {
      const at = walk(object, path, target.options?.create ?? false);
      if (at.parent[at.key] === undefined && !target.options?.create) throw new Error(`${dir}: unable to find field "${path}" in replacement target`);
      at.parent[at.key] = structuredClone(value);
    }
  }
}

/** Each object's metadata.namespace as its file wrote it (kustomize's OrgId). */
const originalNamespace = new WeakMap<K8sObject, string | undefined>();

/**
 * (Cluster)RoleBinding subjects after a `namespace:`, as kustomize sets them: the namespace
 * transformer (api/filters/namespace/namespace.go, setRoleBindingSubjects defaultOnly) gives the
 * new namespace to subjects named "default"; the name reference transformer
 * (api/filters/nameref/nameref.go setMapping; ServiceAccount -> subjects in namereference.go)
 * gives a ServiceAccount subject the name and namespace of the ServiceAccount it names, chosen
 * among those whose original namespace is the subject's (else their current one; any, if the
 * subject names none). A subject naming no ServiceAccount of the build is left as it is.
 */
function setBindingSubjects(objects: K8sObject[], namespace: string): void {
  const accounts = objects.filter((o) => o.kind === 'ServiceAccount');
  for (const binding of objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
    for (const subject of (binding['subjects'] as { kind: string; name: string; namespace?: string }[] | undefined) ?? []) {
      if (subject.name === 'default') {
        subject.namespace = namespace;
        continue;
      }
      if (subject.kind !== 'ServiceAccount') continue;
      let candidates = accounts;
      if (subject.namespace !== undefined) {
        const byOriginal = accounts.filter((a) => (originalNamespace.get(a) ?? 'default') === subject.namespace);
        candidates = byOriginal.length > 0 ? byOriginal : accounts.filter((a) => (a.metadata.namespace ?? 'default') === subject.namespace);
      }
      const matches = candidates.filter((a) => a.metadata.name === subject.name);
      if (matches.length > 1) throw new Error(`${binding.kind}/${binding.metadata.name}: subject ${subject.name} matches ${matches.length} ServiceAccounts`);
      const account = matches[0];
      if (account?.metadata.namespace) subject.namespace = account.metadata.namespace;
    }
  }
}

export function renderKustomization(dir: string): K8sObject[] {
  return renderKustomizationFiles(dir).map((o) => o.object);
}

/** A model class of kubernetes-models: constructed from the object's data, then validated. */
interface ModelClass {
  apiVersion: string;
  kind: string;
  new (data: object): { validate(): void };
}

function isModelClass(value: unknown): value is ModelClass {
  return typeof value === 'function' && typeof (value as { apiVersion?: unknown }).apiVersion === 'string' && typeof (value as { kind?: unknown }).kind === 'string';
}

const models = new Map<string, ModelClass>();
for (const group of [coreV1, appsV1, batchV1, autoscalingV2, policyV1, networkingV1, rbacV1]) {
  for (const value of Object.values(group)) {
    if (isModelClass(value)) models.set(`${value.apiVersion}/${value.kind}`, value);
  }
}

/** Throws when the object's apiVersion/kind is unknown or it breaks the API schema. */
export function validateObject(object: K8sObject): void {
  const Model = models.get(`${object.apiVersion}/${object.kind}`);
  if (!Model) throw new Error(`no kubernetes-models class for ${object.apiVersion} ${object.kind}`);
  new Model(object).validate();
}

/** Pod template of a workload object, if it has one. */
export interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  securityContext?: Record<string, unknown>;
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  lifecycle?: { preStop?: { exec?: { command: string[] } }; postStart?: { exec?: { command: string[] } } };
}
export interface Probe {
  httpGet?: { path: string; port: number | string };
  exec?: { command: string[] };
  tcpSocket?: { port: number | string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  failureThreshold?: number;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
}
export type EnvSource = NonNullable<EnvVar['valueFrom']>;

/**
 * A container's environment as the kubelet builds it. The rule (io.k8s.api.core.v1.EnvVar.value in the API
 * reference): in list order, a `value` has each $(NAME) replaced by a variable defined EARLIER in the list, a
 * reference it cannot resolve is left as it is, and $$ gives a literal $; a `valueFrom` value (Secret,
 * ConfigMap) is used verbatim, never expanded. The scan is that of Kubernetes'
 * third_party/forked/golang/expansion/expand.go (Expand, tryReadVariableName).
 */
export function containerEnv(c: Container, resolve: (source: EnvSource) => string, overrides: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  // An override stands for the variable's value where it is defined: later references see it.
  for (const e of c.env ?? []) env[e.name] = overrides[e.name] ?? (e.valueFrom ? resolve(e.valueFrom) : expandReferences(e.value ?? '', env));
  return env;
}

function expandReferences(input: string, defined: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const next = input[i + 1];
    if (input[i] !== '$' || next === undefined) {
      out += input[i];
    } else if (next === '$') {
      out += '$';
      i += 1;
    } else if (next === '(' && input.indexOf(')', i + 2) !== -1) {
      const close = input.indexOf(')', i + 2);
      const name = input.slice(i + 2, close);
      out += Object.hasOwn(defined, name) ? defined[name] : `$(${name})`;
      i = close;
    } else {
      // A $ that starts no reference (or an unclosed one) is kept with the character after it.
      out += `$${next}`;
      i += 1;
    }
  }
  return out;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: Container[];
    initContainers?: Container[];
    securityContext?: Record<string, unknown>;
    terminationGracePeriodSeconds?: number;
    volumes?: { name: string; configMap?: { name: string }; emptyDir?: { sizeLimit?: string; medium?: string }; projected?: { sources: { configMap?: { name: string } }[] } }[];
  };
}

export function podTemplate(object: K8sObject): PodTemplate | undefined {
  const spec = object['spec'] as { template?: PodTemplate; jobTemplate?: { spec: { template: PodTemplate } } } | undefined;
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet'].includes(object.kind)) return spec?.template;
  if (object.kind === 'CronJob') return spec?.jobTemplate?.spec.template;
  return undefined;
}

/** String data of a Secret (stringData, or base64 data) or ConfigMap. */
export function dataOf(object: K8sObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((object['data'] as Record<string, string> | undefined) ?? {})) {
    out[k] = object.kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
  }
  Object.assign(out, (object['stringData'] as Record<string, string> | undefined) ?? {});
  return out;
}
