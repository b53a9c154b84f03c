// @ts-check
// The Alertmanager receiver that exists in Kubernetes: a sidecar in the
// Alertmanager pod (deploy/k8s/base/alertmanager.yaml, generated) listening
// on 127.0.0.1:9095, the address the repo's alertmanager.yml sends every
// webhook to (locally, `npm run monitoring` runs its own receiver there).
// Without it Alertmanager would post to a port where nothing listens and
// every notification would fail.
//
// It writes one JSON line per alert to stdout and keeps nothing, so it can
// run for months:  kubectl -n ecommerce logs deploy/alertmanager -c alert-log -f
// It is a log, not a pager: point alertmanager.yml's receivers at your
// on-call tool for anything real (docs/deploy.md, "Alerts").
//
// Plain JavaScript on the official node image (no build, no dependency), run
// from a ConfigMap. Env: ALERT_LOG_PORT (default 9095; 0 picks a free one).
import { createServer } from 'node:http';

const MAX_BODY = 1024 * 1024;
const port = Number(process.env.ALERT_LOG_PORT ?? '9095');

/** @param {Record<string, unknown>} fields */
function log(fields) {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
}

/**
 * Alertmanager's webhook payload (version 4), as far as we read it.
 * @param {unknown} value
 * @returns {value is { receiver: string, status: string, groupKey?: string, alerts: { status: string, labels: Record<string, string>, annotations?: Record<string, string>, startsAt?: string, endsAt?: string, generatorURL?: string }[] }}
 */
function isPayload(value) {
  if (typeof value !== 'object' || value === null) return false;
  const v = /** @type {Record<string, unknown>} */ (value);
  return typeof v.receiver === 'string' && typeof v.status === 'string' && Array.isArray(v.alerts)
    && v.alerts.every((a) => typeof a === 'object' && a !== null && typeof a.labels === 'object' && a.labels !== null);
}

const server = createServer((request, response) => {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method === 'GET' && path === '/healthz') {
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  if (path !== '/alerts') {
    response.writeHead(404).end();
    return;
  }
  if (request.method !== 'POST') {
    response.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  request.on('data', (/** @type {Buffer} */ chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) {
      log({ level: 'warn', msg: 'notification too large, refused', bytes: size });
      response.writeHead(413).end();
      request.destroy();
      return;
    }
    chunks.push(chunk);
  });
  request.on('end', () => {
    if (response.headersSent) return;
    /** @type {unknown} */
    let payload;
    try {
      payload = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      payload = undefined;
    }
    if (!isPayload(payload)) {
      log({ level: 'warn', msg: 'not an Alertmanager webhook payload, refused' });
      response.writeHead(400, { 'content-type': 'text/plain' }).end('not an Alertmanager webhook payload\n');
      return;
    }
    for (const alert of payload.alerts) {
      log({
        level: alert.status === 'firing' ? 'warn' : 'info',
        msg: 'alert notification',
        receiver: payload.receiver,
        status: alert.status,
        alertname: alert.labels.alertname,
        severity: alert.labels.severity,
        labels: alert.labels,
        summary: alert.annotations?.summary,
        startsAt: alert.startsAt,
        endsAt: alert.endsAt,
        // The rule's expression in Prometheus (its --web.external-url): the link to open first.
        generatorURL: alert.generatorURL || undefined,
      });
    }
    response.writeHead(200).end();
  });
});

server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  log({ level: 'info', msg: 'alert-log listening', address: typeof address === 'object' && address ? `${address.address}:${address.port}` : String(address) });
});

for (const signal of /** @type {const} */ (['SIGTERM', 'SIGINT'])) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
