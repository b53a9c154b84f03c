// A request no route takes (a 404) records its path on the server span: a client may put anything there (a token,
// an email, a reset link pasted into the wrong URL), and before, url.path held it verbatim. Now such a span keeps
// only the segments that are static segments of the process's routes (src/unrouted-path.ts, the kit's path-redaction.ts).
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { redactedPath } from '@ecommerce/kit/path-redaction';
import { SpanKind } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/sdk-trace-node';
import { startOtlpReceiver } from '../src/index.js';
import { tracedInstrumentations } from '../src/instrumentations.js';
import { UnroutedPathSpanProcessor } from '../src/unrouted-path.js';

const preload = join(import.meta.dirname, '..', 'src', 'register.js');
const fixture = join(import.meta.dirname, 'fixtures', 'traced-app.js');
const hexId = (bytes: number) => randomBytes(bytes).toString('hex');

type Receiver = Awaited<ReturnType<typeof startOtlpReceiver>>;
/**
 * The fixture's front service, traced by the preload, exporting to a receiver of its own; its back is `back` (the
 * receiver itself when 'receiver': a 404 for every path, which is all a client span needs). Both stopped afterwards.
 */
async function withTracedFront(back: string, body: (base: string, receiver: Receiver) => Promise<void>): Promise<void> {
  const receiver = await startOtlpReceiver({ port: 0, keepSpans: true });
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const child = fork(fixture, {
    execArgv: ['--import', preload],
    env: { ...clean, ROLE: 'front', BACK_URL: back === 'receiver' ? receiver.url : back, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'front', OTEL_BSP_SCHEDULE_DELAY: '100' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    const message = await new Promise<Record<string, unknown>>((resolve) => child.once('message', (m) => resolve(m as Record<string, unknown>)));
    await body(`http://127.0.0.1:${String(message.listening)}`, receiver);
  } finally {
    child.kill('SIGKILL');
    await receiver.close();
  }
}

/** A secret as a client could put it in a path: a token, a JWT-like value, an email, a password; at least 8 characters. */
const secret = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/),
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{4,20}$/), fc.stringMatching(/^[A-Za-z0-9_-]{4,20}$/), fc.stringMatching(/^[A-Za-z0-9_-]{4,20}$/)).map((p) => p.join('.')),
  fc.emailAddress().filter((e) => e.length >= 8),
  fc.string({ minLength: 8, maxLength: 30 }),
);

/** A request no route took: the kit's rule keeps only the known segments (packages/kit/src/path-redaction.ts). */
const unroutedPath = (path: string, known: ReadonlySet<string>) => redactedPath(path, false, known);

describe('unroutedPath', () => {
  it('keeps the known static segments and the slashes, replaces every other segment', () => {
    const known = new Set(['user', 'me']);
    assert.equal(unroutedPath('/user/abc.def', known), '/user/REDACTED');
    assert.equal(unroutedPath('/user/me/', known), '/user/me/');
    assert.equal(unroutedPath('/.env', known), '/REDACTED');
    assert.equal(unroutedPath('/', known), '/');
    assert.equal(unroutedPath(`/${'a/'.repeat(100)}`, known).split('/').length, 18);
  });
  it('whatever the path, then no segment but a known one survives, and it stays short', () => {
    const known = new Set(['user', 'product', 'order']);
    fc.assert(
      fc.property(fc.array(fc.oneof(secret.map(encodeURIComponent), fc.constantFrom('user', 'product', 'order', '')), { maxLength: 40 }), (segments) => {
        const out = unroutedPath(`/${segments.join('/')}`, known);
        for (const segment of out.split('/')) assert.ok(segment === '' || segment === 'REDACTED' || segment === '...' || known.has(segment), segment);
        assert.ok(out.length <= 17 * 9 + 4);
      }),
    );
  });
});

