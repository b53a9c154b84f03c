// A body limit that fits each route, derived from its body schema: a bounded schema (every string with a
// maxLength or a fixed format, every array with maxItems, objects closed with additionalProperties:false)
// has a largest possible JSON text; anything far above that is refused (413) before it is read or parsed.
// Parsing alone is the cost of a hostile body (100,000 keys: ~0.4 s of JSON.parse on a loaded core).

type Schema = Record<string, unknown>;

/** The default (and largest) body limit: 1 MiB (docs/api.md). */
export const BODY_LIMIT = 1024 * 1024;
/** For routes whose bodies are small and not bounded by their schema, a tighter `bodyLimit`. */
export const SMALL_BODY_LIMIT = 64 * 1024;
/**
 * A route with no body schema takes no body: at most this much (a client's `{}`), read and parsed only to be
 * ignored. Without it such a route read 1 MiB, and 1 MiB of nested `[` is about 30 MB of heap once parsed:
 * eight at once ran a 128 MB service out of memory.
 */
export const NO_BODY_LIMIT = 1024;

/** A body limit as a 413 says it: `1 MiB`, `64 KiB`, `1024 bytes` (bytes unless a whole number of KiB above 1 KiB). */
export function bodyLimitWords(limit: number): string {
  if (limit % (1024 * 1024) === 0) return `${limit / 1024 / 1024} MiB`;
  if (limit > 1024 && limit % 1024 === 0) return `${limit / 1024} KiB`;
  return `${limit} bytes`;
}

/** Bytes per string character, worst case: a code point outside the BMP escaped as two \uXXXX. */
const PER_CHAR = 12;
/** Longest JSON number text we accept (-1.7976931348623157e+308 is 24). */
const NUMBER = 32;
const FORMAT_LENGTH: Record<string, number> = { uuid: 36 };

/** The largest JSON text (without insignificant whitespace) a value valid against `schema` can have; Infinity when unbounded. */
export function maxJsonBytes(schema: unknown, depth = 0): number {
  if (depth > 32 || schema === null || typeof schema !== 'object') return Infinity;
  const s = schema as Schema;
  if ('const' in s) return jsonLength(s.const);
  if (Array.isArray(s.enum)) return Math.max(0, ...s.enum.map(jsonLength));
  // A value holds to the schema's own keywords and to each of these at once: the tightest bound of them all (a string's
  // maxLength beside an allOf of patterns bounds it; the allOf alone was taken, unbounded, before).
  const bounds: number[] = [];
  for (const key of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(s[key])) bounds.push(Math.max(...(s[key] as unknown[]).map((b) => maxJsonBytes(b, depth + 1))));
  }
  if (Array.isArray(s.allOf)) bounds.push(...(s.allOf as unknown[]).map((b) => maxJsonBytes(b, depth + 1)));
  const types = Array.isArray(s.type) ? (s.type as unknown[]) : [s.type];
  return Math.min(Math.max(...types.map((t) => maxOfType(s, t, depth))), ...bounds);
}

function maxOfType(s: Schema, type: unknown, depth: number): number {
  switch (type) {
    case 'string': {
      const max = typeof s.maxLength === 'number' ? s.maxLength : typeof s.format === 'string' ? FORMAT_LENGTH[s.format] : undefined;
      return max === undefined ? Infinity : 2 + PER_CHAR * max;
    }
    case 'integer':
    case 'number':
      return NUMBER;
    case 'boolean':
      return 5;
    case 'null':
      return 4;
    case 'array': {
      if (typeof s.maxItems !== 'number') return Infinity;
      const item = Array.isArray(s.items) ? Math.max(...(s.items as unknown[]).map((i) => maxJsonBytes(i, depth + 1))) : maxJsonBytes(s.items, depth + 1);
      return 2 + s.maxItems * (item + 1);
    }
    case 'object': {
      if (s.additionalProperties !== false || s.patternProperties) return Infinity;
      const props = (s.properties ?? {}) as Record<string, unknown>;
      let total = 2;
      for (const [key, value] of Object.entries(props)) total += 6 * key.length + 3 + maxJsonBytes(value, depth + 1) + 1;
      return total;
    }
    default:
      return Infinity;
  }
}

function jsonLength(v: unknown): number {
  return PER_CHAR * (JSON.stringify(v) ?? 'null').length;
}

/**
 * The limit for a route whose body schema is bounded: twice the largest valid text plus 4 KiB for
 * whitespace and pretty-printing, at least 16 KiB, at most `ceiling` (the 1 MiB default). undefined when
 * the schema is unbounded (the default applies).
 */
export function bodyLimitFor(schema: unknown, ceiling: number): number | undefined {
  const max = maxJsonBytes(schema);
  if (!Number.isFinite(max)) return undefined;
  return Math.min(ceiling, Math.max(16 * 1024, Math.ceil((2 * max + 4096) / 1024) * 1024));
}
