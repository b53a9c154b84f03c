import { v7, validate } from 'uuid';

/** UUID version 7 (RFC 9562): Unix milliseconds then random bits, so ids sort by creation time. */
export function uuidv7(now?: number): string {
  return now === undefined ? v7() : v7({ msecs: now });
}

/** An RFC 9562 UUID (what `uuidv7` and PostgreSQL's gen_random_uuid make), in any letter case. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && validate(value);
}

/**
 * The same grammar as isUuid, as a JSON Schema pattern (schemas have no case flag): versions 1 to 8 with the
 * RFC variant, or the nil or max UUID.
 */
export const UUID_PATTERN =
  '^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|[fF]{8}-[fF]{4}-[fF]{4}-[fF]{4}-[fF]{12})$';
