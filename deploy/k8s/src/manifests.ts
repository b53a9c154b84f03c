// Loading the committed manifests and checking them against the official
// Kubernetes API schemas (kubernetes-models), shared by the tests, the
// ConfigMap generator and the container test.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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

/** The manifest files kustomization.yaml lists, in its order. */
export function kustomizationResources(): string[] {
  const kustomization = parseYaml(readFileSync(join(k8sDir, 'kustomization.yaml'), 'utf8'))[0] as { resources?: string[] };
  return kustomization.resources ?? [];
}

export function parseYaml(text: string): unknown[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw doc.errors[0];
    return doc.toJS() as unknown;
  }).filter((doc) => doc !== null && doc !== undefined);
}

/** Every object of every *.yaml manifest in deploy/k8s (kustomization.yaml excluded). */
export function loadManifests(): LoadedObject[] {
  const files = readdirSync(k8sDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  return files.flatMap((file) =>
    parseYaml(readFileSync(join(k8sDir, file), 'utf8')).map((object) => ({ file, object: object as K8sObject })),
  );
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
}
export interface Probe {
  httpGet?: { path: string; port: number | string };
  exec?: { command: string[] };
  tcpSocket?: { port: number | string };
}
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
}
export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: Container[];
    initContainers?: Container[];
    securityContext?: Record<string, unknown>;
    terminationGracePeriodSeconds?: number;
    volumes?: { name: string; configMap?: { name: string }; projected?: { sources: { configMap?: { name: string } }[] } }[];
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
