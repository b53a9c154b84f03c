// Test support for every workspace's tests. It imports no service: a service's own starter (its
// `./testing` export) builds on `startService`, so project references never loop.
export * from './accounts.js';
export * from './catalog.js';
export * from './database.js';
export * from './db-proxy.js';
export * from './http.js';
export * from './metrics.js';
export * from './problems.js';
export * from './processes.js';
export * from './query-plans.js';
export * from './services.js';
export * from './sessions.js';
export * from './timed.js';
