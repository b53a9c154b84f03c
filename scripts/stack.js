// Starts the whole platform as child processes: PostgreSQL (DATABASE_URL or embedded), one role and
// schema per service, the user, product and order services and the gateway, all on 127.0.0.1.
// Used by `npm start`, `npm run bench`, the Postman and the live monitoring tests, so all run the same way.
//
// Ports: a fixed port that is taken fails the start at once, naming it; port 0 (or `freePorts`) picks a
// free one. A service counts as up only once it has told us, over its IPC channel, that it listens on
// its port: a /readyz answer from someone else's server on that port is never taken for ours.
//
// Supervision (`supervise`, on for `npm start`): like Kubernetes, a child that dies (a service or the
// embedded PostgreSQL) is started again after a back-off (0.5 s doubling to 30 s, back to 0.5 s once it
// has stayed up a minute) while the others keep serving; each exit and restart is reported (onEvent)
// and written to logs/stack.log. The stack stops itself only when a child keeps dying before it ever
// becomes ready (a crash loop); then onFatal says why.
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { OPERATIONAL_PATHS, databaseRole, freePort, provisionDatabase, serviceUrl } from '@ecommerce/kit';
import { NO_ENDPOINT, tracesUrlOf, tracingDecision } from '@ecommerce/telemetry';
import { startEmbeddedPostgres, stopOrphanPostgres } from './embedded-db.js';
import { defaultDataDir, lockDataDir } from './platform-lock.js';

export const root = resolve(import.meta.dirname, '..');
export const SERVICES = ['user', 'product', 'order', 'gateway'];
// V8 grows the old generation lazily up to a quarter of the machine's memory; capped, it collects
// earlier; a smaller young generation (semi-space 8 MB, default 16) trims the peak further. Under load
// a service then stays near 100-130 MiB instead of 200+, at a few percent of throughput.
// The images set the same value (deploy/docker/Dockerfile), sized for the Deployments' 256Mi limit.
export const NODE_HEAP_ARGS = ['--max-old-space-size=128', '--max-semi-space-size=8'];

/** The tracing preload (packages/telemetry): OpenTelemetry, configured by the OTEL_* variables. */
export const TRACING_PRELOAD = pathToFileURL(join(root, 'packages', 'telemetry', 'dist', 'src', 'register.js')).href;

/**
 * With an OTLP endpoint in the environment (e.g. `OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 npm start`,
 * the receiver of `npm run monitoring`), each service starts with the tracing preload and its own
 * OTEL_SERVICE_NAME; without one, nothing changes. Spans are exported every 0.5 s (not 5) so a trace prints
 * soon after its request; set OTEL_BSP_SCHEDULE_DELAY or OTEL_RESOURCE_ATTRIBUTES to override.
 */
export function tracingOf(env, service) {
  if (!tracingDecision(env).enabled) return { args: [], env: {} };
  return {
    args: ['--import', TRACING_PRELOAD],
    env: {
      OTEL_SERVICE_NAME: service,
      // An empty or blank value is unset, as the SDK reads every OTEL_* variable: npm start's default then, not "".
      OTEL_RESOURCE_ATTRIBUTES: env.OTEL_RESOURCE_ATTRIBUTES?.trim() ? env.OTEL_RESOURCE_ATTRIBUTES : 'deployment.environment.name=local',
      OTEL_BSP_SCHEDULE_DELAY: env.OTEL_BSP_SCHEDULE_DELAY?.trim() ? env.OTEL_BSP_SCHEDULE_DELAY : '500',
    },
  };
}

/**
 * npm start's banner line for tracing, from the preload's own decision (tracingDecision): an endpoint with
 * OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none printed "on: spans to ..." while no service traced.
 */
export function tracingLine(decision) {
  if (decision.enabled) return `on: spans to ${decision.reason}`;
  if (decision.reason === NO_ENDPOINT) return 'off (OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 npm start, with npm run monitoring: docs/tracing.md)';
  return `off (${decision.reason})`;
}

/** The file each service starts from, once built. */
const entryPointOf = (name, rootDir = root) => join(rootDir, 'services', name, 'dist', 'src', 'main.js');

