// `node scripts/storefront-memory.js` (after `npm run build`): the storefront's peak resident set under load, the
// figure its Deployment's memory request covers (docs/web.md, "Memory"). Runs the image's CMD, the static-only server
// services/gateway/dist/src/storefront-main.js, with the environment deploy/k8s/base/storefront.yaml gives it (its
// NODE_OPTIONS heap flags, the ConfigMap's NODE_ENV and LOG_LEVEL) on a free loopback port, loads it for 15 s with
// autocannon over the app's files and client routes (as a browser asks: br and gzip accepted), and prints the peak
// RSS (VmHWM) beside the manifest's request and limit. The server is stopped at the end, whatever happens.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { freePort } from '@ecommerce/kit';
import { peakRssMiB, root } from './stack.js';

const SECONDS = 15;
const CONNECTIONS = 32;

const { containerEnv, dataOf, loadManifests, podTemplate } = await import('../deploy/k8s/dist/src/manifests.js');
const objects = loadManifests().map((o) => o.object);
const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'storefront');
const container = podTemplate(deployment).spec.containers[0];
const configMap = (name) => dataOf(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name));
const port = await freePort();
const env = containerEnv(container, (source) => (source.configMapKeyRef ? configMap(source.configMapKeyRef.name)[source.configMapKeyRef.key] ?? '' : ''), {
  HOST: '127.0.0.1',
  PORT: String(port),
});

const appDir = join(root, 'web', 'dist', 'app');
const files = ['/', '/boot.js', '/favicon.svg', ...['assets', 'images'].flatMap((dir) => readdirSync(join(appDir, dir), { recursive: true }).filter((f) => /\.\w+$/.test(f) && !/\.(br|gz)$/.test(f)).map((f) => `/${dir}/${f}`))];
const routes = ['/products/0196f1a2-0000-7000-8000-000000000001', '/cart', '/checkout', '/orders', '/signin', '/admin'];

const server = spawn(process.execPath, ['services/gateway/dist/src/storefront-main.js'], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
const exited = new Promise((resolve) => server.once('exit', resolve));
try {
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if ((await fetch(`${base}/readyz`).catch(() => null))?.ok) break;
    if (i >= 100 || server.exitCode !== null) throw new Error('the storefront did not become ready in 10 s');
    await sleep(100);
  }
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { 'accept-encoding': 'br, gzip' },
    requests: [...files, ...routes].map((path) => ({ method: 'GET', path })),
  });
  const rss = peakRssMiB(server.pid);
  const { requests, limits } = container.resources;
  console.log(`storefront (${process.version}, NODE_OPTIONS ${env.NODE_OPTIONS}): ${result.requests.total} requests in ${SECONDS} s over ${files.length + routes.length} paths, ${CONNECTIONS} connections, ${result.non2xx} not 2xx`);
  console.log(`peak RSS storefront ${rss?.toFixed(0)} MiB (request ${requests.memory}, limit ${limits.memory})`);
} finally {
  server.kill('SIGTERM');
  await exited;
}
