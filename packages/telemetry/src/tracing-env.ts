// Whether tracing is on, read from the standard OpenTelemetry variables only. Kept free of any
// OpenTelemetry import: the preload calls it before deciding to load the SDK at all.

export interface TracingDecision {
  enabled: boolean;
  /** Why tracing is off (for the one debug line the preload may print), or the endpoint it exports to. */
  reason: string;
  /** Off because a value is unusable (an endpoint that is no http(s) URL): the preload says so once on stderr. */
  refused?: true;
}

const truthy = (value: string | undefined) => value !== undefined && value.trim().toLowerCase() === 'true';

/** Why tracing is off when nothing but the endpoint is missing (npm start's banner then says how to turn it on). */
export const NO_ENDPOINT = 'no OTEL_EXPORTER_OTLP_ENDPOINT';

/**
 * OTEL_TRACES_EXPORTER's names, lowercased: the environment variable specification reads enum values
 * case-insensitively (before, `OTLP` was "not supported" and `None` no `none`).
 */
const tracesExporters = (env: NodeJS.ProcessEnv) => (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((e) => e.trim().toLowerCase()).filter(Boolean);

/**
 * OTEL_TRACES_SAMPLER as the SDK matches it (its names, lowercase, exactly): trimmed and lowercased, as the
 * specification reads enum values; undefined when unset or blank. Before, `ALWAYS_OFF` or `ParentBased_TraceIdRatio`
 * was "invalid" and every span was recorded (the SDK's default).
 */
export function samplerName(value: string | undefined): string | undefined {
  const name = value?.trim().toLowerCase();
  return name ? name : undefined;
}

/** Tracing runs only with an OTLP endpoint, unless OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. */
export function tracingDecision(env: NodeJS.ProcessEnv): TracingDecision {
  if (truthy(env.OTEL_SDK_DISABLED)) return { enabled: false, reason: 'OTEL_SDK_DISABLED=true' };
  const exporters = tracesExporters(env);
  if (exporters.includes('none')) return { enabled: false, reason: 'OTEL_TRACES_EXPORTER=none' };
  const variable = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const endpoint = env[variable]?.trim();
  if (!endpoint) return { enabled: false, reason: NO_ENDPOINT };
  // The OTLP/HTTP exporter sends only to an http(s) URL. Before, one it could not parse (`collector:4318`) went to
  // http://localhost:4318, whoever listens there, and another scheme (`ftp://`, `grpc://`) failed every export with an
  // error line and its stack. Neither the value (it may hold credentials) nor more than its scheme is said.
  if (!exporters.includes('console')) {
    const scheme = URL.canParse(endpoint) ? new URL(endpoint).protocol : undefined;
    if (scheme !== 'http:' && scheme !== 'https:') {
      return { enabled: false, refused: true, reason: `${variable} is not an http:// or https:// URL such as http://host:4318 (${scheme ? `its scheme is ${scheme.slice(0, 20)}` : 'not a URL'})` };
    }
  }
  return { enabled: true, reason: endpoint };
}

/**
 * The URL the OTLP exporter posts spans to, as the preload decides it (null when tracing is off or prints to the
 * console): OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else OTEL_EXPORTER_OTLP_ENDPOINT with `/v1/traces` appended
 * (the OTLP exporter specification). npm start records it in .data/stack.json for npm run monitoring to read.
 */
export function tracesUrlOf(env: NodeJS.ProcessEnv): string | null {
  if (!tracingDecision(env).enabled || tracesExporters(env).includes('console')) return null;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() ?? '';
  return `${base.endsWith('/') ? base : `${base}/`}v1/traces`;
}

export type ExporterProtocol = 'http/protobuf' | 'http/json' | 'console';
export type ExporterChoice = { protocol: ExporterProtocol } | { unsupported: string };

/**
 * The span exporter: OTLP over HTTP in protobuf (the default) or JSON, as OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
 * or OTEL_EXPORTER_OTLP_PROTOCOL say; OTEL_TRACES_EXPORTER=console prints spans instead (debugging).
 * gRPC is refused rather than sent HTTP it cannot read.
 */
export function exporterChoice(env: NodeJS.ProcessEnv): ExporterChoice {
  const exporters = tracesExporters(env);
  if (exporters.includes('console')) return { protocol: 'console' };
  const other = exporters.find((e) => e !== 'otlp');
  if (other) return { unsupported: `OTEL_TRACES_EXPORTER=${other} is not supported (otlp, console or none)` };
  // An empty or blank variable counts as unset, as the SDK reads every OTEL_* variable (core's getStringFromEnv).
  // Read case-insensitively, as every enum value (the specification): `HTTP/JSON` left tracing off.
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() || env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim() || 'http/protobuf').toLowerCase();
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

/** The batch span processor's settings (OTEL_BSP_*), each one valid whatever the environment says. */
export interface BatchProcessorConfig {
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
}

/** The longest delay a Node timer takes: a longer one fires after 1 ms (TimeoutOverflowWarning), an export loop. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const BATCH_SETTINGS: readonly [keyof BatchProcessorConfig, string, number, number][] = [
  // [setting, variable, the specification's default, the least valid value]
  ['scheduledDelayMillis', 'OTEL_BSP_SCHEDULE_DELAY', 5000, 0],
  // A timeout of 0 ms timed every export out as it began: each was said as failed (`Error: Timeout`), sent or not.
  ['exportTimeoutMillis', 'OTEL_BSP_EXPORT_TIMEOUT', 30000, 1],
  ['maxQueueSize', 'OTEL_BSP_MAX_QUEUE_SIZE', 2048, 1],
  ['maxExportBatchSize', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 1],
];

/**
 * OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_EXPORT_TIMEOUT, OTEL_BSP_MAX_QUEUE_SIZE and OTEL_BSP_MAX_EXPORT_BATCH_SIZE, read
 * before the SDK sees them: a value that is not a whole number in range is said through `warn` and the default used.
 * The SDK takes any number, silently: a batch size of 0 made its export loop spin until the process ran out of
 * memory, a negative one or a queue of 0 exported nothing, a delay over 2^31-1 ms exported every millisecond.
 * A batch larger than the queue is cut to the queue's size (as the SDK does), said when the batch size was the
 * operator's; the default batch (512) cut to a smaller queue is not: OTEL_BSP_MAX_QUEUE_SIZE=50 alone is a valid
 * setting (before, it was said as `OTEL_BSP_MAX_EXPORT_BATCH_SIZE=512 is larger...`, a variable nobody had set).
 */
export function batchProcessorConfig(env: NodeJS.ProcessEnv, warn: (message: string) => void): BatchProcessorConfig {
  const config = {} as BatchProcessorConfig;
  const taken = new Set<keyof BatchProcessorConfig>();
  for (const [setting, variable, fallback, least] of BATCH_SETTINGS) {
    const raw = env[variable]?.trim();
    config[setting] = fallback;
    if (!raw) continue; // unset or blank: the default, as the SDK reads every OTEL_* variable
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isInteger(value) && value >= least && value <= MAX_TIMER_MS) {
      config[setting] = value;
      taken.add(setting);
    } else warn(`${variable}=${JSON.stringify(raw.slice(0, 40))} is not a whole number from ${least} to ${MAX_TIMER_MS}; using the default, ${fallback}`);
  }
  if (config.maxExportBatchSize > config.maxQueueSize) {
    if (taken.has('maxExportBatchSize')) warn(`OTEL_BSP_MAX_EXPORT_BATCH_SIZE=${config.maxExportBatchSize} is larger than OTEL_BSP_MAX_QUEUE_SIZE=${config.maxQueueSize}; using ${config.maxQueueSize}`);
    config.maxExportBatchSize = config.maxQueueSize;
  }
  return config;
}

