// RFC 9457 answers as every service gives them (docs/api.md, "Errors").
import assert from 'node:assert/strict';

export interface ProblemJson {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors?: { path: string; message: string }[];
  [key: string]: unknown;
}

type Answer = { status: number; headers: Headers; body: unknown; text?: string };

/** Asserts an RFC 9457 answer with the given status (and slug), with no internals leaked. */
export function assertProblem(res: Answer, status: number, slug?: string): ProblemJson {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  // Problems are never cached (kit problem-errors), wherever they come from (a service, the gateway).
  assert.equal(res.headers.get('cache-control'), 'no-store', `cache-control of a ${status}`);
  const p = res.body as ProblemJson;
  assert.equal(p.status, status);
  assert.ok(p.type.startsWith('https://ecommerce.local/problems/'));
  assert.equal(typeof p.title, 'string');
  assert.equal(typeof p.detail, 'string');
  assert.equal(typeof p.instance, 'string');
  if (slug) assert.equal(p.type, `https://ecommerce.local/problems/${slug}`);
  assert.doesNotMatch(JSON.stringify(p), /at .*\.js:\d+|SELECT|INSERT|UPDATE |postgres/i);
  return p;
}

/** A 400 validation-failed problem whose `errors[]` names `path`. */
export function assertErrorAt(res: Answer, path: string, context = ''): void {
  const p = assertProblem(res, 400, 'validation-failed');
  assert.ok(p.errors?.some((e) => e.path === path), `${context} expected an error at ${path}, got ${JSON.stringify(p.errors)}`);
}

/** A 405 method-not-allowed problem whose `Allow` header lists exactly `allow` (e.g. `GET, HEAD`). */
export function assertMethodNotAllowed(res: Answer, allow: string): ProblemJson {
  const p = assertProblem(res, 405, 'method-not-allowed');
  assert.equal(res.headers.get('allow'), allow, `Allow of a 405: ${p.detail}`);
  return p;
}
