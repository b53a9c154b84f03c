import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { freePort } from '@ecommerce/kit';

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
});
