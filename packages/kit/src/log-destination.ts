// Where a service's log lines go when no stream is given: stdout, written asynchronously (pino's default), with a
// bound on the lines waiting to be written.
import pino from 'pino';
import type { Metrics } from './metrics.js';

const LOG_LINES_DROPPED = 'log_lines_dropped_total';

/**
 * pino's default destination (an asynchronous SonicBoom on fd 1) keeps every line its reader has not taken yet, with
 * no bound: with stdout's reader stalled (a container runtime's log driver behind, `npm start` piped to a pager, a
 * terminal paused) each request's line stayed in the heap, 280 bytes a request, 11 MB for 40,000. Past `maxChars`
 * waiting, a line is dropped and counted in log_lines_dropped_total; writing goes on once the reader takes them again.
 * Not synchronous instead: a stalled reader would then stall every request.
 */
export function stdoutLogDestination(metrics: Metrics, maxChars: number): pino.DestinationStream {
  const counter = metrics.sharedCounter(LOG_LINES_DROPPED, 'Log lines dropped because stdout did not take them (a stalled log reader), not written anywhere.');
  const destination = pino.destination({ dest: 1, sync: false, maxLength: maxChars });
  destination.on('drop', () => counter.inc());
  return destination;
}
