// Exemplars with the real Prometheus: with the feature flag every Prometheus here runs with, a scrape
// negotiates OpenMetrics and keeps the trace id a histogram sample carries; without it, none is kept.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startPrometheus } from '../src/prometheus-process.js';
import { PROMETHEUS_FEATURES } from '../src/stack.js';
import { needTools } from './support.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

/** A /metrics like the services' (prom-client in OpenMetrics mode), exemplar on one bucket. */
function metricsServer(accepts: string[]): Promise<Server> {
  const server = createServer((req, res) => {
    accepts.push(String(req.headers.accept));
    const now = (Date.now() / 1000).toFixed(3);
    const body = [
      '# HELP http_server_request_duration_seconds Duration of HTTP server requests.',
      '# TYPE http_server_request_duration_seconds histogram',
      `http_server_request_duration_seconds_bucket{http_route="/order",le="0.1"} 3 # {trace_id="${TRACE_ID}",span_id="00f067aa0ba902b7"} 0.042 ${now}`,
      'http_server_request_duration_seconds_bucket{http_route="/order",le="+Inf"} 4',
      'http_server_request_duration_seconds_sum{http_route="/order"} 0.4',
      'http_server_request_duration_seconds_count{http_route="/order"} 4',
      '# EOF',
      '',
    ].join('\n');
    res.writeHead(200, { 'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function exemplarsAfterScrapes(flags: readonly string[]): Promise<{ traceIds: string[]; accepts: string[] }> {
  const accepts: string[] = [];
  const server = await metricsServer(accepts);
  const { port } = server.address() as AddressInfo;
  const prometheus = await startPrometheus({
    config: `global: { scrape_interval: 1s, scrape_timeout: 1s }\nscrape_configs:\n  - job_name: app\n    static_configs: [{ targets: ["127.0.0.1:${port}"] }]\n`,
    args: flags,
  });
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const now = Date.now() / 1000;
      const url = `${prometheus.url}/api/v1/query_exemplars?query=http_server_request_duration_seconds_bucket&start=${now - 60}&end=${now + 60}`;
      const body = (await (await fetch(url)).json()) as { data?: { exemplars?: { labels: Record<string, string> }[] }[] };
      const traceIds = (body.data ?? []).flatMap((series) => (series.exemplars ?? []).map((e) => e.labels['trace_id'] ?? ''));
      // Three scrapes at least before an empty answer counts.
      if (traceIds.length > 0 || (accepts.length >= 3 && Date.now() > deadline - 10_000) || Date.now() > deadline) return { traceIds, accepts };
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await prometheus.stop();
    await new Promise((r) => server.close(r));
  }
}

test('exemplar storage: Prometheus asks for OpenMetrics and keeps the trace id of a latency sample', async (t) => {
  if (!needTools(t, ['prometheus'])) return;
  assert.deepEqual([...PROMETHEUS_FEATURES], ['--enable-feature=exemplar-storage']);
  const { traceIds, accepts } = await exemplarsAfterScrapes(PROMETHEUS_FEATURES);
  assert.match(accepts[0] ?? '', /^application\/openmetrics-text/);
  assert.ok(traceIds.includes(TRACE_ID), `exemplars: ${JSON.stringify(traceIds)}`);
});

test('without the feature flag no exemplar is kept (so the check above can fail)', async (t) => {
  if (!needTools(t, ['prometheus'])) return;
  const { traceIds, accepts } = await exemplarsAfterScrapes([]);
  assert.ok(accepts.length >= 3, `${accepts.length} scrapes`);
  assert.deepEqual(traceIds, []);
});
