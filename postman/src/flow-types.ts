// The shape of the flow: ordered steps through the public API. The generator turns each step into one
// Postman request whose URL, method and body come from here and whose schema and name come from OpenAPI.
import type { Json, JsonObject } from './openapi.js';

export interface Step {
  /** `METHOD /path/{param}`: must be an operation of the services' OpenAPI documents. */
  readonly op: string;
  /** What this request shows; the OpenAPI summary when unset (the usual case for a success). */
  readonly name?: string;
  /** Collection variable holding the bearer token to send; no Authorization header when unset. */
  readonly auth?: string;
  /** A literal bearer token (for the invalid-token cases). */
  readonly bearer?: string;
  readonly params?: Readonly<Record<string, string>>;
  /** Query parameters; an array repeats the parameter (`?id=a&id=b`). */
  readonly query?: Readonly<Record<string, string | readonly string[]>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON body; strings may hold {{variables}}. */
  readonly body?: Json;
  /** The JSON body as text, where a {{variable}} must stand unquoted (a number computed by `pre`). */
  readonly rawJson?: string;
  /** application/x-www-form-urlencoded body instead of JSON. */
  readonly form?: Readonly<Record<string, string>>;
  /** Pre-request script (JavaScript): sets the variables this request uses. */
  readonly pre?: string;
  readonly expect: number;
  /** Problem slug expected in `type` for an error (https://ecommerce.local/problems/<slug>). */
  readonly problem?: string;
  /** The bad fields of a 400: `errors[]` names at least one of them and no other path. */
  readonly errors?: readonly string[];
  /** Extra assertions: test name -> JavaScript statements (`body`, `v(name)` and `pm` in scope). */
  readonly checks?: Readonly<Record<string, string>>;
  /** Collection variable -> JavaScript expression, stored when the status is the expected one. */
  readonly capture?: Readonly<Record<string, string>>;
  /** A success schema for an operation whose OpenAPI document declares none (said in the description). */
  readonly schema?: JsonObject;
  /** One line for the description. */
  readonly note?: string;
}

export interface Folder {
  readonly name: string;
  readonly description: string;
  readonly steps: readonly Step[];
}
