// prometheus.yml as the Prometheus pod reads it: the pod's `config` init container writes it from
// the prometheus-config ConfigMap (prometheus-k8s.yml with __NAMESPACE__ left in it). The tests run
// that container's own command with the real sh and sed, its mount paths moved to a temporary
// folder and POD_NAMESPACE as the downward API gives it (the pod's namespace).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerEnv, dataOf, podTemplate, type Container, type K8sObject } from './manifests.js';

type InitContainer = Container & { command?: string[]; args?: string[] };

/** The prometheus.yml the Prometheus container of `objects` reads once its init container has run. */
export function renderedPrometheusConfig(objects: K8sObject[]): string {
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'prometheus');
  if (!deployment) throw new Error('no Deployment prometheus');
  const spec = podTemplate(deployment)?.spec;
  const prometheus = spec?.containers.find((c) => c.name === 'prometheus') as (Container & { args?: string[] }) | undefined;
  const configFile = prometheus?.args?.find((a) => a.startsWith('--config.file='))?.split('=')[1];
  if (!spec || !configFile) throw new Error('prometheus: no --config.file');
  const volumeOf = (c: Container, path: string) => c.volumeMounts?.find((m) => path === m.mountPath || path.startsWith(`${m.mountPath}/`));
  const mount = prometheus ? volumeOf(prometheus, configFile) : undefined;
  const volume = spec.volumes?.find((v) => v.name === mount?.name);
  if (!mount || !volume) throw new Error(`prometheus: ${configFile} is on no volume`);
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-config-'));
  try {
    const local = (path: string): string => join(dir, path);
    const fill = (name: string, path: string): void => {
      const v = spec.volumes?.find((x) => x.name === name);
      mkdirSync(local(path), { recursive: true });
      if (v?.configMap) {
        const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === v.configMap?.name && o.metadata.namespace === deployment.metadata.namespace);
        if (!map) throw new Error(`prometheus: ConfigMap ${v.configMap.name} is not in namespace ${deployment.metadata.namespace}`);
        for (const [key, value] of Object.entries(dataOf(map))) writeFileSync(join(local(path), key), value);
      }
    };
    // The file comes from a ConfigMap as it is, or from the init containers that write that emptyDir.
    for (const init of (spec.initContainers ?? []) as InitContainer[]) {
      const mounts = init.volumeMounts ?? [];
      for (const m of mounts) fill(m.name, m.mountPath);
      const env = containerEnv(init, (source) => {
        if (source.fieldRef?.fieldPath === 'metadata.namespace') return deployment.metadata.namespace ?? 'default';
        throw new Error(`prometheus init ${init.name}: env from ${JSON.stringify(source)} is not reproduced`);
      });
      const [shell, flag, script, ...rest] = [...(init.command ?? []), ...(init.args ?? [])];
      if (shell !== 'sh' || flag !== '-c' || script === undefined || rest.length > 0) throw new Error(`prometheus init ${init.name}: only sh -c <script> is reproduced`);
      // Longest paths first, so a path inside another mount is moved as a whole.
      const moved = [...mounts].sort((a, b) => b.mountPath.length - a.mountPath.length).reduce((s, m) => s.split(m.mountPath).join(local(m.mountPath)), script);
      const run = spawnSync('sh', ['-c', moved], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env } });
      if (run.status !== 0) throw new Error(`prometheus init ${init.name} failed: ${run.stderr}`);
    }
    if (volume.configMap) fill(mount.name, mount.mountPath);
    return readFileSync(local(configFile), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