/**
 * Why the services cannot start from this build (the entry points missing), or null. `npm start` has just built, and
 * `tsc -b` does not write again what its dist/tsconfig.tsbuildinfo says is up to date, even when the file was deleted
 * since: "main.js is missing: run `npm run build` first" sent a newcomer round the same loop.
 */
export function missingBuild(rootDir = root) {
  const missing = SERVICES.map((name) => entryPointOf(name, rootDir)).filter((file) => !existsSync(file));
  if (missing.length === 0) return null;
  return (
    `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing after the build (tsc -b writes nothing for a project its ` +
    'dist/tsconfig.tsbuildinfo calls up to date): run `npx tsc -b --force`, then start again'
  );
}

/** Back-off and crash-loop limits of the supervisor (override any of them with `supervise: {...}`). */
export const SUPERVISION = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  /** Up this long, a child's back-off starts again from initialDelayMs (Kubernetes waits 10 minutes). */
  resetAfterMs: 60_000,
  /** This many exits in a row before ever becoming ready is a crash loop: the stack stops. */
  crashLoopLimit: 5,
  /** A start that is not ready within this time is killed and counts as a failed start. */
  readyTimeoutMs: 60_000,
};

/** What the back-off after a child's `exits`-th exit in a row is: initialDelayMs doubling, at most maxDelayMs. */
export const backoffDelay = (exits, supervision = SUPERVISION) => Math.min(supervision.maxDelayMs, supervision.initialDelayMs * 2 ** Math.max(0, exits - 1));

/** The ports `npm start` asks for when their variable is unset (README, "Configuration"); `0` picks a free one. */
export const DEFAULT_PORTS = { EMBEDDED_PG_PORT: 54329, USER_PORT: 3001, PRODUCT_PORT: 3002, ORDER_PORT: 3003, GATEWAY_PORT: 8080, GATEWAY_METRICS_PORT: 9464 };
/** The admin account `npm start` ensures when ADMIN_EMAIL is unset, and the order service's client (the Postman environment names both). */
export const DEFAULT_ADMIN_EMAIL = 'admin@ecommerce.local';
export const ORDER_CLIENT_ID = 'order-service';

/** Secrets for a local run, generated once and kept under the data folder so restarts keep sessions valid. */
export function localSecrets(dataDir) {
  const file = join(dataDir, 'secrets.json');
  const existing = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const gen = () => randomBytes(18).toString('base64url');
  const secrets = { adminPassword: gen(), orderClientSecret: gen(), userDbPassword: gen(), productDbPassword: gen(), orderDbPassword: gen(), ...existing };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  const keyFile = join(dataDir, 'jwt-private.pem');
  if (!existsSync(keyFile)) writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  return { ...secrets, keyFile };
}

/**
 * A variable npm start reads, empty counting as unset as in the services' config (`ADMIN_PASSWORD=` in a shell or an
 * env file): with `??` an empty ADMIN_PASSWORD reached the user service, whose config reads it as unset, so no admin
 * was made and the start printed an empty login; an empty DATABASE_NAME failed the provisioning.
 */
const settingOf = (env, name) => (env[name] === '' ? undefined : env[name]);

/**
 * A port variable as claimPort takes it: empty counts as unset, as in the services' config; anything but decimal digits
 * is NaN, which claimPort names (Number() alone took "0x10" for port 16, "1e3" for 1000 and " " for 0, a free port).
 */
export function portOf(env, variable, dflt) {
  const value = env[variable];
  if (value === undefined || value === '') return dflt;
  return /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
}

/**
 * What `npm start` shows of a line a child wrote (null: nothing; all of it is in .data/logs): its warnings and errors,
 * and text that is not JSON as it is. A request line is shown by what it answered (`GET /product 503`, its reqId to
 * find it in the log), not by its message alone: every one said "[gateway] request".
 */
