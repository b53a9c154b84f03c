// A free port to hand to a process before it starts (the stack and the tests tell each service and its
// clients the port up front). The kernel's own pick (listen on 0) comes from the ephemeral range, which is
// also where every outgoing connection takes its local port: between our probe closing and the service
// binding, any connection on the machine may take it (CI saw a gateway fail with EADDRINUSE that way).
// So the pick is random from below that range, where the kernel never places outgoing connections, and
// probed by listening on it.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const POOL_LOW = 20000;
/** Ports this process handed out: two picks in one process never collide, even before either is bound. */
const handedOut = new Set<number>();

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

/** A port free on `host` now, outside the ephemeral range when there is room below it. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const high = ephemeralPortsFrom();
  for (let attempt = 0; high - POOL_LOW >= 1000 && attempt < 200; attempt++) {
    const port = POOL_LOW + Math.floor(Math.random() * (high - POOL_LOW));
    if (handedOut.has(port)) continue;
    handedOut.add(port); // before the probe: a concurrent pick in this process skips it
    if ((await listenOn(port, host)) === port) return port;
    handedOut.delete(port);
  }
  const port = await listenOn(0, host);
  if (port === null) throw new Error(`no free port on ${host}`);
  return port;
}
