// scripts/stack.js, the runner of `npm start`, the bench and the Postman and live tests:
// - it never talks to a server it did not start: a taken fixed port fails the start, naming it;
// - supervised, it restarts a service or the embedded PostgreSQL that dies, with back-off, while the
//   others keep serving, reports it, and stops everything only on a crash loop.
// Every port here is picked free (port 0); the data folder is the test's own and is removed after.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import fc from 'fast-check';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../src/paths.js';

type ServiceName = 'user' | 'product' | 'order' | 'gateway';
interface StackEvent {
  service?: string;
  event: string;
  message: string;
}
interface Stack {
  readonly urls: Readonly<Record<ServiceName, string>>;
  readonly ports: Readonly<Record<ServiceName, number>>;
  readonly children: Map<string, ChildProcess>;
  readonly admin: { email: string; password: string };
  readonly logDir: string;
  stop(): Promise<void>;
  postgresPid(): number | null;
}
interface StackModule {
  consoleLine(name: string, line: string): string | null;
  startStack(opts: {
    env: NodeJS.ProcessEnv;
    dataDir: string;
    freePorts?: boolean;
    supervise?: boolean | Record<string, number>;
    onEvent?: (e: StackEvent) => void;
    onFatal?: (message: string) => void;
  }): Promise<Stack>;
}

const stackModule = async () => (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'stack.js')).href)) as StackModule;

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

async function status(url: string, init: RequestInit = {}): Promise<number> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

