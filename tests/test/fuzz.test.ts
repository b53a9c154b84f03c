// The fuzz suite (#8): requests generated with fast-check from the services' own OpenAPI documents
// (plus the internal reservation routes, which the documents hide), sent to the real processes (128 MB
// heap) through the gateway and directly. Every operation, valid and broken bodies (wrong types, extra and
// missing fields, odd strings: NUL, lone surrogates, huge, bidi), huge arrays and numbers, bad ids, cursors,
// headers and content types, anonymous and with every kind of token.
// Asserted over the whole run: no 5xx, every error is problem+json with a small body, no request over 2 s,
// every process alive, and stock = initial + accepted restocks - units held by reservations.
// FUZZ_REQUESTS (default 20,000) sets the count, FUZZ_SEED replays a run, FUZZ_CONCURRENCY the parallelism.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { Pool } from 'undici';
import { http, login, serviceToken, uniqueEmail } from '@ecommerce/test-support';
import { latencyBound, startPlatform, type Platform } from '../src/platform.js';

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 20_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 12);
const MAX_ERROR_BODY = 16 * 1024;
// No request may take over 2 s (scaled when the machine is overloaded: latencyBound). The run prints the bound used.
const MAX_MS_BASE = Number(process.env.FUZZ_MAX_MS ?? 2000);
const maxMs = () => latencyBound(MAX_MS_BASE);

type Schema = Record<string, unknown>;
interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}
interface Operation {
  service: 'user' | 'product' | 'order';
  method: string;
  path: string;
  params: Param[];
  body?: Schema;
  internal?: boolean;
  secured: boolean;
}
interface FuzzRequest {
  op: Operation;
  direct: boolean;
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** For the stock ledger: an admin restock of a tracked product. */
  stockDelta?: { productId: string; delta: number };
}
interface Violation {
  what: string;
  request: string;
}

let platform: Platform;
let gw: string;
const tokens: Record<string, string> = {};
const ids = { products: [] as string[], orders: [] as string[], users: [] as string[] };
let productDb: pg.Client;

before(async () => {
  platform = await startPlatform();
  gw = platform.procs.gateway.base;
  tokens.admin = await login(gw, platform.admin.email, platform.admin.password);
  for (const who of ['alice', 'bob']) {
    const email = uniqueEmail(who);
    const reg = await http<{ id: string }>(gw, 'POST', '/user/register', { body: { email, password: 'password-123', name: who } });
    assert.equal(reg.status, 201, reg.text);
    ids.users.push(reg.body.id);
    tokens[who] = await login(gw, email, 'password-123');
  }
  tokens.service = await serviceToken(platform.procs.user.base, platform.orderClient);
  // Signed with the real key but wrong in content: a non-UUID sub, an unknown role, an expired-looking user.
  tokens.badSub = await platform.signUserToken({ role: 'customer' }, 'not-a-uuid');
  tokens.badRole = await platform.signUserToken({ role: 'root' }, randomUUID());
  tokens.ghost = await platform.signUserToken({ role: 'customer' }, randomUUID());
  for (let i = 0; i < 6; i++) {
    const p: { status: number; text: string; body: { id: string } } = await http<{ id: string }>(gw, 'POST', '/product', { token: tokens.admin, body: { sku: `FZ-${SEED}-${i}`, name: `Fuzz ${i}`, priceCents: 100 + i, stock: i === 0 ? 0 : 50, category: 'fuzz' } });
    assert.equal(p.status, 201, p.text);
    ids.products.push(p.body.id);
  }
  const order = await http<{ id: string }>(gw, 'POST', '/order', { token: tokens.alice, body: { items: [{ productId: ids.products[1], quantity: 1 }] }, headers: { 'idempotency-key': randomUUID() } });
  assert.equal(order.status, 201, order.text);
  ids.orders.push(order.body.id);
  productDb = new pg.Client({ connectionString: platform.db.urls.product });
  await productDb.connect();
});
after(async () => {
  await productDb?.end().catch(() => undefined);
  await platform?.stop();
});

