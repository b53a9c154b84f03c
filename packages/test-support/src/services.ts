// A service started in-process from its public entry (`buildApp(config)`). Each service exports its own
// thin starter built on this, so this package imports no service and no project reference loops back.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestDatabase } from './database.js';

/** What a built app offers to be served: Fastify's listen, server and close. */
export interface Listenable {
  listen(options: { host: string; port: number }): Promise<string>;
  server: { address(): unknown };
  close(): Promise<unknown>;
}

export interface Running<A extends Listenable = Listenable> {
  app: A;
  base: string;
  close(): Promise<void>;
}

/** Listens on a random loopback port (or `port`, to come back at the same address); returns the base URL. */
export async function listenOnLoopback(app: Pick<Listenable, 'listen' | 'server'>, port = 0): Promise<string> {
  await app.listen({ host: '127.0.0.1', port });
  const addr = app.server.address() as { port: number } | null;
  return `http://127.0.0.1:${addr?.port ?? 0}`;
}

/**
 * Builds the app from its config and serves it on loopback. A listen that fails (`port` taken again by another
 * process) closes the app: with no `Running` for a test to close, its pool and background work stayed on the file's
 * database (its timers are unref'd: the process still ended).
 */
export async function startService<C, A extends Listenable>(build: (config: C) => Promise<A>, config: C, port = 0): Promise<Running<A>> {
  const app = await build(config);
  let base: string;
  try {
    base = await listenOnLoopback(app, port);
  } catch (err) {
    await app.close();
    throw err;
  }
  return {
    app,
    base,
    close: async () => {
      await app.close();
    },
  };
}

/** What stopAll stops: a service, a server or proxy (its close awaited when it returns a promise), a database. */
type Stoppable = { close(): unknown } | TestDatabase | null | undefined;

/**
 * Stops what a test started, in the order given, skipping what never started (a `before` that failed). One that fails
 * to stop does not keep the rest running: each is stopped, then the first failure is thrown. Before, a close that threw
 * skipped every one after it, and a server left listening held the file's process until the runner's 20 min timeout.
 */
export async function stopAll(...started: Stoppable[]): Promise<void> {
  const failures: unknown[] = [];
  for (const s of started) {
    if (!s) continue;
    try {
      await ('drop' in s ? s.drop() : s.close());
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length > 0) throw failures[0];
}

/**
 * What `starting` gives; when it fails, what the test started before it is stopped first (stopAll), then the failure
 * rethrown. For a start that comes before the try whose finally stops them all: a service that did not start (not
 * ready in time on a loaded machine) left the servers started before it listening, and the file's process waited for
 * the runner's 20 min timeout.
 */
export async function stopAllIfItFails<T>(starting: Promise<T>, ...started: Stoppable[]): Promise<T> {
  try {
    return await starting;
  } catch (err) {
    // The start's own failure is the one to report, not a stop's after it.
    await stopAll(...started).catch(() => undefined);
    throw err;
  }
}

/** Polls `check` until it holds; fails the test after `timeoutMs`. Returns how long it took. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await check()) return Date.now() - t0;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}
