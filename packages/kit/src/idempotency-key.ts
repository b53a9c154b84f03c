// The Idempotency-Key request header (draft-ietf-httpapi-idempotency-key-header), as every route that takes one
// declares it: POST /order, POST /user/register, POST /user/token/refresh, POST /product/:id/stock.
import { Type, type TString } from '@sinclair/typebox';

/**
 * One key: 1 to 255 characters, as docs/api.md gives it (the product service's stock key table CHECKs the same
 * length, services/product/migrations/007). Its characters are those of any header
 * value: Node refuses a control character (NUL, CR, LF, ...) before any schema runs, with a 400 problem; the same
 * key sent on two lines is refused by the request guards (plugins/request-guards.ts). A route adds only its
 * description: the bounds are this one's.
 */
export function IdempotencyKey(options: { description?: string } = {}): TString {
  return Type.String({ minLength: 1, maxLength: 255, ...options });
}
