// Whether tracing is on, read from the standard OpenTelemetry variables only. Kept free of any
// OpenTelemetry import: the preload calls it before deciding to load the SDK at all.

export interface TracingDecision {
  enabled: boolean;
  /** Why tracing is off (for the one debug line the preload may print), or the endpoint it exports to. */
  reason: string;
}

const truthy = (value: string | undefined) => value !== undefined && value.trim().toLowerCase() === 'true';

/** Tracing runs only with an OTLP endpoint, unless OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. */
export function tracingDecision(env: NodeJS.ProcessEnv): TracingDecision {
  if (truthy(env.OTEL_SDK_DISABLED)) return { enabled: false, reason: 'OTEL_SDK_DISABLED=true' };
  const exporters = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((e) => e.trim());
  if (exporters.includes('none')) return { enabled: false, reason: 'OTEL_TRACES_EXPORTER=none' };
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!endpoint) return { enabled: false, reason: 'no OTEL_EXPORTER_OTLP_ENDPOINT' };
  return { enabled: true, reason: endpoint };
}

export type ExporterProtocol = 'http/protobuf' | 'http/json' | 'console';
export type ExporterChoice = { protocol: ExporterProtocol } | { unsupported: string };

/**
 * The span exporter: OTLP over HTTP in protobuf (the default) or JSON, as OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
 * or OTEL_EXPORTER_OTLP_PROTOCOL say; OTEL_TRACES_EXPORTER=console prints spans instead (debugging).
 * gRPC is refused rather than sent HTTP it cannot read.
 */
export function exporterChoice(env: NodeJS.ProcessEnv): ExporterChoice {
  const exporters = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((e) => e.trim()).filter(Boolean);
  if (exporters.includes('console')) return { protocol: 'console' };
  const other = exporters.find((e) => e !== 'otlp');
  if (other) return { unsupported: `OTEL_TRACES_EXPORTER=${other} is not supported (otlp, console or none)` };
  // An empty or blank variable counts as unset, as the SDK reads every OTEL_* variable (core's getStringFromEnv).
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() || env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim() || 'http/protobuf';
  if (protocol === 'http/protobuf' || protocol === 'http/json') return { protocol };
  return { unsupported: `OTLP protocol ${protocol} is not supported (http/protobuf or http/json)` };
}

/** The instrumentations the preload can load, by the short names OpenTelemetry's Node auto-instrumentations use. */
export const INSTRUMENTATION_NAMES = ['fastify', 'undici', 'pg', 'pino'] as const;
export type InstrumentationName = (typeof INSTRUMENTATION_NAMES)[number];

const names = (value: string | undefined) => (value ?? '').split(',').map((n) => n.trim()).filter(Boolean);

/**
 * OTEL_NODE_ENABLED_INSTRUMENTATIONS (only these) and OTEL_NODE_DISABLED_INSTRUMENTATIONS (all but these; applied
 * after the first), comma-separated short names, as @opentelemetry/auto-instrumentations-node reads them.
 * Unknown names are ignored. Default: all of them.
 */
export function instrumentationChoice(env: NodeJS.ProcessEnv): Set<InstrumentationName> {
  const enabled = names(env.OTEL_NODE_ENABLED_INSTRUMENTATIONS);
  const disabled = new Set(names(env.OTEL_NODE_DISABLED_INSTRUMENTATIONS));
  return new Set(INSTRUMENTATION_NAMES.filter((n) => (enabled.length === 0 || enabled.includes(n)) && !disabled.has(n)));
}
