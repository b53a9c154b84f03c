import type { TraceContext } from '@ecommerce/kit';

/** What a use case knows of the request that runs it: enough to log and to forward, never the request itself. */
export interface RequestContext {
  requestId: string;
  trace: TraceContext;
}
