// A free port to hand to a process before it starts (the stack and the tests tell each service and its
// clients the port up front). The kernel's own pick (listen on 0) comes from the ephemeral range, which is
// also where every outgoing connection takes its local port: between our probe closing and the service
// binding, any connection on the machine may take it (CI saw a gateway fail with EADDRINUSE that way).
// So the pick is random from below that range, where the kernel never places outgoing connections, and
// probed by listening on it.
//
// Below that range, the only other pickers are our own processes: test files run side by side, each starting
// platforms. A probe proves a port free only at that instant; the stack hands the gateway its port before an
// embedded PostgreSQL has even started (seconds), and a supervised service killed in a fault test leaves its
// port unbound for the back-off. CI saw another process take a gateway's port in such a window (EADDRINUSE on
// all five starts, then a crash loop). So each pick is also reserved across processes: a marker file named by
// the port, holding the picker's process id, made with O_EXCL. Another process skips a port whose marker names
// a live process; a marker whose process is gone (SIGKILL, a crash) is taken over. A process removes its own
// markers when it exits.
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const POOL_LOW = 20000;
/** Ports this process handed out: two picks in one process never collide, even before either is bound. */
const handedOut = new Set<number>();
const reservedHere: string[] = [];

/** The first port of the kernel's ephemeral range (Linux reads it; elsewhere the IANA range, 49152). */
function ephemeralPortsFrom(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 1024) return low;
  } catch {
    // not Linux
  }
  return 49152;
}

function listenOn(port: number, host: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(null) : reject(err)));
    server.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

/** Whether a process of this pid exists (signal 0 reaches it, or is refused because it is another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

let reservationsOff = false;
let cleanupHooked = false;

/** The folder of markers, shared by every process on the machine that uses this module (same temp folder). */
export function portReservationDir(): string {
  return join(tmpdir(), 'ecommerce-free-ports');
}

/**
 * The folder, writable by every user (sticky, as /tmp): mkdir's mode passes through the umask (0o1777 became
 * 0o1755), so a process of another user could not write a marker, turned reservations off and picked by probe alone.
 */
function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o1777 });
  const stat = statSync(dir);
  if ((stat.mode & 0o1777) !== 0o1777 && stat.uid === process.getuid?.()) chmodSync(dir, 0o1777);
}

/**
 * Makes `file` hold `content` if it does not exist, atomically: written under a name only this process uses, then
 * linked into place (link fails when the name exists), so no other process ever reads a marker half written.
 * False when the name exists; throws on any other error.
 */
function createExclusive(file: string, content: string): boolean {
  const own = `${file}.${process.pid}.tmp`;
  writeFileSync(own, content, { mode: 0o644 });
  try {
    linkSync(own, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    try {
      unlinkSync(own);
    } catch {
      // already gone
    }
  }
}

/** A marker no live process can still be writing: a positive pid, or garbage (empty, text) older than this. */
const UNREADABLE_MARKER_STALE_MS = 10_000;

/** Whether the marker at `file` names no live process (a dead pid, or garbage left long enough). */
function stale(file: string): boolean {
  let text: string;
  let mtimeMs: number;
  try {
    text = readFileSync(file, 'utf8');
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return false; // gone meanwhile: the next create decides
  }
  const holder = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(holder) || holder <= 0) return Date.now() - mtimeMs > UNREADABLE_MARKER_STALE_MS;
  return holder !== process.pid && !processAlive(holder);
}

/**
 * Removes the stale marker at `file` so that a create may follow. Only under the port's takeover lock
 * (`<port>.takeover`, made as a marker is), and only after reading it stale under that lock: a marker is removed
 * by someone other than its maker only here, so the file read stale is still the one removed. Without the lock,
 * two processes that both read the same dead pid could both remove and create, the second removing the first's
 * fresh marker, and both held the port. A taker killed while holding the lock leaves the port skipped (leaked).
 */
function removeStale(file: string): void {
  const lock = `${file}.takeover`;
  if (!createExclusive(lock, String(process.pid))) return;
  try {
    if (stale(file)) unlinkSync(file);
  } catch {
    // another user's marker in the sticky folder, or gone: the next create decides
  } finally {
    unlinkSync(lock);
  }
}

/**
 * Claims `port` for this process across processes. False when another live process holds it. If the
 * folder cannot be written at all (read-only temp), reservations are off and the probe alone decides, as before.
 */
function reserve(port: number): boolean {
  if (reservationsOff) return true;
  const dir = portReservationDir();
  const file = join(dir, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      ensureDir(dir);
      if (createExclusive(file, String(process.pid))) {
        reservedHere.push(file);
        if (!cleanupHooked) {
          cleanupHooked = true;
          process.once('exit', releaseReservations);
        }
        return true;
      }
    } catch {
      reservationsOff = true;
      return true;
    }
    if (!stale(file)) return false; // a live process's (or one being written)
    try {
      removeStale(file);
    } catch {
      return false;
    }
  }
  return false;
}

/** Removes this process's markers (on exit; tests call it directly). */
export function releaseReservations(): void {
  for (const file of reservedHere.splice(0)) {
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  }
}

/** Gives up this process's claim on one port (its probe found it taken by a process that is not ours). */
function unreserve(port: number): void {
  const file = join(portReservationDir(), String(port));
  const i = reservedHere.indexOf(file);
  if (i < 0) return;
  reservedHere.splice(i, 1);
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/**
 * A port free on `host` now and reserved for this process, outside the ephemeral range when there is room below
 * it. `pool` narrows the range ([low, high), both below the ephemeral range), for tests that want picks to meet.
 */
export async function freePort(host = '127.0.0.1', pool?: { low: number; high: number }): Promise<number> {
  const high = pool ? Math.min(pool.high, ephemeralPortsFrom()) : ephemeralPortsFrom();
  const low = pool?.low ?? POOL_LOW;
  for (let attempt = 0; high - low >= (pool ? 1 : 1000) && attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port)) continue;
    handedOut.add(port); // before the probe: a concurrent pick in this process skips it
    if (!reserve(port)) {
      handedOut.delete(port);
      continue;
    }
    if ((await listenOn(port, host)) === port) return port;
    unreserve(port);
    handedOut.delete(port);
  }
  const port = await listenOn(0, host);
  if (port === null) throw new Error(`no free port on ${host}`);
  return port;
}