/** Units per tracked product now, and units held by reservations that are still `reserved`. */
async function stockLedger(): Promise<{ stock: Map<string, number>; reserved: Map<string, number> }> {
  const stock = await productDb.query<{ id: string; stock: number }>('SELECT id::text, stock::int FROM catalog.products WHERE id = ANY($1::uuid[])', [ids.products]);
  const reserved = await productDb.query<{ id: string; units: number }>(
    `SELECT i.product_id::text AS id, sum(i.quantity)::int AS units FROM catalog.reservation_items i JOIN catalog.reservations r USING (order_id)
     WHERE r.status = 'reserved' AND i.product_id = ANY($1::uuid[]) GROUP BY i.product_id`,
    [ids.products],
  );
  return { stock: new Map(stock.rows.map((r) => [r.id, r.stock])), reserved: new Map(reserved.rows.map((r) => [r.id, r.units])) };
}

async function operations(): Promise<Operation[]> {
  const ops: Operation[] = [];
  for (const service of ['user', 'product', 'order'] as const) {
    const doc = await http<{ paths: Record<string, Record<string, { parameters?: Param[]; requestBody?: { content?: Record<string, { schema: Schema }> }; security?: unknown[] }>> }>(gw, 'GET', `/${service}/openapi.json`);
    assert.equal(doc.status, 200, `${service} openapi`);
    for (const [path, methods] of Object.entries(doc.body.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        ops.push({
          service,
          method: method.toUpperCase(),
          path,
          params: (op.parameters ?? []) as Param[],
          ...(op.requestBody?.content?.['application/json'] ? { body: op.requestBody.content['application/json'].schema } : {}),
          secured: (op.security ?? []).length > 0,
        });
      }
    }
  }
  // Hidden from the public documents (the ingress does not route them): described here.
  const uuid = { type: 'string', format: 'uuid' };
  const item = { type: 'object', additionalProperties: false, required: ['productId', 'quantity'], properties: { productId: uuid, quantity: { type: 'integer', minimum: 1, maximum: 1_000_000 } } };
  const reserve = { type: 'object', additionalProperties: false, required: ['orderId', 'items'], properties: { orderId: uuid, items: { type: 'array', minItems: 1, maxItems: 100, items: item }, notAfter: { type: 'string', format: 'date-time' } } };
  const orderIdParam: Param = { name: 'orderId', in: 'path', required: true, schema: uuid };
  ops.push({ service: 'product', method: 'POST', path: '/internal/reservations', params: [], body: reserve, internal: true, secured: true });
  ops.push({ service: 'product', method: 'GET', path: '/internal/reservations/{orderId}', params: [orderIdParam], internal: true, secured: true });
  ops.push({ service: 'product', method: 'DELETE', path: '/internal/reservations/{orderId}', params: [orderIdParam], internal: true, secured: true });
  return ops;
}

// ---------- generators ----------

const LONG = 'x'.repeat(70_000);
const oddStrings = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\u202eevil',
  '🙂'.repeat(300),
  'é'.repeat(1000),
  LONG,
  "'; DROP TABLE products; --",
  '%00',
  '../../etc/passwd',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '\r\nX-Injected: 1',
  '0190b0d6-2b7c-7000-8000-00000000000G',
  '00000000-0000-0000-0000-000000000000',
  'NaN',
  '-0',
);
const weirdNumbers = fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, -(2 ** 53) - 1, 0.5, -1, 0, 2 ** 31, -(2 ** 31) - 1, 1e21, 1e-300, 4294967296);
const weird: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: oddStrings },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: weirdNumbers },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
  { weight: 1, arbitrary: fc.constant(Array.from({ length: 20_000 }, () => ({}))) },
  { weight: 1, arbitrary: fc.constant(JSON.parse('['.repeat(2000) + ']'.repeat(2000)) as unknown) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer()), { maxKeys: 5 }) },
);