/** The SDK's limit on a key or value of OTEL_RESOURCE_ATTRIBUTES (resources' EnvDetector). */
const RESOURCE_ATTRIBUTE_MAX_LENGTH = 255;

/**
 * Why the SDK will ignore OTEL_RESOURCE_ATTRIBUTES as a whole (its EnvDetector's rules, which the specification
 * asks for: one bad entry discards them all), or undefined when it will take it. The SDK says so only at debug
 * level, so `deployment.environment.name=production,team=a=b` silently lost the environment; the preload says it.
 * The entry is named by its position and key, never its value.
 */
export function resourceAttributesProblem(raw: string | undefined): string | undefined {
  if (!raw?.trim()) return undefined;
  const entries = raw.split(',').filter((entry) => entry.trim() !== '');
  for (const [i, entry] of entries.entries()) {
    const parts = entry.split('=');
    const where = `entry ${i + 1}`;
    if (parts.length !== 2) return `${where} is not one key=value (a ',' or '=' inside a key or value must be percent-encoded: %2C, %3D)`;
    const key = parts[0]!.trim();
    if (key === '') return `${where} has an empty key`;
    let decodedKey: string;
    let decodedValue: string;
    try {
      decodedKey = decodeURIComponent(key);
      decodedValue = decodeURIComponent(parts[1]!.trim());
    } catch {
      return `${where} is not valid percent-encoding`;
    }
    if (decodedKey.length > RESOURCE_ATTRIBUTE_MAX_LENGTH) return `${where}'s key is over ${RESOURCE_ATTRIBUTE_MAX_LENGTH} characters`;
    if (decodedValue.length > RESOURCE_ATTRIBUTE_MAX_LENGTH) return `${where} (${JSON.stringify(decodedKey)}) has a value over ${RESOURCE_ATTRIBUTE_MAX_LENGTH} characters`;
  }
  return undefined;
}

