import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { freePort } from '@ecommerce/kit';
import { portReservationDir } from '../src/free-port.js';

const freePortModule = new URL('../src/free-port.js', import.meta.url).href;

interface PickerOptions {
  /** Exit once the ports are printed (its markers go with it) instead of holding them until stdin ends. */
  exitAfter?: boolean;
  /** Ask for all the ports at once (concurrent picks in one process) instead of one after another. */
  together?: boolean;
  /** TMPDIR of the picker: where its marker folder is. */
  tmp?: string;
  /** Wait for this file to exist before picking, so that pickers start together. */
  go?: string;
  /** Run as this user (and group). */
  uid?: number;
}

/**
 * Another process that picks `count` ports from `pool` with the kit's freePort, prints them as one JSON line and
 * stays alive (holding them, as a stack does between its pick and its services' listen) until its stdin is closed
 * (`stop`: it exits on its own) or it is killed; with `exitAfter`, it exits once they are printed.
 */
function picker(pool: { low: number; high: number }, count: number, opts: PickerOptions = {}) {
  const pick = `freePort('127.0.0.1', ${JSON.stringify(pool)})`;
  const code = `const { freePort } = await import(${JSON.stringify(freePortModule)});
const { existsSync } = await import('node:fs');
${opts.go ? `while (!existsSync(${JSON.stringify(opts.go)})) await new Promise((r) => setTimeout(r, 1));` : ''}
${opts.together ? `const ports = await Promise.all(Array.from({ length: ${count} }, () => ${pick}));` : `const ports = [];\nfor (let i = 0; i < ${count}; i++) ports.push(await ${pick});`}
console.log(JSON.stringify(ports));
${opts.exitAfter ? '' : "process.stdin.resume(); process.stdin.on('end', () => process.exit(0));"}`;
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['pipe', 'pipe', 'inherit'],
    ...(opts.tmp === undefined ? {} : { env: { ...process.env, TMPDIR: opts.tmp } }),
    ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid }),
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const ports = new Promise<number[]>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))) as number[]);
    });
    child.once('exit', (c) => reject(new Error(`picker exited (${c}) before printing its ports`)));
  });
  const stop = async () => {
    child.stdin!.end();
    await exited;
  };
  return { child, ports, exited, stop };
}

/** A narrow pool of its own per run, so that two runs side by side (or other pickers) rarely share it. */
const narrowPool = (size: number): { low: number; high: number } => {
  const low = 20000 + Math.floor(Math.random() * (12000 - size));
  return { low, high: low + size };
};

const ephemeralLow = (): number | null => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return null;
  }
};

const listen = (port: number): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });

