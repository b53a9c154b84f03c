// `node packages/telemetry/dist/src/otlp-receiver-cli.js [--host H] [--port P] [--log FILE] [--count-only]`
// Runs the OTLP receiver and appends each finished trace as a waterfall to FILE (default: stdout).
// With --count-only it prints nothing per trace and reads only span and trace ids (the benches). It prints one JSON line
// {"listening": url} when ready, and {"stats": ...} on SIGTERM/SIGINT before it exits.
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { startOtlpReceiver } from './otlp-receiver.js';
import { formatWaterfall } from './waterfall.js';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '4318' },
    log: { type: 'string' },
    'count-only': { type: 'boolean', default: false },
  },
});
const out = values.log ? createWriteStream(values.log, { flags: 'a' }) : process.stdout;
const receiver = await startOtlpReceiver({
  host: values.host,
  port: Number(values.port),
  countOnly: values['count-only'],
  onTrace: values['count-only'] ? undefined : (trace) => out.write(`${formatWaterfall(trace.traceId, trace.spans)}${trace.complete ? '' : '(no root span arrived)\n'}\n`),
});
process.stdout.write(`${JSON.stringify({ listening: receiver.url })}\n`);
const stop = async () => {
  await receiver.close();
  process.stdout.write(`${JSON.stringify({ stats: receiver.stats })}\n`);
  if (out !== process.stdout) out.end();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
