// A JSON object that names a member twice (`{"quantity":1,"quantity":1000}`) is valid JSON text, but RFC 8259 4
// leaves its meaning to the reader ("unpredictable"), and I-JSON (RFC 7493 2.3) forbids it. JSON.parse keeps the
// last one; a proxy, a firewall or a log in front of a service may read the first, so what was checked or
// recorded is not what was served. Such a body is refused, as two header lines of a one-value field are.

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
const pointerToken = (name: string): string => name.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * The JSON pointer of the first member whose name its object already has (names compared as JSON.parse reads
 * them: `"a"` and `"\u0061"` are one name), or undefined when every object's names are distinct. `text` must be
 * JSON that JSON.parse has accepted. One pass, no recursion (a deeply nested body cannot overflow the stack).
 */
export function repeatedMemberPointer(text: string): string | undefined {
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
          let pointer = '';
          for (let f = 0; f < frames.length - 1; f++) pointer += `/${frames[f]!.array ? String(frames[f]!.index) : pointerToken(frames[f]!.name)}`;
          return `${pointer}/${pointerToken(name)}`;
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
    } else if (c === 0x2c /* , */) {
      const top = frames[frames.length - 1];
      if (top === undefined) continue;
      if (top.array) top.index++;
      else top.expectName = true;
    }
  }
  return undefined;
}
