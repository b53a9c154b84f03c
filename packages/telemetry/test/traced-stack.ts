// The whole platform as `npm start` runs it (scripts/stack.js), traced to an OTLP receiver of the test's own, in its
// own database on a shared server (DATABASE_URL) or an embedded PostgreSQL, and its own data folder.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { databaseRole } from '@ecommerce/kit';
import { startOtlpReceiver, type OtlpReceiver } from '../src/index.js';

export interface TracedStack {
  urls: Record<'user' | 'product' | 'order' | 'gateway', string>;
  children: Map<string, ChildProcess>;
  /** Each service's login role in the stack's database. */
  roles: Record<'user' | 'product' | 'order', { role: string }>;
  /** An administrator's connection string to the stack's database (a test may change its schema under the services). */
  adminUrl: string;
  restart(name: string): Promise<unknown>;
  receiver: OtlpReceiver;
  /** Stops the platform and the receiver; drops the database, its roles and the data folder. */
  close(): Promise<void>;
}

const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');

/** `name`: the database's prefix and the data folder's; `env`: added to the services' (the OTEL_ ones are the receiver's). */
export async function startTracedStack(name: string, opts: { env?: Record<string, string>; serviceEnv?: Record<string, Record<string, string>>; onLine?: (service: string, line: string) => void }): Promise<TracedStack> {
  const database = process.env.DATABASE_URL ? `${name}_${process.pid}` : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), `${name}-`));
  const { startStack } = (await import(pathToFileURL(join(repoRoot, 'scripts', 'stack.js')).href)) as {
    startStack(opts: object): Promise<Omit<TracedStack, 'receiver' | 'close'> & { stop(): Promise<void> }>;
  };
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  // An embedded PostgreSQL runs as the `postgres` system user when we are root: it must reach its folder.
  chmodSync(dataDir, 0o755);
  // Started last before the try below: nothing that may throw between it and close().
  const receiver = await startOtlpReceiver({ port: 0, keepSpans: true });
  let stack: Awaited<ReturnType<typeof startStack>> | undefined;
  const close = async () => {
    await stack?.stop();
    await receiver.close();
    if (database && process.env.DATABASE_URL) {
      const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
      // The stack's roles are the database's own (kit's databaseRole): they go with it, also when its start failed
      // after provisioning them (no stack to name them then).
      for (const service of ['user', 'product', 'order']) await admin.query(`DROP ROLE IF EXISTS ${databaseRole(database, service)}`).catch(() => undefined);
      await admin.end();
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    stack = await startStack({
      env: { ...clean, ...(database ? { DATABASE_NAME: database } : {}), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100', ...opts.env },
      dataDir,
      freePorts: true,
      ...(opts.serviceEnv ? { serviceEnv: opts.serviceEnv } : {}),
      ...(opts.onLine ? { onLine: opts.onLine } : {}),
    });
  } catch (err) {
    await close();
    throw err;
  }
  return { urls: stack.urls, children: stack.children, roles: stack.roles, adminUrl: stack.adminUrl, restart: (n) => stack!.restart(n), receiver, close };
}
