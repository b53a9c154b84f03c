// A request target as the server received it (origin form: /path?query).

/** The path of a request target, without its query string. */
export function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}
