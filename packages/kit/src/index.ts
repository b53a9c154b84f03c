// The decorations the kit's plugins declare (app.metrics, app.db), for every service that imports the kit.
import './plugins/http-metrics.js';
import './plugins/database.js';

export * from './errors.js';
export * from './config.js';
export * from './metrics.js';
export * from './db.js';
export * from './auth.js';
export { SERVER_LIMITS, createServer, type App, type ServerOptions } from './server.js';
export { BODY_LIMIT, SMALL_BODY_LIMIT, bodyLimitFor, maxJsonBytes } from './body-limit.js';
export * from './proxy-trust.js';
export * from './service-client.js';
export * from './lifecycle.js';
export * from './data-service.js';
export * from './pagination.js';
export * from './provision.js';
export { Type, type Static, type TSchema } from '@sinclair/typebox';
export * from './ids.js';
export { jwksUrl } from './deprecated.js';
export { KIT_PLUGINS } from './plugins/names.js';
export { traceparentOf, type TraceContext } from './plugins/request-context.js';
export { containsNul } from './plugins/request-guards.js';
export type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
export type { Counter, Gauge } from 'prom-client';
