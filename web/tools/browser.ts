// Debian's chromium for playwright-core and Lighthouse (installed by scripts/install-chromium.sh when missing).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.js';

/** The browser binary itself (not the /usr/bin/chromium shell wrapper, whose flags we do not want). */
export function chromiumPath(install = true): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (found) return found;
  if (install && spawnSync('bash', [path.join(repoRoot, 'scripts', 'install-chromium.sh')], { stdio: 'inherit' }).status === 0) return chromiumPath(false);
  throw new Error('chromium not found and could not be installed (scripts/install-chromium.sh); set CHROMIUM_PATH');
}

/** Flags for a headless run as root in a container (no sandbox there) on a small machine. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--no-default-browser-check'];
