// A service process's resident memory around its first outbound HTTP requests (fixtures/http-client-server.ts, run
// by runMain like every service). Both clients parse responses with llhttp compiled to WebAssembly; V8 used to
// recompile it with TurboFan in the background a moment after the first response, and that compilation's memory
// made the process's resident set peak 35-60 MiB above where it settled: the order service's peak in the bench.
// runMain keeps WebAssembly on the baseline compiler. Linux only (reads /proc/<pid>/status).
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const fixture = fileURLToPath(new URL('./fixtures/http-client-server.js', import.meta.url));

/** VmRSS and VmHWM (peak) of a process, in MiB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)![1]);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

describe('a service process and WebAssembly', { skip: !existsSync('/proc/self/status') && 'no /proc' }, () => {
  it('its first outbound requests (undici and fetch) leave no compiler peak in its resident memory', async (t) => {
    const child: ChildProcess = fork(fixture, [], {
      // The stack's heap settings (scripts/stack.js NODE_HEAP_ARGS), so the figures are a service's.
      execArgv: ['--max-old-space-size=128', '--max-semi-space-size=8'],
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    try {
      const [message] = (await once(child, 'message')) as [{ type: string; port: number }];
      assert.equal(message.type, 'listening');
      const base = `http://127.0.0.1:${message.port}`;
      await (await fetch(`${base}/t/fast`)).text();
      await sleep(500);
      const before = memoryOf(child.pid!);
      const res = await fetch(`${base}/t/call?port=${message.port}`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { viaUndici: { fast: true }, viaFetch: { fast: true } });
      // The recompilation started a moment after the first response and held its memory for about a second.
      await sleep(3000);
      const after = memoryOf(child.pid!);
      const rise = after.peak - Math.max(before.peak, before.rss);
      t.diagnostic(`resident MiB before ${before.rss.toFixed(1)} (peak ${before.peak.toFixed(1)}), after ${after.rss.toFixed(1)} (peak ${after.peak.toFixed(1)})`);
      assert.ok(rise < 15, `peak resident memory rose ${rise.toFixed(1)} MiB (from ${before.peak.toFixed(1)} to ${after.peak.toFixed(1)}; now ${after.rss.toFixed(1)})`);
    } finally {
      child.kill();
      await once(child, 'exit').catch(() => undefined);
    }
  });
});
