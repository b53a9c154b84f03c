import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '@ecommerce/kit';
import { portReservationDir } from '../src/free-port.js';

const freePortModule = new URL('../src/free-port.js', import.meta.url).href;

/**
 * Another process that picks `count` ports from [low, high) with the kit's freePort, prints them as one JSON
 * line and stays alive (holding them, as a stack does between its pick and its services' listen) until its
 * stdin is closed (it exits on its own) or it is killed; with `exitAfter`, it exits once they are printed.
 */
function picker(low: number, high: number, count: number, exitAfter = false): { child: ChildProcess; ports: Promise<number[]>; exited: Promise<unknown> } {
  const code = `const { freePort } = await import(${JSON.stringify(freePortModule)});
const ports = [];
for (let i = 0; i < ${count}; i++) ports.push(await freePort('127.0.0.1', { low: ${low}, high: ${high} }));
console.log(JSON.stringify(ports));
${exitAfter ? '' : "process.stdin.resume(); process.stdin.on('end', () => process.exit(0));"}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const ports = new Promise<number[]>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))) as number[]);
    });
    child.once('exit', (c) => reject(new Error(`picker exited (${c}) before printing its ports`)));
  });
  return { child, ports, exited };
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
    const a = picker(low, high, 15);
    const b = picker(low, high, 15);
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
    const holder = picker(low, high, 1);
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
    const p = picker(low, high, 3, true);
    const ports = await p.ports;
    await p.exited;
    assert.deepEqual(ports.filter((port) => existsSync(join(portReservationDir(), String(port)))), []);
  });
});

