// The whole platform on spare loopback ports (scripts/stack.js), for the API type generator and the browser tests.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './paths.js';

interface RunningStack {
  readonly urls: { readonly user: string; readonly product: string; readonly order: string; readonly gateway: string };
  readonly admin: { readonly email: string; readonly password: string };
  readonly adminUrl: string;
  stop(): Promise<void>;
  restart(service: string): Promise<unknown>;
  readonly children: Map<string, { pid?: number; kill(signal?: string): boolean; once(event: 'exit', cb: () => void): unknown; exitCode: number | null; signalCode: string | null }>;
}

interface StackModule {
  startStack(opts: { env: NodeJS.ProcessEnv; dataDir: string; freePorts: boolean; onCrash?: (service: string, code: number | null, signal: string | null, tail: string[]) => void }): Promise<RunningStack>;
}

/** A loopback port for a process about to start (Chromium's DevTools port): the kit's pick, below the ephemeral range. */
export async function freePort(): Promise<number> {
  return (await import('@ecommerce/kit')).freePort('127.0.0.1');
}

export interface OwnStack extends RunningStack {
  readonly dataDir: string;
}

/**
 * Starts user, product, order and the gateway on free ports with a data folder of its own (removed on stop).
 * With DATABASE_URL (npm test, CI) a database of its own on that server; else an embedded PostgreSQL.
 */
export async function startOwnStack(extraEnv: NodeJS.ProcessEnv = {}, onCrash?: (service: string, tail: string[]) => void): Promise<OwnStack> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ecommerce-web-'));
  // Run as root, the embedded PostgreSQL runs as `postgres` and must pass through this folder to its own.
  chmodSync(dataDir, 0o755);
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...extraEnv };
  if (process.env.DATABASE_URL) env.DATABASE_NAME = `web_test_${process.pid}_${Date.now().toString(36)}`;
  const mod = (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'stack.js')).href)) as StackModule;
  /** The database of its own (provisioned before a service that failed to start, too) and the data folder. */
  const removeOwn = async () => {
    if (process.env.DATABASE_URL && env.DATABASE_NAME) {
      const { dropDatabase } = await import('@ecommerce/kit');
      await dropDatabase(process.env.DATABASE_URL, env.DATABASE_NAME).catch(() => undefined);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  let stack: RunningStack;
  try {
    stack = await mod.startStack({ env, dataDir, freePorts: true, onCrash: (s, _c, _sig, tail) => onCrash?.(s, tail) });
  } catch (err) {
    await removeOwn();
    throw err;
  }
  return Object.assign(Object.create(stack) as RunningStack, stack, {
    dataDir,
    async stop() {
      await stack.stop();
      await removeOwn();
    },
  });
}
