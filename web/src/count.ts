/**
 * "1 item", "3 items", "0 items": a number and its noun, singular for exactly one. The plural is the singular
 * with an "s" unless given ("1 box", "2 boxes"). English only, like the rest of the app.
 */
export function countOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? singular : plural}`;
}
