/** Probes and the scrape: not traffic, so not counted, faulted or refused while draining, and logged at debug. */
export const OPERATIONAL_PATHS = new Set(['/livez', '/readyz', '/metrics']);