function valueArb(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 6) return fc.constant(null);
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  for (const key of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[key])) return fc.oneof(...(schema[key] as Schema[]).map((s) => valueArb(s, depth + 1)));
  }
  const type = Array.isArray(schema.type) ? (schema.type as string[])[0] : (schema.type as string | undefined);
  switch (type) {
    case 'string': {
      const pattern = String(schema.pattern ?? '');
      if (schema.format === 'uuid' || pattern.includes('[0-9a-fA-F]{8}')) return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ids.products, ...ids.orders, ...ids.users) }, { weight: 1, arbitrary: fc.uuid() });
      if (schema.format === 'email') return fc.oneof(fc.constant(uniqueEmail('fz')), fc.emailAddress());
      if (schema.format === 'date-time') return fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4e12) }).map((d) => d.toISOString());
      if (pattern === '^[A-Z]{3}$') return fc.constantFrom('USD', 'EUR', 'usd', 'US');
      const min = Number(schema.minLength ?? 0);
      const max = Math.min(Number(schema.maxLength ?? 40), 80);
      return fc.string({ minLength: min, maxLength: Math.max(min, max), unit: 'grapheme-ascii' });
    }
    case 'integer': {
      const min = Math.max(Number(schema.minimum ?? -1000), -1e9);
      const max = Math.min(Number(schema.maximum ?? 1000), 1e9);
      // Small values are what a real client sends (and what stock allows): biased towards them.
      return fc.oneof({ weight: 3, arbitrary: fc.integer({ min: Math.max(min, -5), max: Math.max(Math.min(max, 5), Math.max(min, -5)) }) }, { weight: 1, arbitrary: fc.integer({ min, max }) });
    }
    case 'number':
      return fc.double({ min: -1e6, max: 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(valueArb(schema.items as Schema, depth + 1), { minLength: Number(schema.minItems ?? 0), maxLength: Math.max(Number(schema.minItems ?? 0), Math.min(Number(schema.maxItems ?? 4), 4)) });
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      const required = (schema.required ?? []) as string[];
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) model[k] = valueArb(v, depth + 1);
      return fc.record(model, { requiredKeys: required.filter((k) => k in props) });
    }
    default:
      return fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.constant(null));
  }
}

/** Every JSON path (as keys) inside a value, the root included. */
function pathsOf(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (out.length > 200) return out;
  if (Array.isArray(v)) v.slice(0, 10).forEach((x, i) => pathsOf(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) pathsOf(x, [...prefix, k], out);
  return out;
}

const mutationArb = fc.record({
  kind: fc.constantFrom('none', 'none', 'replace', 'replace', 'delete', 'extra', 'wrap'),
  pick: fc.nat(),
  value: weird,
  key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'id', 'stock', 'userId', 'role', 'status', 'version', ''), fc.string({ maxLength: 12 })),
});

function mutate(value: unknown, m: { kind: string; pick: number; value: unknown; key: string }): unknown {
  if (m.kind === 'none') return value;
  const root = { v: structuredClone(value) as unknown };
  const paths = pathsOf(root.v);
  const path = paths[m.pick % paths.length] ?? [];
  let parent: Record<string | number, unknown> = root as unknown as Record<string, unknown>;
  let key: string | number = 'v';
  for (const p of path) {
    parent = parent[key] as Record<string | number, unknown>;
    key = p;
  }
  const target = parent[key];
  if (m.kind === 'replace') parent[key] = m.value;
  else if (m.kind === 'delete') delete parent[key];
  else if (m.kind === 'wrap') parent[key] = [target];
  else if (m.kind === 'extra') {
    if (target && typeof target === 'object' && !Array.isArray(target)) Object.defineProperty(target, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
    else parent[key] = m.value;
  }
  return root.v;
}

const rawBodies = fc.oneof(
  fc.constantFrom('{', '{"a":', '[]', 'null', '"text"', '\uFEFF{}', '{"a":1e999}', '1e999', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}', '{"a":1,"a":2}', 'true', ''),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.constant(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
);
const contentTypes = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/xml', '', 'application/json, text/plain', 'APPLICATION/JSON', '*/*') },
);
const tokenKinds = ['none', 'alice', 'bob', 'admin', 'service', 'badSub', 'badRole', 'ghost', 'garbage', 'malformed'] as const;
const cursorArb = fc.oneof(
  fc.base64String({ maxLength: 40 }),
  fc.constantFrom(Buffer.from('["x"]').toString('base64url'), Buffer.from('[1,2,3]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url'), Buffer.from(`["${randomUUID()}"]`).toString('base64url'), '%%%', '', LONG.slice(0, 3000)),
);

/** A value one time in `oneIn`, else null (fc.option's `freq` is the other way round: how rarely it is nil). */
function rarely<T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
}

