// The real kustomize (`kubectl kustomize`) as the reference our renderer (src/manifests.ts) is held to.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { parseYaml, type K8sObject } from '../src/manifests.js';

/** What `kubectl kustomize <dir>` renders; undefined when kubectl is not installed (not in Debian's archive, so a machine may lack it). */
export function realKustomize(dir: string): K8sObject[] | undefined {
  try {
    return parseYaml(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as K8sObject[];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The same objects, by kind, namespace and name, and each the same to the last field. */
export function assertSameObjects(ours: K8sObject[], real: K8sObject[], label: string): void {
  const key = (o: K8sObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  const realByKey = new Map(real.map((o) => [key(o), o]));
  const oursByKey = new Map(ours.map((o) => [key(o), o]));
  assert.deepEqual([...oursByKey.keys()].sort(), [...realByKey.keys()].sort(), label);
  for (const [name, object] of realByKey) assert.deepEqual(oursByKey.get(name), object, `${label}: ${name}`);
}