export function consoleLine(name, line) {
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return `[${name}] ${line}`;
  }
  if (typeof entry !== 'object' || entry === null) return `[${name}] ${line}`;
  if (!(entry.level >= 40)) return null;
  const request = entry.msg === 'request' && typeof entry.method === 'string' && typeof entry.path === 'string';
  // The start-up's own probes: a /readyz 503 while a service waits for its database is expected, and one that never
  // turns 200 is said by the supervisor ("did not become ready").
  if (request && OPERATIONAL_PATHS.has(entry.route)) return null;
  const what = request ? `${entry.method} ${entry.path} ${entry.status}${entry.reqId ? ` (reqId ${entry.reqId})` : ''}` : (entry.msg ?? '');
  return `[${name}] ${what} ${entry.err?.message ?? ''}`.trim();
}

/** Port 0: the port the system hands out now. Otherwise the port, once we could bind it ourselves. */
export async function claimPort(host, port, variable) {
  // Not a port number (USER_PORT=abc, 70000): named with its variable, not Node's "options.port should be >= 0 and < 65536".
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw Object.assign(new Error(`${variable} must be a port number from 0 to 65535 (0 picks a free port)`), { code: 'ERR_SOCKET_BAD_PORT', variable });
  }
  // 0: a free port from below the kernel's ephemeral range, which no outgoing connection takes meanwhile.
  if (port === 0) return freePort(host);
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', (err) =>
      reject(
        Object.assign(
          new Error(
            err.code === 'EADDRINUSE'
              ? `${host}:${port} (${variable}) is already in use by another process: stop it, or set ${variable}=0 to pick a free port`
              : `cannot listen on ${host}:${port} (${variable}): ${err.message}`,
          ),
          { code: err.code, where: `${host}:${port} (${variable})`, variable },
        ),
      ),
    );
    probe.listen(port, host, () => {
      const bound = probe.address().port;
      probe.close(() => resolvePort(bound));
    });
  });
}

/**
 * The port of `npm test`'s embedded PostgreSQL: EMBEDDED_PG_TEST_PORT when set (a taken one is named as claimPort
 * names it), else a free port from below the kernel's ephemeral range, reserved across processes (the kit's
 * freePort), as every port the tests pick. The fixed 54330 it was lay inside that range (32768-60999 on Linux),
 * where any outgoing connection on the machine may hold it, and then the whole run failed before its first test.
 */
export function testPostgresPort(env) {
  return claimPort('127.0.0.1', portOf(env, 'EMBEDDED_PG_TEST_PORT', 0), 'EMBEDDED_PG_TEST_PORT');
}

/**
 * claimPort for each [host, port, variable], by variable. One taken port is named as claimPort names it; several
 * are named together: a start beside another platform (another checkout's `npm start`) was refused one port at a
 * time, EMBEDDED_PG_PORT, then USER_PORT, and so on, six tries to learn what one message can say.
 */
async function claimPorts(wanted) {
  const claimed = {};
  const inUse = [];
  for (const [host, port, variable] of wanted) {
    try {
      claimed[variable] = await claimPort(host, port, variable);
    } catch (err) {
      if (err.code !== 'EADDRINUSE') throw err;
      inUse.push(err);
    }
  }
  if (inUse.length === 1) throw inUse[0];
  if (inUse.length > 1) {
    throw new Error(
      `${inUse.map((e) => e.where).join(', ')} are already in use by other processes (another platform running?): ` +
        `stop them, or set ${inUse.map((e) => `${e.variable}=0`).join(' ')} to pick free ports`,
    );
  }
  return claimed;
}

const exited = (child) => child.exitCode !== null || child.signalCode !== null;

/**
 * The database the platform provisions (DATABASE_NAME overrides): the one DATABASE_URL names, unless that is the
 * server's maintenance database (`postgres`) or a template, which the platform must not take over (its
 * provisioning revokes PUBLIC's rights on its database): then `ecommerce`, like the embedded server's.
 */
export function platformDatabase(adminUrl) {
  const named = adminUrl ? decodeURIComponent(new URL(adminUrl).pathname.slice(1)) : '';
  return named && !['postgres', 'template0', 'template1'].includes(named) ? named : 'ecommerce';
}

