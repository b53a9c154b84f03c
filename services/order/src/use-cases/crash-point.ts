import type { CrashPoint } from '../config.js';
import type { RequestContext } from '../model/request-context.js';
import type { OrderDeps } from './order-deps.js';

/** Test only (FAULT_CRASH_POINT): the crash points cut a client's request (context set), never the reconciler's work. */
export function crashAt(deps: OrderDeps, point: CrashPoint, context: RequestContext | undefined): void {
  if (context && deps.crashPoint === point) process.kill(process.pid, 'SIGKILL');
}