function requestArb(ops: Operation[]): fc.Arbitrary<FuzzRequest> {
  // User routes that hash a password (register, login) are costly by design: they get a small share.
  const weightOf = (op: Operation) => (/register|login/.test(op.path) ? 1 : op.internal ? 4 : 5);
  const perOp = ops.map((op) => {
    const pathParams = op.params.filter((p) => p.in === 'path');
    const queryParams = op.params.filter((p) => p.in === 'query');
    const headerParams = op.params.filter((p) => p.in === 'header');
    const paramValue = (p: Param) => fc.oneof({ weight: 6, arbitrary: valueArb(p.schema) }, { weight: 2, arbitrary: weird }, { weight: p.name === 'cursor' ? 6 : 0, arbitrary: cursorArb });
    return {
      weight: weightOf(op),
      arbitrary: fc
        .record({
          direct: op.internal ? fc.constant(true) : fc.boolean(),
          path: fc.tuple(...pathParams.map(paramValue), fc.constant(null)),
          query: fc.tuple(...queryParams.map((p) => fc.option(paramValue(p), { nil: undefined, freq: 3 })), fc.constant(null)),
          extraQuery: rarely(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), 8),
          headers: fc.tuple(...headerParams.map((p) => fc.option(paramValue(p), { nil: undefined, freq: 6 })), fc.constant(null)),
          // Mostly the token the operation wants (so valid requests get far enough to change stock), every other kind too.
          token: fc.oneof(
            { weight: 4, arbitrary: fc.constant<(typeof tokenKinds)[number]>(op.internal ? 'service' : op.method === 'GET' || /order/.test(op.path) ? 'alice' : 'admin') },
            { weight: 6, arbitrary: fc.constantFrom(...tokenKinds) },
          ),
          body: op.body ? valueArb(op.body) : fc.constant(undefined),
          mutation: mutationArb,
          raw: rarely(rawBodies, 12),
          contentType: contentTypes,
          requestId: rarely(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('a'.repeat(300), 'ok-id-1')), 4),
          traceparent: rarely(fc.oneof(fc.string({ maxLength: 60 }), fc.constant('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')), 4),
          method: rarely(fc.constantFrom('PUT', 'PATCH', 'OPTIONS', 'HEAD', 'DELETE'), 25),
        })
        .map((g): FuzzRequest => {
          const base = g.direct ? platform.procs[op.service].base : gw;
          let path = op.path;
          pathParams.forEach((p, i) => (path = path.replace(`{${p.name}}`, encodePathSegment(toText(g.path[i])))));
          const qs = new URLSearchParams();
          queryParams.forEach((p, i) => g.query[i] !== undefined && qs.append(p.name, toText(g.query[i])));
          if (g.extraQuery) qs.append(g.extraQuery[0], g.extraQuery[1]);
          const headers: Record<string, string> = {};
          headerParams.forEach((p, i) => g.headers[i] !== undefined && (headers[p.name] = headerSafe(toText(g.headers[i]))));
          const token = tokenOf(g.token);
          if (token !== undefined) headers.authorization = token;
          if (g.requestId !== null) headers['x-request-id'] = headerSafe(g.requestId);
          if (g.traceparent !== null) headers.traceparent = headerSafe(g.traceparent);
          const method = g.method ?? op.method;
          let body: string | Buffer | undefined;
          if (g.raw !== null && method !== 'GET' && method !== 'HEAD') body = g.raw;
          else if (op.body && method !== 'GET' && method !== 'HEAD') body = JSON.stringify(mutate(g.body, g.mutation)) ?? 'null';
          if (body !== undefined && g.contentType) headers['content-type'] = g.contentType;
          const req: FuzzRequest = { op, direct: g.direct, url: `${base}${path}${qs.size ? `?${qs}` : ''}`, method, headers, ...(body === undefined ? {} : { body }) };
          const stockMatch = /^\/product\/([^/]+)\/stock$/.exec(path);
          if (stockMatch && method === 'POST' && typeof body === 'string') {
            const parsed = safeParse(body) as { delta?: unknown } | undefined;
            if (parsed && typeof parsed.delta === 'number') req.stockDelta = { productId: stockMatch[1]!, delta: parsed.delta };
          }
          return req;
        }),
    };
  });
  return fc.oneof(...perOp);
}

