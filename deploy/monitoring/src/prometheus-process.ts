// A throwaway Prometheus on 127.0.0.1 with its own config and a temporary
// TSDB: used by tests to evaluate PromQL for real (promtool 2.42 has no
// "parse this query" command) and by the live proof.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@ecommerce/kit';

/** A loopback port for a process about to start (the kit's pick: below the ephemeral range). */
export const freeLoopbackPort = (): Promise<number> => freePort('127.0.0.1');

export interface RunningPrometheus {
  readonly url: string;
  readonly dir: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** prometheus.yml text; relative paths resolve against `files` in the temp dir. */
  readonly config: string;
  /** Extra files written next to the config (name -> content). */
  readonly files?: Readonly<Record<string, string>>;
  readonly readyTimeoutMs?: number;
  /** Extra command-line flags (e.g. PROMETHEUS_FEATURES). */
  readonly args?: readonly string[];
}

export async function startPrometheus(options: StartOptions): Promise<RunningPrometheus> {
  const dir = await mkdtemp(path.join(tmpdir(), 'prometheus-'));
  const configPath = path.join(dir, 'prometheus.yml');
  await writeFile(configPath, options.config);
  for (const [name, content] of Object.entries(options.files ?? {})) {
    await writeFile(path.join(dir, name), content);
  }
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const child = spawn(
    'prometheus',
    [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${child.exitCode}:\n${log}`);
    }
    try {
      const response = await fetch(`${url}/-/ready`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready after ${options.readyTimeoutMs ?? 20_000}ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, dir, process: child, stop };
}

export interface QueryResult {
  readonly status: 'success' | 'error';
  readonly errorType?: string;
  readonly error?: string;
  readonly data?: { resultType: string; result: unknown[] };
}

/** Instant query; the API answers 400 bad_data for a query that does not parse. */
export async function instantQuery(baseUrl: string, query: string): Promise<QueryResult> {
  const response = await fetch(`${baseUrl}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query }).toString(),
  });
  return (await response.json()) as QueryResult;
}
