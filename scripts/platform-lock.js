// One platform per data folder: its `stack.pid` names the process that runs it (scripts/stack.js takes it).
// Run as a script (npm start's prestart), it refuses a second `npm start` before the build: the build empties and
// rewrites web/dist under the running platform, whose shop answered 405 to `/` and its scripts meanwhile, and it
// took 20 s to learn what the lock says at once. No import of the built packages: it runs before any build.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

/** The data folder `npm start` uses: DATA_DIR, or `.data` in the checkout (DATA_DIR empty too: resolve('') was the working folder). */
export const defaultDataDir = (env = process.env) => resolve(env.DATA_DIR || join(import.meta.dirname, '..', '.data'));

/** Whether `pid` is a live Node.js process (where /proc cannot tell, a live pid counts). */
function isNodeProcess(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  try {
    return /^node/.test(basename(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]));
  } catch {
    return !existsSync('/proc/self');
  }
}

/** Why no platform may start from `dataDir` (another one runs there: pid and port), or null. */
function runningPlatform(dataDir) {
  let pid;
  try {
    pid = Number(readFileSync(join(dataDir, 'stack.pid'), 'utf8').trim());
  } catch {
    return null;
  }
  if (pid === process.pid || !isNodeProcess(pid)) return null;
  let where = '';
  try {
    const { ports } = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8'));
    if (ports?.gateway) where = `, its gateway and shop on port ${ports.gateway}`;
  } catch {
    // not written yet: it is still starting
  }
  return (
    `the platform is already running from ${dataDir} (pid ${pid}${where}): use it, or stop it first (Ctrl-C in its terminal, or kill ${pid}). ` +
    'A second one beside it needs a data folder of its own (DATA_DIR) and ports of its own.'
  );
}

/**
 * Takes the data folder. A second `npm start` in the same checkout met the first's ports and database one at a
 * time, each told as "127.0.0.1:54329 (EMBEDDED_PG_PORT) is already in use by another process: ... set
 * EMBEDDED_PG_PORT=0", then USER_PORT, ... and last "an embedded PostgreSQL already runs": advice that could not work.
 * A stale `stack.pid` (its process gone) is taken over. Returns the release, which removes the file if it is still ours.
 */
export function lockDataDir(dataDir) {
  const file = join(dataDir, 'stack.pid');
  const mine = `${process.pid}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, mine, { flag: 'wx', mode: 0o644 });
      // The start's claim (claimStart, below) is held by stack.pid from here: left behind, a later npm that happened to
      // get its pid would be named as a start still building.
      rmSync(join(dataDir, 'starting.pid'), { force: true });
      return () => {
        try {
          if (readFileSync(file, 'utf8') === mine) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    if (!existsSync(file)) continue; // removed meanwhile: try again
    const running = runningPlatform(dataDir);
    if (running) throw new Error(running);
    rmSync(file, { force: true }); // its process is gone
  }
  throw new Error(`could not take ${file}: another start is taking it at the same time`);
}

/** The command line of `pid` from /proc ('' where it cannot be read). */
const cmdlineOf = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+/g, ' ').trim();
  } catch {
    return '';
  }
};
const parentOf = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
};
/** Whether `pid` is a live npm (it names itself after its command: "npm start", "npm run start"). */
const isNpm = (pid) => /^npm( |$)/.test(cmdlineOf(pid));
/** Whether `pid` is a live `npm start`: a pid written by one long gone may since be another npm's. */
const isNpmStart = (pid) => /^npm (run |run-script )?start( |$)/.test(cmdlineOf(pid));

/**
 * The npm that runs this prestart (npm, then `sh -c`, then this), which lives through the build and the start. Two
 * `npm start` at once in one checkout both passed the check above (no stack.pid yet) and built together: the second
 * failed in the storefront's build with Vite's stack trace ("Found another Vite build process for this project").
 * Its pid in `starting.pid` lets the second say at once what runs there.
 */
function claimStart(dataDir) {
  let npm = 0;
  for (let pid = process.ppid, depth = 0; pid > 1 && depth < 3; pid = parentOf(pid), depth++) {
    if (isNpm(pid)) {
      npm = pid;
      break;
    }
  }
  if (!npm) return null; // not run by npm (or no /proc): nothing lives on to hold it
  const file = join(dataDir, 'starting.pid');
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch {
    return null; // a data folder that cannot be one is named by the start itself (scripts/stack.js)
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${npm}\n`, { flag: 'wx' });
      return null;
    } catch (err) {
      if (err.code !== 'EEXIST') return null;
    }
    const other = Number(readFileSync(file, 'utf8').trim());
    if (other === npm) return null;
    if (Number.isInteger(other) && other > 0 && isNpmStart(other)) {
      return (
        `another npm start (pid ${other}) is building and starting the platform from ${dataDir}: use it once it says it is up, ` +
        `or stop it first (Ctrl-C in its terminal, or kill ${other}). A second one beside it needs a data folder of its own (DATA_DIR) and ports of its own.`
      );
    }
    rmSync(file, { force: true }); // its npm is gone
  }
  return null;
}

if (process.argv[1] === import.meta.filename) {
  const dataDir = defaultDataDir();
  const running = runningPlatform(dataDir) ?? claimStart(dataDir);
  if (running) {
    console.error(`\nstart failed: ${running}`);
    process.exit(1);
  }
}