/** Percent-encodes a path segment; a lone surrogate (not encodable as UTF-8) is sent as the invalid bytes %ED%A0%80. */
function encodePathSegment(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return `${encodeURIComponent(s.replace(/[\ud800-\udfff]/g, ''))}%ED%A0%80`;
  }
}
function toText(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
}
/** Header values must be Latin-1 without CR/LF/NUL for the client to send them at all (Node refuses the rest itself). */
function headerSafe(s: string): string {
  return s.replace(/[^\x20-\x7e\x80-\xff\t]/g, '?').slice(0, 4000);
}
/** An error body that names the framework or shows a stack frame (the echoed path, which the client chose, is left out). */
function leaksInternals(text: string, path: string): boolean {
  const { instance: _instance, ...rest } = (safeParse(text) ?? {}) as Record<string, unknown>;
  const checked = JSON.stringify(rest).split(path).join('');
  return /FST_ERR/.test(checked) || /\b(fastify|ajv)\b|node_modules|at \S+\.js:\d+/i.test(checked);
}
function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
function tokenOf(kind: (typeof tokenKinds)[number]): string | undefined {
  if (kind === 'none') return undefined;
  if (kind === 'garbage') return 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.';
  if (kind === 'malformed') return 'Basic dXNlcjpwYXNz';
  return `Bearer ${tokens[kind]}`;
}

// ---------- the run ----------