describe('stack ports', () => {
  test('when a fixed port is taken by another server, then the start fails naming it, and that server gets no request', async () => {
    const requests: string[] = [];
    // A stranger that answers 200 to everything, /readyz included (the old runner took it for the user service).
    const stranger = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
    const port = await listen(stranger);
    const dataDir = path.join(repoRoot, '.data', `stack-ports-test-${process.pid}`);
    try {
      const { startStack } = await stackModule();
      const env = { ...process.env, LOG_LEVEL: 'warn', USER_PORT: String(port), PRODUCT_PORT: '0', ORDER_PORT: '0', GATEWAY_PORT: '0', GATEWAY_METRICS_PORT: '0', EMBEDDED_PG_PORT: '0' };
      await assert.rejects(startStack({ env, dataDir }), (err: Error) => {
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port} \\(USER_PORT\\) is already in use`));
        return true;
      });
      assert.deepEqual(requests, []);
    } finally {
      await close(stranger);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('when several fixed ports are taken (another platform runs), then the start fails once naming every one of them', async () => {
    const strangers = [createServer(), createServer(), createServer()];
    const [user, gateway, metrics] = await Promise.all(strangers.map((s) => listen(s)));
    const dataDir = path.join(repoRoot, '.data', `stack-ports-test-${process.pid}`);
    try {
      const { startStack } = await stackModule();
      const env = { ...process.env, LOG_LEVEL: 'warn', USER_PORT: String(user), PRODUCT_PORT: '0', ORDER_PORT: '0', GATEWAY_PORT: String(gateway), GATEWAY_METRICS_PORT: String(metrics), EMBEDDED_PG_PORT: '0' };
      await assert.rejects(startStack({ env, dataDir }), (err: Error) => {
        assert.equal(
          err.message,
          `127.0.0.1:${user} (USER_PORT), 127.0.0.1:${gateway} (GATEWAY_PORT), 127.0.0.1:${metrics} (GATEWAY_METRICS_PORT) are already in use by other processes (another platform running?): ` +
            'stop them, or set USER_PORT=0 GATEWAY_PORT=0 GATEWAY_METRICS_PORT=0 to pick free ports',
        );
        return true;
      });
    } finally {
      await Promise.all(strangers.map(close));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('stack port settings', () => {
  test('when a port variable is not a port number, then the start fails naming the variable, not with Node\'s "options.port should be >= 0"', async (t) => {
    const { startStack } = await stackModule();
    // GATEWAY_PORT, claimed after PRODUCT_PORT, is taken: a value read as some port (0x10 as 16, " " as 0) ends there,
    // with another message, before anything starts.
    const stranger = createServer();
    const taken = await listen(stranger);
    t.after(() => close(stranger));
    for (const value of ['abc', '70000', '-1', '80.5', '0x10', '1e3', '0b11', ' ']) {
      const dataDir = path.join(repoRoot, '.data', `stack-ports-test-${process.pid}`);
      try {
        const env = { ...process.env, LOG_LEVEL: 'warn', USER_PORT: '0', PRODUCT_PORT: value, ORDER_PORT: '0', GATEWAY_PORT: String(taken), GATEWAY_METRICS_PORT: '0', EMBEDDED_PG_PORT: '0' };
        await assert.rejects(startStack({ env, dataDir }), (err: Error) => {
          assert.equal(err.message, 'PRODUCT_PORT must be a port number from 0 to 65535 (0 picks a free port)', `PRODUCT_PORT=${value}`);
          return true;
        });
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  });
});

describe("what npm start prints of the children's output", () => {
  test('when a child logs a request at warn or error, then the line says what was asked and answered (method, path, status, reqId), not "request" alone; info and below, and the readiness probes, stay in the log', async () => {
    const { consoleLine } = await stackModule();
    const methods = fc.constantFrom('GET', 'POST', 'DELETE', 'PATCH');
    const paths = fc.constantFrom('/product', '/order/01a24645-78ee-7366-97ef-129bf69bb639/cancel', '/user/login', '/');
    fc.assert(
      fc.property(fc.constantFrom('gateway', 'order'), methods, paths, fc.integer({ min: 100, max: 599 }), fc.constantFrom(20, 30, 40, 50, 60), fc.uuid(), (name, method, where, status, level, reqId) => {
        const line = JSON.stringify({ level, time: 1, service: name, reqId, method, route: where, path: where, status, durationMs: 3.5, msg: 'request' });
        assert.equal(consoleLine(name, line), level >= 40 ? `[${name}] ${method} ${where} ${status} (reqId ${reqId})` : null);
      }),
    );
    assert.equal(consoleLine('user', JSON.stringify({ level: 50, msg: 'database not available', err: { message: 'ECONNREFUSED' } })), '[user] database not available ECONNREFUSED');
    // The start-up's readiness probes, 503 while a service waits for its database: not shown.
    for (const route of ['/readyz', '/livez', '/metrics']) assert.equal(consoleLine('user', JSON.stringify({ level: 40, msg: 'request', method: 'GET', route, path: route, status: 503 })), null, route);
    assert.equal(consoleLine('postgres', 'LOG:  database system is ready'), '[postgres] LOG:  database system is ready');
  });
});

describe('stack supervision (npm start)', { timeout: 6 * 60_000 }, () => {
  const dataDir = path.join(repoRoot, '.data', `stack-supervision-test-${process.pid}`);
  const events: StackEvent[] = [];
  let fatal: string | undefined;
  let stack: Stack | undefined;
  let token = '';

  const eventCount = (service: string, event: string) => events.filter((e) => e.service === service && e.event === event).length;
  const nextEvent = (service: string, event: string, timeoutMs: number) => {
    const seen = eventCount(service, event);
    return waitFor(`${service} ${event}`, timeoutMs, () => (eventCount(service, event) > seen ? true : undefined));
  };

  before(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    const { startStack } = await stackModule();
    // Always the embedded PostgreSQL: the test kills it.
    const { DATABASE_URL: _shared, ...inherited } = process.env;
    // Free ports the way README tells a user to ask for them (`0`), so a service that reads its own port
    // setting instead of the port the runner claimed (the gateway and GATEWAY_PORT did) fails here.
    const anyPort = { USER_PORT: '0', PRODUCT_PORT: '0', ORDER_PORT: '0', GATEWAY_PORT: '0', GATEWAY_METRICS_PORT: '0', EMBEDDED_PG_PORT: '0' };
    stack = await startStack({
      env: { ...inherited, LOG_LEVEL: 'warn', NODE_ENV: 'test', ...anyPort },
      dataDir,
      // Short delays for the test; a crash loop is 5 failed starts in a row.
      supervise: { initialDelayMs: 250, maxDelayMs: 2000, resetAfterMs: 3000, crashLoopLimit: 5 },
      onEvent: (e) => events.push(e),
      onFatal: (message) => (fatal = message),
    });
    const { gateway } = stack.urls;
    const email = `supervised.${process.pid}.${Date.now()}@example.test`;
    const reg = await fetch(`${gateway}/user/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'correct-horse-1', name: 'Sup' }) });
    assert.equal(reg.status, 201, await reg.text());
    const login = await fetch(`${gateway}/user/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'correct-horse-1' }) });
    token = ((await login.json()) as { accessToken: string }).accessToken;
  });

  after(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const myOrders = () => status(`${stack?.urls.gateway}/order`, { headers: { authorization: `Bearer ${token}` } });

  test('when a service is SIGKILLed, then it is restarted and serves again, and the others keep answering meanwhile', async () => {
    assert.ok(stack);
    assert.equal(await myOrders(), 200);
    const order = stack.children.get('order');
    assert.ok(order?.pid);
    const back = nextEvent('order', 'restarted', 60_000);
    const gone = new Promise((resolve) => order.once('exit', resolve));
    order.kill('SIGKILL');
    await gone;
    // while it is down: the catalog through the gateway, and the user service, still answer
    assert.equal(await status(`${stack.urls.gateway}/product?limit=1`), 200);
    assert.equal(await status(`${stack.urls.user}/readyz`), 200);
    await back;
    const restarted = stack.children.get('order');
    assert.ok(restarted?.pid && restarted.pid !== order.pid, 'a new order process');
    await waitFor('orders through the gateway', 30_000, async () => ((await myOrders()) === 200 ? true : undefined));
    const exit = events.find((e) => e.service === 'order' && e.event === 'exited');
    assert.match(exit?.message ?? '', /order exited unexpectedly \(code null, signal SIGKILL\); restarting in 0\.25 s/);
    // the same events are log lines
    const logged = readFileSync(path.join(stack.logDir, 'stack.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { child?: string; event: string });
    assert.ok(logged.some((l) => l.child === 'order' && l.event === 'exited'));
    assert.ok(logged.some((l) => l.child === 'order' && l.event === 'restarted'));
    assert.equal(fatal, undefined);
  });

  test('when the embedded PostgreSQL is SIGKILLed, then it is restarted and the services serve again', async () => {
    assert.ok(stack);
    const pid = stack.postgresPid();
    assert.ok(pid);
    const back = nextEvent('postgres', 'restarted', 90_000);
    process.kill(pid, 'SIGKILL');
    await back;
    assert.notEqual(stack.postgresPid(), pid);
    await waitFor('every service ready again', 90_000, async () => {
      const codes = await Promise.all((['user', 'product', 'order', 'gateway'] as const).map((n) => status(`${stack?.urls[n]}/readyz`)));
      return codes.every((c) => c === 200) ? true : undefined;
    });
    assert.equal(await myOrders(), 200);
    assert.equal(await status(`${stack.urls.gateway}/product?limit=1`), 200);
    assert.equal(fatal, undefined, fatal);
  });

  test('when a service keeps dying at start-up, then the stack stops everything and says why', async () => {
    assert.ok(stack);
    await sleep(3500); // past resetAfterMs: the back-off starts over
    const order = stack.children.get('order');
    assert.ok(order?.pid);
    // Someone takes the order service's port the moment it dies: every restart fails with EADDRINUSE.
    const squatter = createServer((_req, res) => res.writeHead(200).end());
    const squatted = new Promise<void>((resolve) => {
      order.once('exit', () => void listen(squatter, stack?.ports.order).then(() => resolve()));
    });
    order.kill('SIGKILL');
    await squatted;
    try {
      const message = await waitFor('the crash-loop stop', 90_000, () => fatal);
      assert.match(message, /the order service died 5 times in a row before becoming ready \(crash loop\)/);
      assert.match(message, /EADDRINUSE/);
      await waitFor('every child gone', 30_000, () => ([...stack!.children.values()].every((c) => c.exitCode !== null || c.signalCode !== null) ? true : undefined));
      const pg = stack.postgresPid();
      await waitFor('PostgreSQL stopped', 30_000, () => {
        try {
          if (pg) process.kill(pg, 0);
          return undefined;
        } catch {
          return true;
        }
      });
    } finally {
      await close(squatter);
    }
  });
});
