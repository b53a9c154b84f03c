// The OTLP receiver of packages/telemetry in a process of its own, counting what it receives (the benches).
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Starts `checkout`'s receiver on a free port; resolves to { url, pid, stop() -> its stats }. */
export async function startTraceReceiver(checkout) {
  const cli = join(checkout, 'packages', 'telemetry', 'dist', 'src', 'otlp-receiver-cli.js');
  const child = spawn(process.execPath, [cli, '--port', '0', '--count-only'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  let buffered = '';
  const nextLine = () =>
    new Promise((resolve, reject) => {
      const take = () => (lines.length > 0 ? resolve(lines.shift()) : child.stdout.once('data', () => take()));
      child.once('exit', (code) => reject(new Error(`the trace receiver exited (code ${code})`)));
      take();
    });
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop();
    lines.push(...parts.filter(Boolean));
  });
  const { listening } = JSON.parse(await nextLine());
  return {
    url: listening,
    pid: child.pid,
    async stop() {
      const stats = nextLine();
      child.kill('SIGTERM');
      return JSON.parse(await stats).stats;
    },
  };
}