/** What Node's http accepts in a header (validateHeaderName, validateHeaderValue): a token; no control character, nothing past U+00FF. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

interface OtlpHeadersCheck {
  /** One line per entry the exporter would drop, cut, or fail every export with; never a value. */
  problems: string[];
  /** The variable without the entries that would make every export fail, when there were any (else undefined). */
  kept?: string;
}

/**
 * OTEL_EXPORTER_OTLP_HEADERS or OTEL_EXPORTER_OTLP_TRACES_HEADERS, read by the exporter's rules (core's
 * parseKeyPairsIntoRecord, the W3C Baggage format): an entry with no `=`, an empty key or value, or a bad `%` escape is
 * dropped without a word; what follows a `;` in it is cut (a Baggage property); a name that is no HTTP token or a value
 * with a control character or a character past U+00FF (a decoded `%0D`, `%E2%9C%93`) made every export fail with
 * ERR_INVALID_HTTP_TOKEN or ERR_INVALID_CHAR, so every span was lost. Each is said, naming the entry by its position
 * (and its key, when that is a valid header name), never its value: a header here is usually a credential. The
 * entries that would fail every export are left out of `kept`, so the others still go and spans still arrive.
 */
export function otlpHeadersCheck(variable: string, raw: string | undefined): OtlpHeadersCheck {
  const problems: string[] = [];
  if (!raw?.trim()) return { problems };
  const entries = raw.split(',');
  const fatal = new Set<number>();
  entries.forEach((entry, i) => {
    if (entry.trim() === '') return;
    const where = `${variable}: entry ${i + 1}`;
    const semicolon = entry.indexOf(';');
    const pair = semicolon === -1 ? entry : entry.slice(0, semicolon);
    const eq = pair.indexOf('=');
    const rawKey = eq > 0 ? pair.slice(0, eq).trim() : '';
    const rawValue = eq > 0 ? pair.slice(eq + 1).trim() : '';
    if (!rawKey || !rawValue) {
      problems.push(`${where} is not key=value with both set; it is not sent`);
      return;
    }
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(rawKey);
      value = decodeURIComponent(rawValue);
    } catch {
      problems.push(`${where} is not valid percent-encoding; it is not sent`);
      return;
    }
    if (!HEADER_NAME.test(key)) {
      fatal.add(i);
      problems.push(`${where}: its key is no HTTP header name, which would fail every export; it is left out`);
      return;
    }
    if (!HEADER_VALUE.test(value)) {
      fatal.add(i);
      problems.push(`${where} (${key}): its value holds a control character or one past U+00FF, which would fail every export; it is left out`);
      return;
    }
    if (semicolon !== -1) problems.push(`${where} (${key}): what follows ';' is not sent (the variable is read as W3C Baggage, where ';' starts a property: write it %3B)`);
  });
  return fatal.size > 0 ? { problems, kept: entries.filter((_, i) => !fatal.has(i)).join(',') } : { problems };
}

/** OTEL_LOG_LEVEL's values (the SDK's, any case); the specification's default is info. */
const LOG_LEVELS = ['NONE', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'VERBOSE', 'ALL'] as const;
type LogLevelName = (typeof LOG_LEVELS)[number];

/**
 * OTEL_LOG_LEVEL: its level, INFO when unset or blank (the specification's default), and INFO with a problem to say
 * for a value that is none of them. The SDK's own parser (core's diagLogLevelFromString) warned about such a value
 * through the diagnostic logger it was choosing the level of, before any logger existed: nothing was said.
 */
export function logLevelChoice(raw: string | undefined): { level: LogLevelName; problem?: string } {
  const given = raw?.trim();
  if (!given) return { level: 'INFO' };
  const level = LOG_LEVELS.find((name) => name === given.toUpperCase());
  if (level) return { level };
  return { level: 'INFO', problem: `OTEL_LOG_LEVEL=${JSON.stringify(given.slice(0, 40))} is not one of ${LOG_LEVELS.join(', ').toLowerCase()}; using info` };
}
