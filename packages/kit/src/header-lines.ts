// Header lines as the client sent them (rawHeaders), where Node's parsed `headers` would hide what is ambiguous.
import { BadRequest, ProblemError } from './errors.js';

/**
 * The header lines a request may have. Node reads this many (the servers set it as their maxHeadersCount, which is
 * also Node's default) and drops any further line unseen: a second Authorization there could not be told apart.
 */
export const MAX_HEADER_LINES = 1000;

/**
 * Fields that hold one value (RFC 9110: Host, Authorization, Content-Type are no lists), of which Node keeps the first
 * line and drops the others unseen. Sent twice they are ambiguous: a proxy in front that reads the last
 * `Authorization` (or checks one `Content-Type`) would judge another request than the one served here, which took
 * the first. Refused instead (RFC 9110 5.3: a message may not repeat a field that is not a list).
 */
const SINGLE_VALUE_FIELDS = ['host', 'authorization', 'content-type'] as const;
type SingleValueField = (typeof SINGLE_VALUE_FIELDS)[number];
const FIELD_NAMES: Record<Exclude<SingleValueField, 'host'>, string> = { authorization: 'Authorization', 'content-type': 'Content-Type' };

/** How many lines of the header `name` (lower case) the request sent (rawHeaders: name, value, name, value...). */
export function headerLines(raw: string[], name: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) n++;
  return n;
}

/**
 * Why the request's header lines cannot be read one way only, or undefined: more lines than Node reads (431, the rest
 * were dropped unseen), or a single-value field on two lines (400; the Host wording predates the others). One pass.
 */
export function ambiguousHeaderLines(raw: string[]): ProblemError | undefined {
  if (raw.length > 2 * MAX_HEADER_LINES) {
    return new ProblemError(431, 'headers-too-large', 'Request Header Fields Too Large', `A request may have at most ${MAX_HEADER_LINES} header lines`);
  }
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    for (let f = 0; f < SINGLE_VALUE_FIELDS.length; f++) {
      const field = SINGLE_VALUE_FIELDS[f]!;
      if (name.length !== field.length || name.toLowerCase() !== field) continue;
      if (!(seen & (1 << f))) {
        seen |= 1 << f;
        continue;
      }
      if (field === 'host') return new BadRequest('A request must have one Host header');
      return new BadRequest(`${FIELD_NAMES[field]} must be sent once`, [{ path: `headers/${field}`, message: 'must be sent once' }]);
    }
  }
  return undefined;
}
