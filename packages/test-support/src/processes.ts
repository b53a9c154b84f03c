// A service as a real child process, for the tests that SIGKILL one: spawned from its compiled `main.js` with the
// test's environment, found ready by its own word (kit's runMain sends `{ type: 'listening', port }` over the IPC
// channel, so a /readyz answer from another process on a reused port is never taken for this one's) and /readyz.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { http } from './http.js';

/** How a process ended: the signal that ended it, else its exit code. */
export type ProcessEnd = NodeJS.Signals | number | null;

export interface ServiceProcess {
  child: ChildProcess;
  /** Its base URL (from the port asked for; with port 0, known once `ready()` resolves true). */
  base: string;
  /** Resolves once it has exited. */
  exited: Promise<ProcessEnd>;
  /**
   * Resolves true once it has said it listens and /readyz answers 200; false if it was SIGKILLed first. Rejects, with
   * the tail of its stderr, if it exited otherwise or is not ready within `readyTimeoutMs` (then it is SIGKILLed).
   */
  ready(): Promise<boolean>;
  /** Sends it `signal` (SIGKILL unless told; SIGTERM for a graceful stop) unless it has already exited; resolves how it ended. */
  kill(signal?: NodeJS.Signals): Promise<ProcessEnd>;
  /** The last few KiB of its stderr. */
  stderrTail(): string;
}

const STDERR_TAIL = 8 * 1024;

/**
 * Spawns `node <main>` with `env` over the test's own, on 127.0.0.1 at `port` (0: a port of its choosing). It is not
 * awaited: call `ready()` (a process killed while it starts answers false there) or `startServiceProcess`.
 */
export function spawnServiceProcess(main: string, env: Record<string, string>, opts: { port?: number; name?: string; readyTimeoutMs?: number } = {}): ServiceProcess {
  const name = opts.name ?? 'service process';
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, ...env, PORT: String(opts.port ?? 0), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => (stderr = (stderr + d).slice(-STDERR_TAIL)));
  const exited = new Promise<ProcessEnd>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  // The child unrefs its end once it has spoken; ours must not hold the test process open either.
  const listening = new Promise<number>((resolve) =>
    child.on('message', (m: { type?: string; port?: number }) => {
      if (m?.type === 'listening' && m.port) resolve(m.port);
    }),
  );
  child.channel?.unref();
  const proc: ServiceProcess = {
    child,
    base: `http://127.0.0.1:${opts.port ?? 0}`,
    exited,
    ready: () => (readiness ??= waitReady()),
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    stderrTail: () => stderr,
  };
  let readiness: Promise<boolean> | undefined;
  const waitReady = async (): Promise<boolean> => {
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
    const ended = exited.then(() => 'exited' as const);
    // Unref'd: a process ready early leaves no timer holding the test file open.
    const timedOut = (ms: number) => sleep(Math.max(0, ms), undefined, { ref: false }).then(() => 'timeout' as const);
    const port = await Promise.race([listening, ended, timedOut(deadline - Date.now())]);
    if (typeof port === 'number') {
      proc.base = `http://127.0.0.1:${port}`;
      while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
        if ((await http(proc.base, 'GET', '/readyz').catch(() => null))?.status === 200) return true;
        await sleep(50);
      }
    }
    if (child.signalCode === 'SIGKILL') return false;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited ${child.signalCode ?? child.exitCode} before it was ready: ${stderr}`);
    await proc.kill();
    throw new Error(`${name} was not ready within ${opts.readyTimeoutMs ?? 60_000} ms: ${stderr}`);
  };
  return proc;
}

/** `spawnServiceProcess`, awaited until it is ready (it fails the test if it is not). */
export async function startServiceProcess(main: string, env: Record<string, string>, opts: { port?: number; name?: string; readyTimeoutMs?: number } = {}): Promise<ServiceProcess> {
  const proc = spawnServiceProcess(main, env, opts);
  if (!(await proc.ready())) throw new Error(`${opts.name ?? 'service process'} was SIGKILLed before it was ready: ${proc.stderrTail()}`);
  return proc;
}
