/** The kit's plugin names, for a service plugin's `dependencies` (e.g. one that counts with `app.metrics`). */
export const KIT_PLUGINS = {
  problemErrors: 'kit-problem-errors',
  requestGuards: 'kit-request-guards',
  preconditions: 'kit-preconditions',
  requestContext: 'kit-request-context',
  httpMetrics: 'kit-http-metrics',
  faultSwitch: 'kit-fault-switch',
  requestLog: 'kit-request-log',
  securityHeaders: 'kit-security-headers',
  health: 'kit-health',
  openapiDocs: 'kit-openapi-docs',
  database: 'kit-database',
} as const;