describe('url.path of a server span, written once', () => {
  /** A server span as @fastify/otel starts it: url.path is the request target, query string included. */
  function serverSpan(attributes: Record<string, string>) {
    const set: [string, unknown][] = [];
    const span = {
      kind: SpanKind.SERVER,
      attributes: { ...attributes },
      setAttribute(key: string, value: unknown) {
        set.push([key, value]);
        (this.attributes as Record<string, unknown>)[key] = value;
        return this;
      },
      updateName() {
        return this;
      },
    };
    return { span, set };
  }

  it('when a request starts, then the Fastify requestHook names the span and leaves url.path alone (@fastify/otel set it)', () => {
    const [fastify] = tracedInstrumentations(new Set(['fastify']));
    try {
      const hook = (fastify!.getConfig() as { requestHook: (span: unknown, request: unknown) => void }).requestHook;
      const { span, set } = serverSpan({ 'url.path': '/product/42?token=abc' });
      hook(span, { method: 'GET', url: '/product/42?token=abc', routeOptions: { url: '/product/:id' } });
      assert.deepEqual(set, []);
    } finally {
      fastify!.disable();
    }
  });

  it('when the span ends, then url.path is the path without its query string, redacted: routed or not, whatever the query holds', () => {
    const processor = new UnroutedPathSpanProcessor();
    fc.assert(
      fc.property(secret, fc.constantFrom('?', '?a=', '?token=', '?q=x&k='), (value, query) => {
        const q = `${query}${encodeURIComponent(value)}`;
        for (const [target, route, expected] of [
          [`/product/42${q}`, '/product/:id', '/product/42'],
          [`/product/0b2f9e1c-5d4a-4e3b-9c2d-1a0b9c8d7e6f${q}`, '/product/:id', '/product/0b2f9e1c-5d4a-4e3b-9c2d-1a0b9c8d7e6f'],
          [`/product/${encodeURIComponent(value)}x1${q}`, '/product/:id', '/product/REDACTED'],
          [`/no/such${q}`, undefined, '/REDACTED/REDACTED'],
        ] as const) {
          const { span } = serverSpan({ 'url.path': target, ...(route ? { 'http.route': route } : {}) });
          processor.onEnding(span as unknown as Span);
          assert.equal(span.attributes['url.path'], expected, target);
        }
      }),
    );
  });
});

describe('a 404 through a traced process', () => {
  it('when clients put secrets in the paths of unknown routes, then no span holds one, and url.path keeps the route names', async () => {
    const samples = fc.sample(fc.tuple(secret, fc.constantFrom('prefix', 'alone', 'deep')), 25);
    await withTracedFront('http://127.0.0.1:1', async (base, receiver) => {
      const traces: { traceId: string; secret: string; expected: string }[] = [];
      for (const [value, where] of samples) {
        const encoded = encodeURIComponent(value);
        const [path, expected] = where === 'prefix' ? [`/front/x/${encoded}`, '/front/REDACTED/REDACTED'] : where === 'alone' ? [`/${encoded}`, '/REDACTED'] : [`/front/${encoded}/front/${encoded}`, '/front/REDACTED/front/REDACTED'];
        const traceId = hexId(16);
        const res = await fetch(`${base}${path}`, { headers: { traceparent: `00-${traceId}-${hexId(8)}-01` } });
        await res.arrayBuffer();
        assert.equal(res.status, 404, path);
        traces.push({ traceId, secret: value, expected });
      }
      const spans = await receiver.waitFor((all) => traces.every((t) => all.some((s) => s.traceId === t.traceId && s.kind === 2)), 10_000);
      for (const { traceId, secret: value, expected } of traces) {
        const ofTrace = spans.filter((s) => s.traceId === traceId);
        const server = ofTrace.find((s) => s.kind === 2);
        assert.equal(server?.attributes['url.path'], expected, JSON.stringify(value));
        const text = JSON.stringify(ofTrace.map((s) => [s.name, s.attributes, s.events, s.resource, s.links]));
        for (const form of new Set([value, encodeURIComponent(value)])) assert.ok(!text.includes(form), `${JSON.stringify(form)} in a span: ${text.slice(0, 1000)}`);
      }
    });
  });
});