describe('fuzz', () => {
  it(`sends ${REQUESTS} generated requests: no 5xx, problem+json errors under 16 KiB, none over 2 s (scaled by load), every process alive, stock accounted for`, { timeout: 600_000 }, async () => {
    const ops = await operations();
    assert.ok(ops.length >= 15, `operations found: ${ops.map((o) => `${o.method} ${o.path}`).join(', ')}`);
    const before = await stockLedger();
    const requests = fc.sample(requestArb(ops), { numRuns: REQUESTS, seed: SEED });
    const pools = new Map<string, Pool>();
    const poolFor = (origin: string) => {
      let p = pools.get(origin);
      if (!p) pools.set(origin, (p = new Pool(origin, { connections: CONCURRENCY, headersTimeout: 10_000, bodyTimeout: 10_000 })));
      return p;
    };
    const violations: Violation[] = [];
    const restocks = new Map<string, number>();
    const seenOps = new Set<string>();
    const perOp = new Map<string, { n: number; ms: number }>();
    const statuses = new Map<number, number>();
    let slowest = 0;
    let next = 0;
    const t0 = Date.now();
    const describeReq = (r: FuzzRequest) => `${r.method} ${r.url.slice(0, 200)} ${JSON.stringify(r.headers).slice(0, 200)} body=${String(r.body ?? '').slice(0, 200)}`;
    const worker = async () => {
      while (next < requests.length) {
        const r = requests[next++]!;
        const url = new URL(r.url);
        const started = performance.now();
        try {
          const res = await poolFor(url.origin).request({ method: r.method as 'GET', path: url.pathname + url.search, headers: r.headers, ...(r.body === undefined ? {} : { body: r.body }) });
          const text = await res.body.text();
          const ms = performance.now() - started;
          slowest = Math.max(slowest, ms);
          seenOps.add(`${r.op.method} ${r.op.path}`);
          const key = `${r.op.method} ${r.op.path}`;
          const stat = perOp.get(key) ?? { n: 0, ms: 0 };
          stat.n++;
          stat.ms += ms;
          perOp.set(key, stat);
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          const contentType = String(res.headers['content-type'] ?? '');
          if (process.env.FUZZ_DEBUG && `${r.op.method} ${r.op.path}`.includes(process.env.FUZZ_DEBUG)) console.log(res.statusCode, describeReq(r).slice(0, 400), text.slice(0, 200));
          if (res.statusCode >= 500) violations.push({ what: `${res.statusCode} ${text.slice(0, 300)}`, request: describeReq(r) });
          if (res.statusCode >= 400 && r.method !== 'HEAD') {
            if (!contentType.startsWith('application/problem+json')) violations.push({ what: `${res.statusCode} as ${contentType}: ${text.slice(0, 200)}`, request: describeReq(r) });
            else if ((safeParse(text) as { status?: number } | undefined)?.status !== res.statusCode) violations.push({ what: `problem body does not match status ${res.statusCode}: ${text.slice(0, 200)}`, request: describeReq(r) });
            if (leaksInternals(text, url.pathname)) violations.push({ what: `${res.statusCode} names internals: ${text.slice(0, 200)}`, request: describeReq(r) });
            if (text.length > MAX_ERROR_BODY) violations.push({ what: `${res.statusCode} error body of ${text.length} bytes`, request: describeReq(r) });
          }
          if (ms > maxMs()) violations.push({ what: `took ${Math.round(ms)} ms (${res.statusCode})`, request: describeReq(r) });
          if (r.stockDelta && res.statusCode === 200) restocks.set(r.stockDelta.productId, (restocks.get(r.stockDelta.productId) ?? 0) + r.stockDelta.delta);
        } catch (err) {
          violations.push({ what: `no answer: ${(err as Error).message}`, request: describeReq(r) });
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await Promise.all([...pools.values()].map((p) => p.close()));
    const seconds = (Date.now() - t0) / 1000;
    const slowOps = [...perOp].sort((a, b) => b[1].ms / b[1].n - a[1].ms / a[1].n).slice(0, 4).map(([k, v]) => `${k} ${Math.round(v.ms / v.n)} ms x${v.n}`);
    console.log(`fuzz: slowest operations on average: ${slowOps.join('; ')}`);
    console.log(`fuzz: ${REQUESTS} requests in ${seconds.toFixed(1)} s (seed ${SEED}, ${seenOps.size}/${ops.length} operations, slowest ${Math.round(slowest)} ms, bound ${Math.round(maxMs())} ms at load ${loadavg()[0]!.toFixed(1)}), statuses ${JSON.stringify(Object.fromEntries(statuses))}`);

    for (const p of Object.values(platform.procs)) assert.equal(p.exited, false, `${p.name} exited: ${JSON.stringify(p.exit)}\n${p.lines.slice(-10).join('\n')}`);
    for (const name of ['user', 'product', 'order', 'gateway'] as const) assert.equal((await http(platform.procs[name].base, 'GET', '/readyz')).status, 200, `${name} ready`);
    assert.deepEqual(violations.slice(0, 10), [], `${violations.length} violations (FUZZ_SEED=${SEED})`);
    assert.equal(seenOps.size, ops.length, 'every operation was exercised');

    const afterLedger = await stockLedger();
    for (const id of ids.products) {
      const expected = (before.stock.get(id) ?? 0) + (restocks.get(id) ?? 0) - ((afterLedger.reserved.get(id) ?? 0) - (before.reserved.get(id) ?? 0));
      assert.equal(afterLedger.stock.get(id), expected, `stock of ${id}: before ${before.stock.get(id)}, restocked ${restocks.get(id) ?? 0}, reserved ${before.reserved.get(id) ?? 0} -> ${afterLedger.reserved.get(id) ?? 0}`);
    }
  });
});
