// The token request's form body (application/x-www-form-urlencoded, RFC 6749 4.4.2 and appendix B), read strictly:
// @fastify/formbody decoded it leniently (bytes that are not UTF-8 became U+FFFD, `%FF` and `%ZZ` were kept as they
// came), so a malformed request reached client authentication and was answered 401 as a wrong secret, not the 400
// invalid_request RFC 6749 5.2 asks for.
import { isUtf8 } from 'node:buffer';
import { BadRequest, type App } from '@ecommerce/kit';

const FORM = 'application/x-www-form-urlencoded';

/** A name or value of the form: `+` is a space, then percent-decoded as UTF-8; null when that fails. */
function decoded(part: string): string | null {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/**
 * The fields of a form body. Each of `singleValued` at most once (RFC 6749 3.1: a parameter sent more than once is an
 * invalid request); another name may repeat (RFC 8707's `resource` does), its first value kept, as the route ignores
 * names it does not know (RFC 6749 3.2). The object has no prototype, so a field named `__proto__` is a field like any
 * other.
 */
function formFields(body: Buffer, singleValued: ReadonlySet<string>): Record<string, string> {
  if (!isUtf8(body)) throw new BadRequest('The form body is not UTF-8 text (RFC 6749 appendix B)');
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  const seen = new Set<string>();
  for (const pair of body.toString('utf8').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decoded(eq === -1 ? pair : pair.slice(0, eq));
    const value = decoded(eq === -1 ? '' : pair.slice(eq + 1));
    if (name === null || value === null) throw new BadRequest('The form body is not valid (bad percent-encoding, or escapes that are not UTF-8)');
    if (seen.has(name)) {
      if (singleValued.has(name)) throw new BadRequest(`${name} is sent more than once (RFC 6749 3.1)`, [{ path: `/${name}`, message: 'must be sent once' }]);
      continue;
    }
    seen.add(name);
    fields[name] = value;
  }
  return fields;
}

/** Form bodies, for the routes of `app`'s scope only; `singleValued`: the names a body may hold once only. */
export function acceptFormBodies(app: App, singleValued: readonly string[]): void {
  const once = new Set(singleValued);
  app.addContentTypeParser(FORM, { parseAs: 'buffer' }, (_request, body: Buffer, done) => {
    try {
      done(null, formFields(body, once));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