describe('a call through the traced front service, the client\'s secret in its path or as a query key', () => {
  it('when the front calls its back with that path, then its client span\'s url.full, url.path and url.query hold no secret, and a name or a UUID stays', async () => {
    // What a path may carry unescaped once the front has decoded its parameter (undici refuses a control character).
    // No '=': the secret is sent as a query key, and `oj=...` made `oj` the key (a name, kept by design) and the rest its value.
    // Nor what the kit's rule keeps by design as a name or a number (path-redaction.ts): `.toLocaleString__defineG`
    // was drawn once and kept, rightly.
    const samples = fc.sample(secret.filter((s) => /^[A-Za-z0-9._~@+!$'()*,;:-]+$/.test(s) && !/^(?:[A-Za-z.][A-Za-z._-]{0,31}|\d{1,20})$/.test(s)), 20);
    await withTracedFront('receiver', async (base, receiver) => {
      const traces: { traceId: string; secret: string }[] = [];
      for (const value of samples) {
        // The front calls `/items/<id>?token=<token>`: the id is the secret, and the token is `x&<secret>` (a key).
        const traceId = hexId(16);
        const res = await fetch(`${base}/front/${encodeURIComponent(value)}?token=${encodeURIComponent(`x&${value}`)}`, { headers: { traceparent: `00-${traceId}-${hexId(8)}-01` } });
        await res.arrayBuffer();
        traces.push({ traceId, secret: value });
      }
      const uuid = '5f0c7e6d-3b2a-4c19-8d7e-0123456789ab';
      const traceId = hexId(16);
      await (await fetch(`${base}/front/${uuid}?token=t`, { headers: { traceparent: `00-${traceId}-${hexId(8)}-01` } })).arrayBuffer();
      const spans = await receiver.waitFor((all) => [...traces, { traceId }].every((t) => all.some((s) => s.traceId === t.traceId && s.scope === '@opentelemetry/instrumentation-undici')), 10_000);
      for (const { traceId: id, secret: value } of traces) {
        const client = spans.find((s) => s.traceId === id && s.scope === '@opentelemetry/instrumentation-undici');
        const text = JSON.stringify(spans.filter((s) => s.traceId === id).map((s) => [s.name, s.attributes, s.events]));
        for (const form of new Set([value, encodeURIComponent(value)])) assert.ok(!text.includes(form), `${JSON.stringify(form)} in a span: ${JSON.stringify(client?.attributes)}`);
        assert.match(String(client?.attributes['url.full']), /\/items\/REDACTED\?token=REDACTED&REDACTED=REDACTED$/);
        assert.equal(client?.attributes['url.path'], '/items/REDACTED');
      }
      const kept = spans.find((s) => s.traceId === traceId && s.scope === '@opentelemetry/instrumentation-undici');
      assert.match(String(kept?.attributes['url.full']), new RegExp(`/items/${uuid}\\?token=REDACTED$`));
    });
  });
});

describe('the client\'s User-Agent, sent on by the traced front service (as the gateway\'s proxy does)', () => {
  it('when it holds an email, a token or 8 KB, then the front\'s client span\'s user_agent.original holds none of it, and the product names and versions stay', async () => {
    // A crawler's contact email in a comment, a key as a product token, a browser's own string, a long one.
    const values = fc.sample(fc.tuple(fc.emailAddress(), fc.stringMatching(/^[A-Za-z0-9_-]{12,40}$/).filter((t) => /\d/.test(t))), 10);
    const agents = values.map(([email, token], i) =>
      i % 2 === 0 ? `ShopBot/2.1 (+mailto:${email}; key=${token})` : `curl/8.5.0 ApiKey/${token} contact:${email}`);
    agents.push(`Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36`, `x/1 ${'a'.repeat(8000)}`);
    await withTracedFront('receiver', async (base, receiver) => {
      const traces: string[] = [];
      for (const agent of agents) {
        const traceId = hexId(16);
        await (await fetch(`${base}/front/x`, { headers: { traceparent: `00-${traceId}-${hexId(8)}-01`, 'user-agent': agent } })).arrayBuffer();
        traces.push(traceId);
      }
      const spans = await receiver.waitFor((all) => traces.every((id) => all.some((s) => s.traceId === id && s.scope === '@opentelemetry/instrumentation-undici')), 10_000);
      const recorded = traces.map((id) => spans.find((s) => s.traceId === id && s.scope === '@opentelemetry/instrumentation-undici')?.attributes['user_agent.original']);
      const secrets = values.flat();
      for (const [i, id] of traces.entries()) {
        const text = JSON.stringify(spans.filter((s) => s.traceId === id).map((s) => [s.name, s.attributes, s.events]));
        for (const value of secrets) assert.ok(!text.includes(value), `${JSON.stringify(value)} in a span: ${String(recorded[i])}`);
      }
      assert.equal(recorded[0], 'ShopBot/2.1');
      assert.equal(recorded[1], 'curl/8.5.0 REDACTED REDACTED');
      assert.equal(recorded.at(-2), 'Mozilla/5.0 AppleWebKit/537.36 Chrome/120.0.0.0 Safari/537.36');
      assert.equal(recorded.at(-1), 'x/1 REDACTED');
    });
  });
});
