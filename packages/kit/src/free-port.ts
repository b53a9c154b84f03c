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
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
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

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
};

let reservationsOff = false;
let cleanupHooked = false;

/** The folder of markers, shared by every process on the machine that uses this module (same temp folder). */
export function portReservationDir(): string {
  return join(tmpdir(), 'ecommerce-free-ports');
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
      mkdirSync(dir, { recursive: true, mode: 0o1777 });
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o644 });
      reservedHere.push(file);
      if (!cleanupHooked) {
        cleanupHooked = true;
        process.once('exit', releaseReservations);
      }
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        reservationsOff = true;
        return true;
      }
    }
    let holder: number;
    try {
      holder = Number(readFileSync(file, 'utf8'));
    } catch {
      continue; // removed meanwhile: try again
    }
    // A marker being written (empty for an instant) or naming a live process: someone else's.
    if (!Number.isInteger(holder) || holder <= 0 || holder === process.pid || alive(holder)) return false;
    try {
      unlinkSync(file); // its process is gone
    } catch {
      // another process took it over first; the next write decides
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