describe('freePort', () => {
  it('when many ports are asked for at once, then each is distinct, listenable, and outside the range outgoing connections take', async () => {
    const low = ephemeralLow();
    const ports = await Promise.all(Array.from({ length: 40 }, () => freePort()));
    assert.equal(new Set(ports).size, ports.length, 'no port handed out twice');
    if (low !== null) assert.ok(ports.every((p) => p >= 20000 && p < low), `below ${low}: ${ports.join(', ')}`);
    const servers = await Promise.all(ports.map(listen));
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  it('when outgoing connections are opened meanwhile, then none takes the port handed out (their local ports are ephemeral)', async (t) => {
    const low = ephemeralLow();
    if (low === null) return t.skip('no /proc ephemeral range here');
    const target = await listen(0);
    const { port: targetPort } = target.address() as { port: number };
    const picked = await freePort();
    const sockets = await Promise.all(
      Array.from({ length: 200 }, () => new Promise<ReturnType<typeof connect>>((resolve, reject) => {
        const socket = connect(targetPort, '127.0.0.1', () => resolve(socket)).once('error', reject);
      })),
    );
    try {
      assert.ok(sockets.every((s) => (s.localPort ?? 0) >= low), 'outgoing connections use the ephemeral range');
      assert.ok(!sockets.some((s) => s.localPort === picked));
      (await listen(picked)).close();
    } finally {
      for (const s of sockets) s.destroy();
      target.close();
    }
  });

  it('when two processes pick from the same ports while both live, then no port is handed to both (a probe alone let both have it)', async () => {
    const { low, high } = narrowPool(40);
    const a = picker({ low, high }, 15);
    const b = picker({ low, high }, 15);
    try {
      const [pa, pb] = await Promise.all([a.ports, b.ports]);
      const inPool = (p: number) => p >= low && p < high;
      assert.ok([...pa, ...pb].filter(inPool).length >= 25, `most picks from the pool: ${pa} / ${pb}`);
      const shared = pa.filter((p) => pb.includes(p));
      assert.deepEqual(shared, [], `handed to both processes: ${shared.join(', ')}`);
    } finally {
      a.child.stdin!.end();
      b.child.stdin!.end();
      await Promise.all([a.exited, b.exited]);
    }
  });

  it('when the process holding a port is alive it is skipped; once that process was SIGKILLed, the port is handed out again', async () => {
    const { low, high } = narrowPool(1);
    const holder = picker({ low, high }, 1);
    try {
      const [held] = await holder.ports;
      assert.equal(held, low);
      const whileHeld = await freePort('127.0.0.1', { low, high });
      assert.notEqual(whileHeld, low, 'a live holder keeps its port');
    } finally {
      holder.child.kill('SIGKILL');
      await holder.exited;
    }
    assert.ok(existsSync(join(portReservationDir(), String(low))), 'a SIGKILLed process leaves its marker behind');
    assert.equal(await freePort('127.0.0.1', { low, high }), low, 'the marker of a dead process is taken over');
  });

  it('when a process exits on its own, then its reservations go with it', async () => {
    const { low, high } = narrowPool(3);
    const p = picker({ low, high }, 3, { exitAfter: true });
    const ports = await p.ports;
    await p.exited;
    assert.deepEqual(ports.filter((port) => existsSync(join(portReservationDir(), String(port)))), []);
  });

  describe('with a temp folder of its own (markers planted, other users)', () => {
    /** Ports below where the kit's own picks start (20000): no other test's pick meets these. */
    const lowPool = (size: number): { low: number; high: number } => {
      const low = 12000 + Math.floor(Math.random() * (8000 - size));
      return { low, high: low + size };
    };
    /** A temp folder every user may enter, as /tmp is; its marker folder is made by the first picker. */
    const ownTmp = (): string => {
      const dir = mkdtempSync(join(tmpdir(), 'free-port-test-'));
      chmodSync(dir, 0o755);
      return dir;
    };
    const deadPid = async (): Promise<number> => {
      const child = spawn(process.execPath, ['-e', '']);
      await new Promise((resolve) => child.once('exit', resolve));
      return child.pid!;
    };

    /**
     * A picker with TMPDIR set to `tmp` that, for each line `{ low, high, count }` on its stdin, asks for `count`
     * ports of that pool at once and prints them as one JSON line; it holds every port until stdin ends.
     */
    function roundPicker(tmp: string) {
      const code = `const { freePort } = await import(${JSON.stringify(freePortModule)});
const { createInterface } = await import('node:readline');
for await (const line of createInterface({ input: process.stdin })) {
  const { low, high, count } = JSON.parse(line);
  const ports = await Promise.all(Array.from({ length: count }, () => freePort('127.0.0.1', { low, high })));
  console.log(JSON.stringify(ports));
}
process.exit(0);`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, TMPDIR: tmp } });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const lines: string[] = [];
      const waiting: ((line: string) => void)[] = [];
      let out = '';
      child.stdout!.on('data', (chunk) => {
        out += chunk;
        for (let i = out.indexOf('\n'); i >= 0; i = out.indexOf('\n')) {
          const line = out.slice(0, i);
          out = out.slice(i + 1);
          const w = waiting.shift();
          failed.shift();
          if (w) w(line);
          else lines.push(line);
        }
      });
      let gone: Error | null = null;
      const failed: ((err: Error) => void)[] = [];
      child.once('exit', (c) => {
        gone = new Error(`picker exited (${c})`);
        for (const f of failed.splice(0)) f(gone);
      });
      const next = (): Promise<number[]> =>
        new Promise<string>((resolve, reject) => {
          const line = lines.shift();
          if (line !== undefined) return resolve(line);
          if (gone) return reject(gone);
          waiting.push(resolve);
          failed.push(reject);
        }).then((line) => JSON.parse(line) as number[]);
      const ask = (pool: { low: number; high: number }, count: number): Promise<number[]> => {
        child.stdin!.write(`${JSON.stringify({ ...pool, count })}\n`);
        return next();
      };
      return { ask, ready: ask({ low: 1, high: 1 }, 0), stop: async () => { child.stdin!.end(); await exited; } };
    }

    it('when many processes at once take over the ports of a dead holder, then no port is handed to two of them (fast-check over counts and pool sizes)', async () => {
      // Every port of the pool holds a SIGKILLed process's marker. Each picker reads it dead, removes it and
      // makes its own; without a lock around that, a second picker that read the same dead pid removed the
      // first one's fresh marker and made its own: both held the port. Each run asks its pickers for 10 rounds,
      // each on fresh ports of its own, all pickers at once; every port stays held until the run ends.
      const dead = await deadPid();
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 3, max: 8 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 4 }), async (processes, each, spare) => {
          const tmp = ownTmp();
          const markers = join(tmp, 'ecommerce-free-ports');
          mkdirSync(markers, { mode: 0o1777 });
          const pickers = Array.from({ length: processes }, () => roundPicker(tmp));
          try {
            await Promise.all(pickers.map((p) => p.ready));
            const size = processes * each + spare;
            let low = 12000 + Math.floor(Math.random() * (8000 - 10 * size));
            const held: number[] = [];
            for (let round = 0; round < 10; round++, low += size) {
              const pool = { low, high: low + size };
              for (let port = pool.low; port < pool.high; port++) writeFileSync(join(markers, String(port)), String(dead));
              held.push(...(await Promise.all(pickers.map((p) => p.ask(pool, each)))).flat());
              const shared = held.filter((port, i) => held.indexOf(port) !== i);
              assert.deepEqual(shared, [], `handed to two live processes: ${shared.join(', ')} (${processes} x ${each} from ${size}, round ${round})`);
            }
          } finally {
            await Promise.all(pickers.map((p) => p.stop()));
            rmSync(tmp, { recursive: true, force: true });
          }
        }),
        { numRuns: 10 },
      );
    });

    it('when a process of another user picks beside them, then its ports are reserved too and no port is handed to two (the marker folder is writable by all, as /tmp)', async (t) => {
      // The folder was made 0o1777 & ~umask = 0o1755: another user's process could not write its marker, so it
      // turned reservations off and its picks were the probe's alone; a later picker found them unmarked.
      if (process.getuid?.() !== 0) return t.skip('needs root to run a picker as another user');
      const tmp = ownTmp();
      const pool = lowPool(4);
      const first = picker(pool, 1, { together: true, tmp });
      const other = picker(pool, 2, { together: true, tmp, uid: 65534, go: join(tmp, 'go') });
      const pickers = [first, other];
      try {
        const a = await first.ports; // the marker folder is made by root
        writeFileSync(join(tmp, 'go'), '');
        const b = await other.ports;
        const last = picker(pool, 3, { together: true, tmp });
        pickers.push(last);
        const c = await last.ports;
        const picks = [...a, ...b, ...c];
        const shared = picks.filter((port, i) => picks.indexOf(port) !== i);
        assert.deepEqual(shared, [], `handed to two live processes: root ${a}, nobody ${b}, root ${c}`);
      } finally {
        await Promise.all(pickers.map((p) => p.stop()));
        rmSync(tmp, { recursive: true, force: true });
      }
    });

    it('when a marker is empty or garbage (a holder killed between creating and writing it), then it is taken over once old, not while fresh', async () => {
      for (const content of ['', 'garbage', '12ab']) {
        const tmp = ownTmp();
        const pool = lowPool(1);
        const file = join(tmp, 'ecommerce-free-ports', String(pool.low));
        mkdirSync(join(tmp, 'ecommerce-free-ports'), { mode: 0o1777 });
        writeFileSync(file, content);
        const fresh = picker(pool, 1, { together: true, tmp });
        try {
          assert.notEqual((await fresh.ports)[0], pool.low, `a fresh ${JSON.stringify(content)} marker may be one being written`);
        } finally {
          await fresh.stop();
        }
        const minuteAgo = new Date(Date.now() - 60_000);
        utimesSync(file, minuteAgo, minuteAgo);
        const later = picker(pool, 1, { together: true, tmp });
        try {
          assert.equal((await later.ports)[0], pool.low, `a ${JSON.stringify(content)} marker a minute old blocked its port for good`);
          assert.deepEqual(readdirSync(join(tmp, 'ecommerce-free-ports')), [String(pool.low)], 'only the new marker (no lock or temp file left)');
        } finally {
          await later.stop();
          rmSync(tmp, { recursive: true, force: true });
        }
      }
    });
  });
});
