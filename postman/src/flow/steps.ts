// The builders the flow tables are written with: a step that expects a problem answer, the usual refusals,
// and the checks several folders repeat. Each returns a plain Step; collection.ts turns it into a request.
import type { Step } from '../flow-types.js';

export type Rest = Omit<Step, 'op' | 'name' | 'expect' | 'problem' | 'errors'>;

/** A request whose answer is a `status` problem of type `slug`. */
export const fails =
  (status: number, slug: string) =>
  (op: string, name: string, rest: Rest = {}): Step => ({ op, name, ...rest, expect: status, problem: slug });

export const unauthorized = fails(401, 'unauthorized');
export const forbidden = fails(403, 'forbidden');
export const notFound = fails(404, 'not-found');

/** A 400 whose `errors[]` names one of `errors` and nothing else. */
export const invalid = (op: string, name: string, errors: readonly string[], rest: Rest = {}): Step => ({ ...fails(400, 'validation-failed')(op, name, rest), errors });

/** A named request expected to answer 200. */
export const ok = (op: string, name: string, rest: Rest): Step => ({ op, name, ...rest, expect: 200 });

/** No Authorization header: 401 with a Bearer challenge. */
export const noToken = (op: string, name: string, rest: Rest = {}): Step => ({
  ...unauthorized(op, name, rest),
  checks: { 'WWW-Authenticate asks for a Bearer token': "pm.expect(pm.response.headers.get('WWW-Authenticate')).to.match(/^Bearer/);" },
});

/** Decodes the access token's parts in a check: `part(0)` is the header, `part(1)` the claims. */
export const jwtClaims = `
  const part = (i) => JSON.parse(require('atob')(body.accessToken.split('.')[i].replace(/-/g, '+').replace(/_/g, '/')));
`;
export const noSecrets = `pm.expect(Object.keys(body)).to.not.include.members(['password', 'passwordHash', 'password_hash', 'hash']);`;

/** A fresh Idempotency-Key per placement, kept in `orderKey` for a replay. */
const newKey = "pm.collectionVariables.set('orderKey', pm.variables.replaceIn('{{$guid}}'));";
export const withNewKey = { pre: newKey, headers: { 'Idempotency-Key': '{{orderKey}}' } };
export const sameKey = { headers: { 'Idempotency-Key': '{{orderKey}}' } };

/** Path parameters of the product and the order this run made. */
export const theProduct = { params: { id: '{{productId}}' } };
export const theOrder = { params: { id: '{{orderId}}' } };
export const unknownId = { params: { id: '{{$guid}}' } };
export const malformedId = { params: { id: 'not-a-uuid' } };
