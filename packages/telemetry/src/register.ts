// Preload: `node --import @ecommerce/telemetry/register main.js` (or NODE_OPTIONS="--import ...").
// Configured only by the standard OTEL_* variables. Without an OTLP endpoint, with OTEL_SDK_DISABLED=true
// or OTEL_TRACES_EXPORTER=none, it returns before importing anything of OpenTelemetry: tracing off costs
// nothing. An exporter it cannot run (gRPC) or an endpoint that is no http(s) URL is said once on stderr, and
// tracing stays off.
import { exporterChoice, tracingDecision } from './tracing-env.js';

/** The one warning line (pino's format, as the services log) saying why tracing stays off. */
const stayOff = (why: string) => process.stderr.write(`${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, msg: `tracing stays off: ${why}` })}\n`);

const decision = tracingDecision(process.env);
if (decision.refused) {
  stayOff(decision.reason);
} else if (decision.enabled) {
  const choice = exporterChoice(process.env);
  if ('unsupported' in choice) {
    stayOff(choice.unsupported);
  } else {
    const { startTracing } = await import('./sdk.js');
    await startTracing(choice.protocol);
  }
}
