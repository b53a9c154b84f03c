// Finding and running the Debian monitoring binaries.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export const TOOLS = ['prometheus', 'promtool', 'prometheus-alertmanager', 'amtool', 'prometheus-postgres-exporter'] as const;
export type Tool = (typeof TOOLS)[number];

export function findTool(name: Tool): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this PATH entry
    }
  }
  return undefined;
}

export function missingTools(names: readonly Tool[]): Tool[] {
  return names.filter((n) => findTool(n) === undefined);
}

export const INSTALL_HINT = 'run scripts/install-monitoring.sh (Debian packages prometheus, prometheus-alertmanager, prometheus-postgres-exporter)';

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr together, for assertion messages. */
  readonly output: string;
}

export function runTool(name: Tool, args: readonly string[], cwd?: string): RunResult {
  const result = spawnSync(name, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    output: `${name} ${args.join(' ')}\n${result.stdout}${result.stderr}`,
  };
}
