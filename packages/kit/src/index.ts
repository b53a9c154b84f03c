// What the kit adds to Fastify's types, for every service that imports the kit: the decorations its
// plugins declare (app.metrics, app.db, route config.preconditionTarget) and the OpenAPI fields of route schemas (summary, tags...).
import './plugins/http-metrics.js';
import './plugins/database.js';
import './plugins/preconditions.js';
import '@fastify/swagger';

export * from './errors.js';
export { loggedMessage } from './error-log.js';
export * from './config.js';
export * from './metrics.js';
export { metricsExposition, type Exposition } from './metrics-exposition.js';
export * from './db.js';
export * from './db-errors.js';
export * from './auth.js';
export { MAX_PIPELINED_REQUESTS, SERVER_LIMITS, closeSilentConnections, createServer, type App, type ServerOptions } from './server.js';
export { BODY_LIMIT, NO_BODY_LIMIT, SMALL_BODY_LIMIT, bodyLimitFor, maxJsonBytes } from './body-limit.js';
export * from './proxy-trust.js';
export * from './service-client.js';
export * from './lifecycle.js';
export * from './data-service.js';
export * from './pagination.js';
export { pruneInBatchesEvery, type BatchedPrune } from './batched-prune.js';
export * from './provision.js';
export * from './ids.js';
export * from './text.js';
export { noneMatchHolds, readEntityTags, readIfMatch, type EntityTag, type EntityTagList } from './entity-tags.js';
export { pathOf } from './request-target.js';
export { OPERATIONAL_PATHS } from './operational-paths.js';
export { jsonTextFault, repeatedMemberPointer } from './json-members.js';
export { clientGone } from './client-connection.js';
export { freePort } from './free-port.js';
export { AUTHENTICATION_PLUGIN, authentication } from './plugins/authentication.js';
export { KIT_PLUGINS } from './plugins/names.js';
export { forwardedTracestate, traceparentOf, type TraceContext } from './plugins/request-context.js';
export { bodylessRequestBodyProblem, containsUnstorableText } from './plugins/request-guards.js';
export { markPageRoutes, payloadTooLarge } from './plugins/problem-errors.js';
export { Type, type Static } from '@sinclair/typebox';
export type { Counter, Gauge } from 'prom-client';