/**
 * DATABASE_URL as a message may show it: its password hidden. Null when it is no PostgreSQL URL, which a start is
 * refused for before anything starts: it was refused with "Invalid URL", or with pg's "connect ECONNREFUSED
 * 127.0.0.1:1" after the ports were taken, neither naming the setting that was wrong.
 */
export function shownAdminUrl(adminUrl) {
  let url;
  try {
    url = new URL(adminUrl);
  } catch {
    return null;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return null;
  if (url.password) url.password = '***';
  return url.toString();
}

/**
 * The data folder's `logs`, made: the first write of a start. A folder that cannot be one (a file in the way, no right
 * to write, a read-only disk) was a bare `ENOTDIR: not a directory, mkdir '<dir>/logs'`, naming neither the folder
 * nor the variable that chose it.
 */
function makeLogDir(dataDir, chosenBy) {
  const logDir = join(dataDir, 'logs');
  try {
    mkdirSync(logDir, { recursive: true });
  } catch (err) {
    const why =
      err.code === 'ENOTDIR' || err.code === 'EEXIST'
        ? 'a file is in the way (it, or a folder above it, is a file)'
        : err.code === 'EACCES' || err.code === 'EPERM'
          ? 'this user may not write there'
          : err.code === 'EROFS'
            ? 'it is on a read-only file system'
            : err.message;
    throw new Error(`the data folder ${dataDir}${chosenBy ? ` (${chosenBy})` : ''} cannot be used: ${why}`, { cause: err });
  }
  return logDir;
}

/**
 * @param {{ env?: NodeJS.ProcessEnv, dataDir?: string, freePorts?: boolean,
 *           supervise?: boolean | Partial<typeof SUPERVISION>,
 *           onLine?: (service: string, line: string) => void,
 *           onCrash?: (service: string, code: number|null, signal: string|null, tail: string[]) => void,
 *           onEvent?: (event: { service: string, event: string, message: string, [key: string]: unknown }) => void,
 *           onFatal?: (message: string) => void, signal?: AbortSignal,
 *           serviceEnv?: Record<string, Record<string,string>>, nodeArgs?: Record<string, string[]> }} opts
 */
export async function startStack(opts = {}) {
  const env = opts.env ?? process.env;
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : defaultDataDir(env);
  const logDir = makeLogDir(dataDir, !opts.dataDir && settingOf(env, 'DATA_DIR') !== undefined ? 'DATA_DIR' : '');
  // Before any port or database is taken: nothing could start.
  const unbuilt = missingBuild();
  if (unbuilt) throw new Error(unbuilt);
  const unlock = lockDataDir(dataDir);
  const supervision = opts.supervise ? { ...SUPERVISION, ...(typeof opts.supervise === 'object' ? opts.supervise : {}) } : null;
  const host = settingOf(env, 'HOST') ?? '127.0.0.1';
  const portSetting = (name, dflt) => (opts.freePorts ? 0 : portOf(env, name, dflt));
  const stackLog = createWriteStream(join(logDir, 'stack.log'), { flags: 'a' });
  /** Supervisor events: one JSON line in logs/stack.log, and onEvent (npm start prints them). */
  const report = (level, service, event, message, extra = {}) => {
    if (!stackLog.writableEnded) stackLog.write(`${JSON.stringify({ level, time: Date.now(), service: 'stack', child: service, event, msg: message, ...extra })}\n`);
    opts.onEvent?.({ service, event, message, level, ...extra });
  };
  /** @type {Map<string, import('node:child_process').ChildProcess>} */
  const children = new Map();
  const supervised = new Map(); // name -> { exits, startFailures, timer, resetTimer, waiters }
  let stopping = false;
  let fatal = null;
  let db = null;

  let stopped = null;
  /** Stops every child (SIGTERM, SIGKILL after 15 s) and the embedded database; safe to call twice. */
  function stop() {
    stopped ??= (async () => {
      stopping = true;
      for (const s of supervised.values()) {
        clearTimeout(s.timer);
        clearTimeout(s.resetTimer);
        for (const w of s.waiters.splice(0)) w.reject(fatal ?? new Error('the stack was stopped during start-up'));
      }
      for (const child of children.values()) if (!exited(child)) child.kill('SIGTERM');
      const deadline = Date.now() + 15_000;
      while ([...children.values()].some((c) => !exited(c)) && Date.now() < deadline) await sleep(100);
      for (const child of children.values()) if (!exited(child)) child.kill('SIGKILL');
      if (db) await db.stop().catch(() => undefined);
      await new Promise((r) => stackLog.end(r));
      unlock();
    })();
    return stopped;
  }

  /** A crash loop (or a start that cannot succeed): stop everything and say why, once. */
  function giveUp(message) {
    if (fatal || stopping) return;
    fatal = new Error(message);
    report(60, undefined, 'fatal', message);
    for (const state of supervised.values()) for (const w of state.waiters.splice(0)) w.reject(fatal);
    stop().then(() => opts.onFatal?.(message));
  }

  const backoff = (state) => backoffDelay(state.exits, supervision);
  const stateOf = (name) => {
    if (!supervised.has(name)) supervised.set(name, { exits: 0, startFailures: 0, timer: undefined, resetTimer: undefined, waiters: [] });
    return supervised.get(name);
  };

  // opts.signal stops the stack, also a start still under way (Ctrl-C during npm start's start-up): nothing left
  // running; the start rejects.
  opts.signal?.addEventListener('abort', () => void stop(), { once: true });
  if (opts.signal?.aborted) void stop();
  try {
    const secrets = localSecrets(dataDir);
    // Each database has roles of its own (databaseRole: roles are cluster-wide), so stacks on one server in different
    // databases never reset each other's passwords; two stacks on one database must agree on them.
    // USER_DB_PASSWORD, PRODUCT_DB_PASSWORD and ORDER_DB_PASSWORD set them; otherwise they are this data folder's.
    for (const [key, name] of [['userDbPassword', 'USER_DB_PASSWORD'], ['productDbPassword', 'PRODUCT_DB_PASSWORD'], ['orderDbPassword', 'ORDER_DB_PASSWORD']]) {
      if (env[name]) secrets[key] = env[name];
    }
    let adminUrl = env.DATABASE_URL;
    let embedded = false;
    const adminUrlShown = adminUrl ? shownAdminUrl(adminUrl) : null;
    if (adminUrl && adminUrlShown === null) {
      // Not echoed: a value that is no URL may still hold a password.
      throw new Error(
        'DATABASE_URL is not a PostgreSQL URL: give an admin connection to a server of your own, postgres://user:password@host:5432/database, ' +
          'or leave it unset for an embedded PostgreSQL',
      );
    }
    // The data folder is ours (lockDataDir): a PostgreSQL still serving it was left by a platform killed outright, and
    // holds the port this start is about to claim.
    if (!adminUrl) {
      const orphan = await stopOrphanPostgres(join(dataDir, 'postgres'));
      if (orphan) report(40, 'postgres', 'orphan-stopped', `stopped the embedded PostgreSQL (pid ${orphan}) that a platform killed outright had left running on ${join(dataDir, 'postgres')}`, { pid: orphan });
    }
    // Every port is tried before any is refused, so that all the taken ones are named at once.
    const claimed = await claimPorts([
      ...(adminUrl ? [] : [['127.0.0.1', portSetting('EMBEDDED_PG_PORT', DEFAULT_PORTS.EMBEDDED_PG_PORT), 'EMBEDDED_PG_PORT']]),
      [host, portSetting('USER_PORT', DEFAULT_PORTS.USER_PORT), 'USER_PORT'],
      [host, portSetting('PRODUCT_PORT', DEFAULT_PORTS.PRODUCT_PORT), 'PRODUCT_PORT'],
      [host, portSetting('ORDER_PORT', DEFAULT_PORTS.ORDER_PORT), 'ORDER_PORT'],
      [host, portSetting('GATEWAY_PORT', DEFAULT_PORTS.GATEWAY_PORT), 'GATEWAY_PORT'],
      // The gateway's own metrics are off its public port, like an ingress controller's.
      [host, portSetting('GATEWAY_METRICS_PORT', DEFAULT_PORTS.GATEWAY_METRICS_PORT), 'GATEWAY_METRICS_PORT'],
    ]);
    const pgPort = adminUrl ? null : claimed.EMBEDDED_PG_PORT;
    const ports = { user: claimed.USER_PORT, product: claimed.PRODUCT_PORT, order: claimed.ORDER_PORT, gateway: claimed.GATEWAY_PORT };
    const gatewayMetricsPort = claimed.GATEWAY_METRICS_PORT;
    // Reach the services where they listen (a wildcard HOST listens on loopback too).
    const reachAt = ['0.0.0.0', '::'].includes(host) ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    const urls = Object.fromEntries(Object.entries(ports).map(([k, p]) => [k, `http://${reachAt}:${p}`]));

    if (!adminUrl) {
      const pgLog = createWriteStream(join(logDir, 'postgres.log'), { flags: 'a' });
      const startDb = () => startEmbeddedPostgres({ dir: join(dataDir, 'postgres'), port: pgPort, log: (line) => pgLog.write(`${line}\n`) });
      // Said once the data folder is ours and the ports are free: before, a start refused for either said it too.
      report(30, 'postgres', 'starting', `no DATABASE_URL: starting an embedded PostgreSQL (data under ${join(dataDir, 'postgres')})`);
      db = await startDb();
      // Stopped while the server was starting: stop() found no server to stop.
      if (stopping) {
        await db.stop().catch(() => undefined);
        throw new Error('the stack was stopped during start-up');
      }
      adminUrl = db.adminUrl;
      embedded = true;
      if (supervision) {
        const superviseDb = (current) => {
          current.child.once('exit', (code, signal) => {
            if (stopping || db !== current) return;
            const state = stateOf('postgres');
            state.exits++;
            clearTimeout(state.resetTimer);
            const delay = backoff(state);
            report(50, 'postgres', 'exited', `embedded PostgreSQL exited unexpectedly (code ${code}, signal ${signal}); restarting in ${delay / 1000} s`, { code, signal, restart: state.exits, delayMs: delay });
            const again = () => {
              if (stopping) return;
              startDb().then(
                (next) => {
                  if (stopping) return void next.stop();
                  db = next;
                  state.startFailures = 0;
                  report(30, 'postgres', 'restarted', `embedded PostgreSQL is back (pid ${next.child.pid})`, { pid: next.child.pid, restart: state.exits });
                  state.resetTimer = setTimeout(() => (state.exits = 0), supervision.resetAfterMs).unref();
                  superviseDb(next);
                },
                (err) => {
                  state.startFailures++;
                  state.exits++;
                  if (state.startFailures >= supervision.crashLoopLimit) return giveUp(`embedded PostgreSQL failed to start ${state.startFailures} times in a row (crash loop): ${err.message}`);
                  const wait = backoff(state);
                  report(50, 'postgres', 'start-failed', `embedded PostgreSQL did not start (${err.message}); retrying in ${wait / 1000} s`, { delayMs: wait });
                  state.timer = setTimeout(again, wait);
                },
              );
            };
            state.timer = setTimeout(again, delay);
          });
        };
        superviseDb(db);
      }
    }
    const database = settingOf(env, 'DATABASE_NAME') ?? platformDatabase(embedded ? null : adminUrl);
    const roles = {
      user: { role: databaseRole(database, 'user'), password: secrets.userDbPassword, schema: 'users' },
      product: { role: databaseRole(database, 'product'), password: secrets.productDbPassword, schema: 'catalog' },
      order: { role: databaseRole(database, 'order'), password: secrets.orderDbPassword, schema: 'orders' },
    };
    await provisionDatabase(adminUrl, database, Object.values(roles)).catch((err) => {
      if (embedded) throw err;
      throw new Error(`cannot provision the database "${database}" through DATABASE_URL (${adminUrlShown}): ${err.message}`, { cause: err });
    });
    const admin = { email: settingOf(env, 'ADMIN_EMAIL') ?? DEFAULT_ADMIN_EMAIL, password: settingOf(env, 'ADMIN_PASSWORD') ?? secrets.adminPassword };
    const orderClient = { id: ORDER_CLIENT_ID, secret: secrets.orderClientSecret, scopes: ['reservations:write', 'reservations:read'] };
    const adminDbUrl = new URL(adminUrl);
    adminDbUrl.pathname = `/${database}`;
    writeFileSync(join(dataDir, 'stack.json'), JSON.stringify({ databaseUrl: adminDbUrl.toString(), ports, gatewayMetricsPort, tracesUrl: tracesUrlOf(env) }, null, 2), { mode: 0o600 });

    const common = { HOST: host, USER_SERVICE_URL: urls.user, PRODUCT_SERVICE_URL: urls.product, ORDER_SERVICE_URL: urls.order };
    const perService = {
      // The gateway (on loopback) is the user service's only proxy; it sets X-Forwarded-For to the client.
      user: { DATABASE_URL: serviceUrl(adminUrl, database, roles.user), JWT_PRIVATE_KEY_FILE: secrets.keyFile, ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password, SERVICE_CLIENTS: JSON.stringify([orderClient]), TRUST_PROXY: 'loopback' },
      product: { DATABASE_URL: serviceUrl(adminUrl, database, roles.product) },
      order: { DATABASE_URL: serviceUrl(adminUrl, database, roles.order), SERVICE_CLIENT_ID: orderClient.id, SERVICE_CLIENT_SECRET: orderClient.secret },
      // GATEWAY_PORT wins over PORT in the gateway's config (the name the docs use): the user's own setting
      // (0, or the port asked for) must not reach it, only the port claimed here.
      gateway: { METRICS_PORT: String(gatewayMetricsPort), GATEWAY_PORT: String(ports.gateway) },
    };
    const tails = new Map();

    const launch = (name) => {
      const main = entryPointOf(name);
      if (!existsSync(main)) throw new Error(missingBuild());
      const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
      const tracing = tracingOf(env, name);
      const child = spawn(process.execPath, [...NODE_HEAP_ARGS, ...tracing.args, ...(opts.nodeArgs?.[name] ?? []), main], {
        env: { ...env, ...common, ...perService[name], ...tracing.env, PORT: String(ports[name]), ...(opts.serviceEnv?.[name] ?? {}) },
        // fd 3 is the IPC channel on which the kit reports the port it listens on (lifecycle.ts).
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      child.listeningPort = undefined;
      child.on('message', (m) => {
        if (m && typeof m === 'object' && m.type === 'listening') child.listeningPort = m.port;
      });
      child.on('error', (err) => report(50, name, 'spawn-error', `${name}: ${err.message}`));
      children.set(name, child);
      const tail = [];
      tails.set(child, tail);
      for (const stream of [child.stdout, child.stderr]) {
        let buf = '';
        stream.on('data', (chunk) => {
          buf += chunk;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            log.write(`${line}\n`);
            tail.push(line);
            if (tail.length > 20) tail.shift();
            opts.onLine?.(name, line);
          }
        });
      }
      child.once('exit', (code, signal) => {
        log.end();
        if (stopping || children.get(name) !== child || child.intentional) return;
        opts.onCrash?.(name, code, signal, tail);
        if (supervision) onChildExit(name, child, code, signal);
      });
      return child;
    };

    /** Resolves once this child listens on its port (its own IPC word) and its /readyz answers 200. */
    async function waitReady(name, child, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && !stopping) {
        if (exited(child)) {
          const last = (tails.get(child) ?? []).slice(-3).join(' | ');
          throw new Error(`${name} exited during start-up (code ${child.exitCode}, signal ${child.signalCode}): ${last || 'no output'}; see ${join(logDir, `${name}.log`)}`);
        }
        if (child.listeningPort !== undefined && child.listeningPort !== ports[name]) {
          throw new Error(`${name} listens on port ${child.listeningPort}, not ${ports[name]}`);
        }
        if (child.listeningPort === ports[name]) {
          try {
            const res = await fetch(`${urls[name]}/readyz`, { signal: AbortSignal.timeout(1000) });
            await res.arrayBuffer();
            if (res.status === 200) return;
          } catch {
            // not answering yet
          }
        }
        await sleep(150);
      }
      if (!stopping) throw new Error(`${name} did not become ready within ${timeoutMs / 1000} s; see ${join(logDir, `${name}.log`)}`);
    }

    /** Supervisor: a child died on its own. Start it again after the back-off, or give up on a crash loop. */
    function onChildExit(name, child, code, signal) {
      const state = stateOf(name);
      clearTimeout(state.resetTimer);
      state.exits++;
      if (!child.becameReady) state.startFailures++;
      if (state.startFailures >= supervision.crashLoopLimit) {
        const last = (tails.get(child) ?? []).slice(-3).join(' | ');
        giveUp(`the ${name} service died ${state.startFailures} times in a row before becoming ready (crash loop); last exit code ${code}, signal ${signal}: ${last || 'no output'}; see ${join(logDir, `${name}.log`)}`);
        return;
      }
      const delay = backoff(state);
      report(50, name, 'exited', `${name} exited unexpectedly (code ${code}, signal ${signal}); restarting in ${delay / 1000} s`, { code, signal, restart: state.exits, delayMs: delay });
      state.timer = setTimeout(() => relaunch(name, state), delay);
    }

    /** Starts `name` and watches it become ready; if it does not, ends it (the exit handler counts that). */
    function relaunch(name, state) {
      if (stopping) return;
      const started = Date.now();
      let child;
      try {
        child = launch(name);
      } catch (err) {
        giveUp(err.message);
        return;
      }
      waitReady(name, child, supervision.readyTimeoutMs).then(
        () => {
          if (stopping || children.get(name) !== child) return;
          child.becameReady = true;
          state.startFailures = 0;
          if (state.exits > 0) report(30, name, 'restarted', `${name} is back (pid ${child.pid}, ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`, { pid: child.pid, restart: state.exits });
          state.resetTimer = setTimeout(() => {
            if (children.get(name) === child && !exited(child)) state.exits = 0;
          }, supervision.resetAfterMs).unref();
          for (const w of state.waiters.splice(0)) w.resolve();
        },
        () => {
          if (!exited(child)) child.kill('SIGKILL');
        },
      );
    }

    /** Starts one service again with the same environment (after a crash or a kill in a fault test). */
    const restartService = async (name) => {
      const state = supervised.get(name);
      if (state) clearTimeout(state.timer);
      const old = children.get(name);
      if (old && !exited(old)) {
        old.intentional = true;
        const gone = new Promise((r) => old.once('exit', r));
        old.kill('SIGTERM');
        await gone;
      }
      const child = launch(name);
      await waitReady(name, child, SUPERVISION.readyTimeoutMs);
      child.becameReady = true;
      return child;
    };

    /** First start. Unsupervised, a service that does not come up fails the start; supervised, it is retried like any crash. */
    const firstStart = async (name) => {
      // Stopped meanwhile (opts.signal): start nothing more; a waiter pushed now would never be settled.
      if (stopping) throw fatal ?? new Error('the stack was stopped during start-up');
      if (!supervision) {
        const child = launch(name);
        await waitReady(name, child, SUPERVISION.readyTimeoutMs);
        child.becameReady = true;
        return;
      }
      const state = stateOf(name);
      const ready = new Promise((resolveReady, rejectReady) => state.waiters.push({ resolve: resolveReady, reject: rejectReady }));
      relaunch(name, state);
      await ready;
    };
    await Promise.all(SERVICES.filter((n) => n !== 'gateway').map(firstStart));
    await firstStart('gateway');
    if (fatal) throw fatal;
    return {
      adminUrl: adminDbUrl.toString(),
      database,
      /** Each service's login role, password and schema. */
      roles,
      ports,
      gatewayMetricsPort,
      urls,
      admin,
      children,
      logDir,
      embedded,
      /** Whether the services trace, as the preload decides it: the endpoint they export to, or why not. */
      tracing: tracingDecision(env),
      stop,
      restart: restartService,
      secrets,
      orderClient,
      /** The embedded PostgreSQL's server process id (null with DATABASE_URL). */
      postgresPid: () => db?.child.pid ?? null,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Peak resident set (VmHWM) of a process, in MiB, from /proc. */
export function peakRssMiB(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}
