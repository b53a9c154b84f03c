// A kustomization of our own in a temporary folder that puts one of our overlays in another namespace, as an operator's
// `namespace: shop` overlay does: for the tests that render the platform outside `ecommerce`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { repoRoot } from '../src/manifests.js';

/** `use` run on a folder whose kustomization sets `namespace` over `overlay` (a relative path, as kustomize requires). */
export function withNamespace<T>(overlay: string, namespace: string, use: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'kustomize-namespace-'));
  try {
    writeFileSync(join(dir, 'kustomization.yaml'), `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${namespace}\nresources:\n  - ${relative(dir, join(repoRoot, overlay))}\n`);
    return use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
