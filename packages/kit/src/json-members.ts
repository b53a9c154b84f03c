// A JSON object that names a member twice (`{"quantity":1,"quantity":1000}`) is valid JSON text, but RFC 8259 4
// leaves its meaning to the reader ("unpredictable"), and I-JSON (RFC 7493 2.3) forbids it. JSON.parse keeps the
// last one; a proxy, a firewall or a log in front of a service may read the first, so what was checked or
// recorded is not what was served. Such a body is refused, as two header lines of a one-value field are.
// Likewise a number that is whole only once JSON.parse rounds it to a double (`"priceCents": 1e-400` reads as 0,
// `1.0000000000000001` as 1): the schema checked a whole number the client never sent (RFC 8259 6, RFC 7493 2.2).

interface Frame {
  array: boolean;
  /** Object: the next string is a member name (after `{` or `,`). */
  expectName: boolean;
  /** Object: its first name, and the names seen so far once it has a second (most objects have few). */
  first: string | undefined;
  names: Set<string> | undefined;
  /** Object: the member whose value is being read; array: the element's index. */
  name: string;
  index: number;
}

/** RFC 6901: `~` and `/` inside a reference token. */
export const pointerToken = (name: string): string => name.replace(/~/g, '~0').replace(/\//g, '~1');

/** What JSON.parse reads of a text without a word: a member named twice, or a number made whole by rounding. */
export interface JsonTextFault {
  fault: 'repeated-member' | 'rounded-number';
  /** The JSON pointer of the member named again, or of the number. */
  pointer: string;
}

/**
 * The JSON pointer of the first member whose name its object already has (names compared as JSON.parse reads
 * them: `"a"` and `"\u0061"` are one name), or undefined when every object's names are distinct. `text` must be
 * JSON that JSON.parse has accepted. One pass, no recursion (a deeply nested body cannot overflow the stack).
 */
export function repeatedMemberPointer(text: string): string | undefined {
  return scan(text, false)?.pointer;
}

/** The first member named twice or number whole only once rounded (roundedToWhole), in text order; undefined when none. */
export function jsonTextFault(text: string): JsonTextFault | undefined {
  return scan(text, true);
}

/**
 * Whether a JSON number's text is a whole number by its digits (`1`, `-0`, `1e2`, `1.50e1`, `100.0`), not as a double
 * rounds it: its significant digits times 10 to a power that is not negative.
 */
function wholeAsWritten(token: string): boolean {
  const m = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(token);
  if (!m) return true; // not a JSON number: JSON.parse has refused the text already
  const fraction = m[2] ?? '';
  const digits = (m[1]! + fraction).replace(/^0+/, '');
  if (digits === '') return true; // zero, however written
  const trailingZeros = digits.length - digits.replace(/0+$/, '').length;
  // An exponent of hundreds of digits is ±Infinity here, which compares just as well.
  return Number(m[3] ?? 0) - fraction.length + trailingZeros >= 0;
}

/** A number JSON.parse reads as a whole one that its text is not (`1e-400` is 0, `0.99999999999999999` is 1). */
function roundedToWhole(token: string): boolean {
  return Number.isInteger(Number(token)) && !wholeAsWritten(token);
}

/** What follows a number's first character in JSON text: digits, `.`, `e`, `E`, `+`, `-`. */
const NUMBER_CHARS = new Set([...'0123456789.eE+-'].map((ch) => ch.charCodeAt(0)));

const pointerOf = (frames: Frame[], depth: number): string => {
  let pointer = '';
  for (let f = 0; f < depth; f++) pointer += `/${frames[f]!.array ? String(frames[f]!.index) : pointerToken(frames[f]!.name)}`;
  return pointer;
};

function scan(text: string, numbers: boolean): JsonTextFault | undefined {
  const frames: Frame[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x22) break;
        if (d === 0x5c /* \ */) {
          escaped = true;
          j++;
        }
      }
      const top = frames[frames.length - 1];
      if (top !== undefined && top.expectName) {
        const name = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (top.first === undefined) top.first = name;
        else if ((top.names ??= new Set([top.first])).has(name)) {
          return { fault: 'repeated-member', pointer: `${pointerOf(frames, frames.length - 1)}/${pointerToken(name)}` };
        }
        top.names?.add(name);
        top.name = name;
        top.expectName = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      frames.push({ array: false, expectName: true, first: undefined, names: undefined, name: '', index: 0 });
    } else if (c === 0x5b /* [ */) {
      frames.push({ array: true, expectName: false, first: undefined, names: undefined, name: '', index: 0 });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      frames.pop();
    } else if (numbers && (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39))) {
      // A number (outside strings, only numbers start with a digit or -): read to its end.
      let j = i + 1;
      while (j < n && NUMBER_CHARS.has(text.charCodeAt(j))) j++;
      if (roundedToWhole(text.slice(i, j))) return { fault: 'rounded-number', pointer: pointerOf(frames, frames.length) };
      i = j - 1;
    } else if (c === 0x2c /* , */) {
      const top = frames[frames.length - 1];
      if (top === undefined) continue;
      if (top.array) top.index++;
      else top.expectName = true;
    }
  }
  return undefined;
}
