// The storefront plugin (src/storefront.ts) on a built app of its own making: the HTML is never cached and
// carries the strict CSP, hashed assets are immutable and precompressed, client routes answer index.html,
// index.html itself and unknown paths do not (a browser's navigation to one gets the app with a 404), a page sent a POST is a 405, the API keeps its own headers; the static-only server of the
// storefront Deployment is ready only with the files there.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { get as getRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { assertMethodNotAllowed, assertProblem, http, listenOnLoopback, rawExchange, type Running } from '@ecommerce/test-support';
import { CLIENT_ROUTES, IMMUTABLE, STOREFRONT_COOP, STOREFRONT_CSP, buildStorefrontServer, loadStorefrontConfig } from '../src/storefront.js';
import { startGateway } from './harness.js';

const HTML = '<!doctype html><html><head><script type="module" src="/assets/app-1a2b3c.js"></script></head><body><div id="root"></div></body></html>';
const JS = `console.log(${JSON.stringify('x'.repeat(2000))});`;
let dir: string;

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'storefront-test-'));
  mkdirSync(path.join(dir, 'assets'));
  mkdirSync(path.join(dir, 'images'));
  writeFileSync(path.join(dir, 'index.html'), HTML);
  writeFileSync(path.join(dir, 'assets', 'app-1a2b3c.js'), JS);
  writeFileSync(path.join(dir, 'assets', 'app-1a2b3c.js.br'), brotliCompressSync(JS));
  writeFileSync(path.join(dir, 'assets', 'app-1a2b3c.js.gz'), gzipSync(JS));
  writeFileSync(path.join(dir, 'images', 'pot.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A GET with exactly these headers (fetch would add Accept-Encoding); the body is read and dropped. */
function plainGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    getRequest(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    }).on('error', reject);
  });
}

function gateway(storefrontDir: string): Promise<Running> {
  // Upstreams that answer nothing: the storefront must not depend on them.
  return startGateway({ USER_SERVICE_URL: 'http://127.0.0.1:9', PRODUCT_SERVICE_URL: 'http://127.0.0.1:9', ORDER_SERVICE_URL: 'http://127.0.0.1:9', STOREFRONT_DIR: storefrontDir });
}

describe('storefront served by the gateway', () => {
  it('when the app routes a page itself, then the gateway serves exactly those pages: the routes of web/src/main.tsx and of the admin page, nothing more', () => {
    const web = path.resolve(import.meta.dirname, '..', '..', '..', '..', 'web', 'src');
    /** Each `<Route index .../>` or `<Route path="..." .../>` of a file, as written: '' for an index route. */
    const routesOf = (file: string) =>
      [...readFileSync(path.join(web, file), 'utf8').matchAll(/<Route\b([^>]*)>/g)]
        .map(([, attributes]) => (/\bindex\b/.test(attributes!) ? '' : /\bpath="([^"]*)"/.exec(attributes!)?.[1]))
        .filter((route): route is string => route !== undefined);
    const app = routesOf('main.tsx');
    const admin = routesOf('pages/admin/AdminPage.tsx');
    assert.ok(app.includes('admin/*') && admin.includes('*'), 'the admin is nested under admin/* and has a not-found route');
    const pages = app
      .filter((route) => route !== '*')
      .flatMap((route) => (route === 'admin/*' ? admin.filter((r) => r !== '*').map((r) => (r ? `admin/${r}` : 'admin')) : [route]))
      .map((route) => `/${route}`);
    assert.deepEqual([...CLIENT_ROUTES].sort(), pages.sort());
  });

  it('when a browser asks for an address no page of the app has (under /admin, past a product id), then the app comes with status 404 and shows its not-found page; every page, with or without a trailing slash, comes with 200', async () => {
    const gw = await gateway(dir);
    const navigation = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
    try {
      await fc.assert(
        fc.asyncProperty(segment, segment, fc.boolean(), async (a, b, slash) => {
          const end = slash ? '/' : '';
          for (const page of [`/products/${a}`, `/orders/${a}`, `/admin/products/${a}`, `/admin/orders/${a}`]) {
            const res = await fetch(gw.base + page + end, { headers: navigation });
            assert.equal(res.status, 200, page + end);
            assert.equal(await res.text(), HTML);
          }
          const known = new Set(['products', 'orders', 'users']);
          const missing = [`/products/${a}/${b}`, `/orders/${a}/${b}`, `/admin/products/${a}/${b}`, `/admin/users/${a}`, `/cart/${a}`, ...(known.has(a) ? [] : [`/admin/${a}`])];
          for (const page of missing) {
            const res = await fetch(gw.base + page + end, { headers: navigation });
            assert.equal(res.status, 404, page + end);
            assert.equal(await res.text(), HTML, page + end);
            assert.equal(res.headers.get('content-security-policy'), STOREFRONT_CSP, page + end);
          }
        }),
        { numRuns: 40 },
      );
    } finally {
      await gw.app.close();
    }
  });

  it('when / or a client route is asked for, then index.html with no-cache and the strict CSP (no inline script allowed)', async () => {
    const gw = await gateway(dir);
    try {
      const routes = CLIENT_ROUTES.flatMap((r) => [r.replace(':id', 'some-id'), ...(r === '/' ? [] : [`${r.replace(':id', 'some-id')}/`])]);
      for (const route of routes) {
        const res = await fetch(gw.base + route);
        assert.equal(res.status, 200, route);
        assert.equal(await res.text(), HTML, route);
        assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
        assert.equal(res.headers.get('cache-control'), 'no-cache');
        assert.equal(res.headers.get('content-security-policy'), STOREFRONT_CSP);
        // Browsers that predate frame-ancestors read X-Frame-Options: never framed either way (clickjacking).
        assert.equal(res.headers.get('x-frame-options'), 'DENY', route);
      }
      assert.match(STOREFRONT_CSP, /frame-ancestors 'none'/);
      assert.match(STOREFRONT_CSP, /script-src 'self'(;|$)/);
      assert.doesNotMatch(STOREFRONT_CSP, /unsafe/);
      // Revalidation: the ETag answers 304.
      const first = await fetch(`${gw.base}/`);
      const etag = first.headers.get('etag');
      assert.ok(etag);
      assert.equal((await fetch(`${gw.base}/`, { headers: { 'if-none-match': etag } })).status, 304);
      // Each encoding's revalidation (send answers the plain copy's 304 itself) keeps no-cache and the CSP.
      for (const encoding of [undefined, 'identity', 'br', 'gzip']) {
        const only: Record<string, string> = encoding ? { 'accept-encoding': encoding } : {};
        const full = await plainGet(`${gw.base}/cart`, only);
        const again = await plainGet(`${gw.base}/cart`, { ...only, 'if-none-match': String(full.headers.etag) });
        assert.equal(again.status, 304, encoding);
        assert.equal(again.headers['cache-control'], 'no-cache', encoding);
        assert.equal(again.headers['content-security-policy'], STOREFRONT_CSP, encoding);
      }
    } finally {
      await gw.app.close();
    }
  });

  it('when a page is sent (a client route, its 304, its HEAD, the 404 page of an unknown path), then Cross-Origin-Opener-Policy: same-origin, so another site that opened it keeps no handle on it (gateway and static-only server alike)', async () => {
    const gw = await gateway(dir);
    const staticOnly = await buildStorefrontServer(loadStorefrontConfig({ LOG_LEVEL: 'silent', PORT: '0', STOREFRONT_DIR: dir }));
    const navigation = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    try {
      assert.equal(STOREFRONT_COOP, 'same-origin');
      for (const b of [gw.base, await listenOnLoopback(staticOnly)]) {
        for (const route of [...CLIENT_ROUTES.map((r) => r.replace(':id', 'x')), '/nope', '/admin/nope', '/products/%ZZ']) {
          const full = await plainGet(b + route, navigation);
          assert.equal(full.headers['cross-origin-opener-policy'], 'same-origin', `${b}${route} ${full.status}`);
          const again = await plainGet(b + route, { ...navigation, 'if-none-match': String(full.headers.etag) });
          if (again.status === 304) assert.equal(again.headers['cross-origin-opener-policy'], 'same-origin', `${b}${route} 304`);
          const head = await fetch(b + route, { method: 'HEAD', headers: navigation });
          assert.equal(head.headers.get('cross-origin-opener-policy'), 'same-origin', `${b}${route} HEAD`);
        }
      }
    } finally {
      await gw.app.close();
      await staticOnly.close();
    }
  });

  it('when a GET holds the current version by If-None-Match (`*`, its tag weak or strong in any list, on any field line) or If-Modified-Since, then 304 whatever its Cache-Control; a list without it the full 200 (RFC 9110 13.1.2, 13.1.3)', async () => {
    const gw = await gateway(dir);
    const opaque = fc.stringMatching(/^[a-z0-9,*-]{0,8}$/).map((t) => `"${t}"`);
    const tag = fc.tuple(fc.boolean(), opaque).map(([weak, t]) => (weak ? `W/${t}` : t));
    const gap = fc.constantFrom('', ' ', '\t', ' , ', ',,');
    /** A field value of `tags` joined as a list with optional whitespace and empty elements (RFC 9110 5.6.1). */
    const list = (tags: string[], gaps: string[]) => tags.map((t, i) => (i ? `,${gaps[i] ?? ''}` : gaps[0] ?? '') + t).join('');
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('/', '/cart', '/products/x', '/assets/app-1a2b3c.js', '/images/pot.svg'),
          fc.constantFrom(undefined, 'identity', 'br'),
          fc.constantFrom(undefined, 'no-cache', 'max-age=0', 'no-cache, no-store'),
          fc.array(tag, { maxLength: 4 }),
          fc.array(gap, { maxLength: 5 }),
          fc.constantFrom('none', 'weak', 'strong', 'star', 'star-line'),
          fc.nat(4),
          async (p, encoding, cacheControl, others, gaps, held, at) => {
            const base: Record<string, string> = { ...(encoding ? { 'accept-encoding': encoding } : {}), ...(cacheControl ? { 'cache-control': cacheControl } : {}) };
            const full = await plainGet(gw.base + p, base);
            assert.equal(full.status, 200, p);
            const etag = String(full.headers.etag);
            const opaqueOf = etag.replace(/^W\//, '');
            // The other tags never name this version (a random one might, by chance).
            const tags = others.filter((t) => t.replace(/^W\//, '') !== opaqueOf);
            if (held === 'weak') tags.splice(at % (tags.length + 1), 0, `W/${opaqueOf}`);
            if (held === 'strong') tags.splice(at % (tags.length + 1), 0, opaqueOf);
            const value = held === 'star' ? '*' : list(tags, gaps);
            const lines = held === 'star-line' ? [value, '*'] : [value];
            // Two field lines are sent as two (typed as one string under its lowercase name).
            const headers: OutgoingHttpHeaders = { ...base };
            headers['If-None-Match'] = lines;
            const res = await new Promise<{ status: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
              const request = getRequest(gw.base + p, { headers }, (r) => {
                r.resume();
                r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers }));
              });
              request.on('error', reject);
            });
            const label = `${p} ${JSON.stringify(lines)} cache-control ${cacheControl} encoding ${encoding}`;
            assert.equal(res.status, held === 'none' ? 200 : 304, label);
            if (res.status === 304) {
              assert.equal(res.headers.etag, etag, label);
              assert.equal(res.headers['cache-control'], full.headers['cache-control'], label);
            }
          },
        ),
        { numRuns: 150 },
      );
      // If-Modified-Since (no If-None-Match): its Last-Modified or later is a 304, earlier or not a date the full answer.
      for (const cacheControl of [{}, { 'cache-control': 'no-cache' }] as Record<string, string>[]) {
        const full = await plainGet(`${gw.base}/images/pot.svg`, cacheControl);
        const modified = String(full.headers['last-modified']);
        const at = Date.parse(modified);
        for (const [since, status] of [[modified, 304], [new Date(at + 60_000).toUTCString(), 304], [new Date(at - 60_000).toUTCString(), 200], ['yesterday', 200]] as const) {
          assert.equal((await plainGet(`${gw.base}/images/pot.svg`, { ...cacheControl, 'if-modified-since': since })).status, status, `${since} ${JSON.stringify(cacheControl)}`);
        }
        // If-None-Match wins over it (13.1.3): another tag is the full answer even with the date held.
        assert.equal((await plainGet(`${gw.base}/images/pot.svg`, { ...cacheControl, 'if-modified-since': modified, 'if-none-match': '"other"' })).status, 200);
      }
    } finally {
      await gw.app.close();
    }
  });

  it('when a HEAD carries the validators its GET is answered 304 for (If-None-Match, If-Modified-Since), then the same 304 with the same headers and no Content-Length (a page was a 500), gateway and static-only server alike', async () => {
    const gw = await gateway(dir);
    const staticOnly = await buildStorefrontServer(loadStorefrontConfig({ LOG_LEVEL: 'silent', PORT: '0', STOREFRONT_DIR: dir }));
    /** The status and headers of one request with exactly these headers (the body, if any, read and dropped). */
    const exchange = (method: string, url: string, headers: Record<string, string>) =>
      new Promise<{ status: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
        const request = getRequest(url, { method, headers }, (r) => {
          r.resume();
          r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers }));
        });
        request.on('error', reject);
      });
    const sameHeaders = ['etag', 'last-modified', 'cache-control', 'content-security-policy', 'vary', 'content-type'];
    try {
      const bases = [gw.base, await listenOnLoopback(staticOnly)];
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(0, 1),
          fc.constantFrom('/', '/cart', '/products/x', '/orders/y', '/assets/app-1a2b3c.js', '/images/pot.svg'),
          fc.constantFrom('etag', 'weak', 'star', 'since', 'other'),
          fc.constantFrom(undefined, 'text/html', '*/*'),
          fc.constantFrom(undefined, 'no-cache', 'max-age=0'),
          fc.constantFrom(undefined, 'br'),
          async (which, p, held, accept, cacheControl, encoding) => {
            const base: Record<string, string> = { ...(accept ? { accept } : {}), ...(cacheControl ? { 'cache-control': cacheControl } : {}), ...(encoding ? { 'accept-encoding': encoding } : {}) };
            const full = await exchange('GET', bases[which]! + p, base);
            assert.equal(full.status, 200, p);
            const etag = String(full.headers.etag);
            const condition: Record<string, string> =
              held === 'since' ? { 'if-modified-since': String(full.headers['last-modified']) }
              : { 'if-none-match': held === 'star' ? '*' : held === 'weak' ? `W/${etag.replace(/^W\//, '')}` : held === 'other' ? '"other"' : etag };
            const label = `${which ? 'static-only' : 'gateway'} HEAD ${p} ${JSON.stringify({ ...base, ...condition })}`;
            const get = await exchange('GET', bases[which]! + p, { ...base, ...condition });
            const head = await exchange('HEAD', bases[which]! + p, { ...base, ...condition });
            assert.equal(get.status, held === 'other' ? 200 : 304, label);
            assert.equal(head.status, get.status, label);
            for (const h of sameHeaders) assert.equal(head.headers[h], get.headers[h], `${label}: ${h}`);
            // RFC 9110 8.6: a Content-Length on a 304 or a HEAD answer is the length of the 200's content, or absent.
            if (head.status === 304) assert.equal(head.headers['content-length'], undefined, label);
            else assert.equal(head.headers['content-length'], get.headers['content-length'], label);
          },
        ),
        { numRuns: 120 },
      );
    } finally {
      await gw.app.close();
      await staticOnly.close();
    }
  });

  it('when If-Modified-Since names a time more than a minute past the server clock, then it is ignored: the full 200 with the body, GET and HEAD, gateway and static-only server alike; a date from the Last-Modified up to a minute ahead is still a 304 (RFC 2616 14.25, as Apache)', async () => {
    const gw = await gateway(dir);
    const staticOnly = await buildStorefrontServer(loadStorefrontConfig({ LOG_LEVEL: 'silent', PORT: '0', STOREFRONT_DIR: dir }));
    const exchange = (method: string, url: string, headers: Record<string, string>) =>
      new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const request = getRequest(url, { method, headers }, (r) => {
          let body = '';
          r.setEncoding('latin1');
          r.on('data', (d: string) => (body += d));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body }));
        });
        request.on('error', reject);
      });
    try {
      const bases = [gw.base, await listenOnLoopback(staticOnly)];
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(0, 1),
          fc.constantFrom('/', '/cart', '/assets/app-1a2b3c.js', '/images/pot.svg'),
          fc.constantFrom('GET', 'HEAD'),
          fc.constantFrom(undefined, 'no-cache'),
          // ahead of the clock by more than the minute allowed (HTTP dates drop the milliseconds), up to ten years
          fc.integer({ min: 62_000, max: 10 * 365 * 86_400_000 }),
          // a date the client may hold: its Last-Modified or up to 50 s later (within the minute ahead of the clock)
          fc.integer({ min: 0, max: 50_000 }),
          async (which, p, method, cacheControl, ahead, held) => {
            const base: Record<string, string> = cacheControl ? { 'cache-control': cacheControl } : {};
            const full = await exchange(method, bases[which]! + p, base);
            assert.equal(full.status, 200, p);
            const future = new Date(Date.now() + ahead).toUTCString();
            const label = `${which ? 'static-only' : 'gateway'} ${method} ${p} ${future} ${JSON.stringify(base)}`;
            const res = await exchange(method, bases[which]! + p, { ...base, 'if-modified-since': future });
            assert.equal(res.status, 200, label);
            assert.equal(res.body, full.body, label);
            assert.equal(res.headers['content-length'], full.headers['content-length'], label);
            const lastModified = Date.parse(String(full.headers['last-modified']));
            const since = new Date(lastModified + held).toUTCString();
            assert.equal((await exchange(method, bases[which]! + p, { ...base, 'if-modified-since': since })).status, 304, `${label} held ${since}`);
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      await gw.app.close();
      await staticOnly.close();
    }
  });

  it('when a page link carries a query the API would refuse (a stray %, %FF, a NUL), then the app still opens (the query is its own); the API keeps refusing it', async () => {
    const gw = await gateway(dir);
    try {
      for (const qs of ['q=%ZZ', 'q=%', 'category=%FF', 'q=%00', 'x=%00']) {
        for (const page of ['/', '/cart', '/products/some-id']) {
          const res = await fetch(`${gw.base}${page}?${qs}`, { headers: { accept: 'text/html' } });
          assert.equal(res.status, 200, `${page}?${qs}`);
          assert.equal(await res.text(), HTML, `${page}?${qs}`);
        }
        // Not a page: the proxied API route refuses it at the edge.
        assert.equal((await fetch(`${gw.base}/product?${qs}`)).status, 400, `/product?${qs}`);
      }
    } finally {
      await gw.app.close();
    }
  });

  it('when a browser navigates to a page path with a broken escape or a NUL (/products/%ZZ, %FF, %00), then the app opens (a client route 200, another path 404) with its headers; the API and every other client keep the 400 problem', async () => {
    const gw = await gateway(dir);
    // A path segment with at least one escape the router cannot decode: a lone or short %, a non-hex one, bytes that are not UTF-8.
    const broken = fc
      .tuple(fc.string({ maxLength: 6, unit: fc.constantFrom('a', 'Z', '0', '-', '%41', '%C3%A9', '%2F', '%00') }), fc.constantFrom('%', '%Z', '%ZZ', '%FF', '%C3', '%E2%82', '%ED%A0%80', '%%'), fc.string({ maxLength: 6, unit: fc.constantFrom('a', '%', '%2', '9') }))
      .map(([a, bad, b]) => a + bad + b)
      // "%C3" then "%aa" is "ê": only segments the router cannot decode.
      .filter((segment) => {
        try {
          decodeURI(segment);
          return false;
        } catch {
          return true;
        }
      });
    const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    try {
      await fc.assert(
        fc.asyncProperty(broken, fc.constantFrom('', '?q=x', '?q=%ZZ'), async (segment, query) => {
          for (const [page, status] of [[`/products/${segment}`, 200], [`/orders/${segment}`, 200], [`/admin/products/${segment}`, 200], [`/${segment}`, 404], [`/no-such/${segment}`, 404]] as const) {
            const res = await fetch(gw.base + page + query, { headers: html });
            assert.equal(res.status, status, page + query);
            assert.equal(await res.text(), HTML, page + query);
            assert.equal(res.headers.get('content-security-policy'), STOREFRONT_CSP, page + query);
            assert.equal(res.headers.get('cache-control'), 'no-cache', page + query);
            // Not a navigation (fetch, curl): the 400 problem, naming the path as it came.
            const p = assertProblem(await http(gw.base, 'GET', page + query), 400, 'bad-request');
            assert.equal((p as { instance?: string }).instance, page, page + query);
          }
          // The API's own routes, navigated to or not: the 400 problem, never the app nor a call upstream.
          for (const api of [`/product/${segment}`, `/user/${segment}`, `/order/${segment}`]) {
            for (const headers of [html, {}]) {
              const res = await http(gw.base, 'GET', api + query, { headers });
              const p = assertProblem(res, 400, 'bad-request');
              assert.match((p as { detail?: string }).detail ?? '', /percent-encoding/, api);
              assert.equal((p as { instance?: string }).instance, api, api + query);
            }
          }
          assert.equal((await http(gw.base, 'POST', `/products/${segment}`, { headers: html })).status, 400);
        }),
        { numRuns: 40 },
      );
      // A NUL in a page's path is the app's to say too (it asks the API, which refuses it); the API still refuses it.
      assert.equal((await fetch(`${gw.base}/products/a%00b`, { headers: html })).status, 200);
      const nul = await fetch(`${gw.base}/product/a%00b`, { headers: html });
      assert.equal(nul.status, 400);
      assert.match(nul.headers.get('content-type') ?? '', /problem\+json/);
      // HEAD as a navigation: the page's status and headers.
      const head = await fetch(`${gw.base}/products/%ZZ`, { method: 'HEAD', headers: html });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-security-policy'), STOREFRONT_CSP);
    } finally {
      await gw.app.close();
    }
  });

  it('when a hashed asset is asked for, then it is immutable for a year and sent brotli-compressed to a browser that accepts it', async () => {
    const gw = await gateway(dir);
    try {
      const br = await fetch(`${gw.base}/assets/app-1a2b3c.js`, { headers: { 'accept-encoding': 'br' } });
      assert.equal(br.status, 200);
      assert.equal(br.headers.get('cache-control'), IMMUTABLE);
      assert.equal(br.headers.get('content-encoding'), 'br');
      assert.equal(await br.text(), JS, 'fetch decodes it back to the file');
      const plain = await fetch(`${gw.base}/assets/app-1a2b3c.js`, { headers: { 'accept-encoding': 'identity' } });
      assert.equal(plain.headers.get('content-encoding'), null);
      assert.equal(await plain.text(), JS);
      const image = await fetch(`${gw.base}/images/pot.svg`);
      assert.equal(image.status, 200);
      assert.equal(image.headers.get('cache-control'), 'public, max-age=3600');
    } finally {
      await gw.app.close();
    }
  });

  it('when a precompressed copy (.br, .gz) is asked for by its own name, then the 404 of a missing file whatever the Accept-Encoding; the original is still sent in the encoding accepted, with Vary', async () => {
    const gw = await gateway(dir);
    const navigation = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    try {
      for (const copy of ['/assets/app-1a2b3c.js.br', '/assets/app-1a2b3c.js.gz']) {
        for (const encoding of [undefined, 'identity', 'br', 'gzip', 'br, gzip']) {
          const only: Record<string, string> = encoding ? { 'accept-encoding': encoding } : {};
          const label = `${copy} accept-encoding ${encoding}`;
          // Not a file of the app: the API's 404 problem (as /assets/nope.js), never the bytes as application/octet-stream.
          const res = await http(gw.base, 'GET', copy, { headers: only });
          assertProblem(res, 404, 'not-found');
          assert.notEqual(res.headers.get('content-type'), 'application/octet-stream', label);
          assert.equal((await plainGet(gw.base + copy, only)).status, 404, label);
          const head = await fetch(gw.base + copy, { method: 'HEAD', headers: only });
          assert.equal(head.status, 404, label);
          // A browser's navigation to it: the app's not-found page, as for any unknown path.
          const page = await fetch(gw.base + copy, { headers: { ...only, accept: navigation } });
          assert.equal(page.status, 404, label);
          assert.match(page.headers.get('content-type') ?? '', /^text\/html/, label);
        }
      }
      // The original negotiates: each accepted encoding is sent as the Content-Encoding, with Vary: accept-encoding.
      for (const [accept, sent] of [['br', 'br'], ['gzip', 'gzip'], ['gzip, br', 'br'], ['identity', undefined], [undefined, undefined]] as const) {
        const res = await plainGet(`${gw.base}/assets/app-1a2b3c.js`, accept ? { 'accept-encoding': accept } : {});
        assert.equal(res.status, 200, accept);
        assert.equal(res.headers['content-encoding'], sent, accept);
        assert.equal(res.headers.vary, 'accept-encoding', accept);
        assert.match(res.headers['content-type'] ?? '', /javascript/, accept);
      }
      const gz = await fetch(`${gw.base}/assets/app-1a2b3c.js`, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(gz.headers.get('content-encoding'), 'gzip');
      assert.equal(await gz.text(), JS, 'fetch decodes it back to the file');
    } finally {
      await gw.app.close();
    }
  });

  it('when /index.html, a missing file, a path outside the folder or an unknown path is asked for, then the API 404 problem, no storefront headers', async () => {
    const gw = await gateway(dir);
    try {
      for (const p of ['/index.html', '/assets/nope.js', '/nope', '/assets/..%2f..%2fetc%2fpasswd', '/..%2findex.html']) {
        const res = await fetch(gw.base + p);
        assert.equal(res.status, 404, p);
        assert.match(res.headers.get('content-type') ?? '', /problem\+json/, p);
        assert.notEqual(res.headers.get('content-security-policy'), STOREFRONT_CSP, p);
      }
      // The API's own routes keep their answers (the upstreams are down here: 503 problem, not the app).
      const api = await fetch(`${gw.base}/product`);
      assert.equal(api.status, 503);
      assert.match(api.headers.get('content-type') ?? '', /problem\+json/);
    } finally {
      await gw.app.close();
    }
  });

  it('when a file or folder of the app is a symlink whose real path is outside it (a secret, /etc/passwd, a folder), then the 404 problem of a missing file and nothing of it leaks, also as the precompressed copy; a symlink within the app and a plain file are still served (gateway and static-only server alike)', async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'storefront-symlink-'));
    const root = path.join(parent, 'app');
    const outside = path.join(parent, 'outside');
    mkdirSync(path.join(root, 'assets'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(path.join(root, 'index.html'), HTML);
    writeFileSync(path.join(root, 'assets', 'app-1a2b3c.js'), JS);
    writeFileSync(path.join(outside, 'secret.txt'), 'SECRET-outside');
    writeFileSync(path.join(outside, 'secret.txt.br'), brotliCompressSync('SECRET-outside-br'));
    symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'secret.txt'));
    symlinkSync('/etc/passwd', path.join(root, 'passwd.txt'));
    symlinkSync(outside, path.join(root, 'linked'));
    // A real file whose brotli copy is a link outside: the copy is a file the app does not have.
    writeFileSync(path.join(root, 'assets', 'plain.js'), JS);
    symlinkSync(path.join(outside, 'secret.txt.br'), path.join(root, 'assets', 'plain.js.br'));
    // A link that stays within the app (as a Kubernetes volume's ..data links do) is the app's own file.
    symlinkSync(path.join(root, 'assets', 'app-1a2b3c.js'), path.join(root, 'assets', 'alias.js'));
    const gw = await gateway(root);
    const only = await buildStorefrontServer(loadStorefrontConfig({ LOG_LEVEL: 'silent', PORT: '0', STOREFRONT_DIR: root }));
    try {
      for (const base of [gw.base, await listenOnLoopback(only)]) {
        for (const p of ['/secret.txt', '/passwd.txt', '/linked/secret.txt', '/linked/secret.txt.br']) {
          for (const encoding of ['identity', 'br, gzip']) {
            const res = await http(base, 'GET', p, { headers: { 'accept-encoding': encoding } });
            assertProblem(res, 404, 'not-found');
            assert.doesNotMatch(res.text, /SECRET|root:/, `${base}${p}`);
          }
        }
        const plain = await fetch(`${base}/assets/plain.js`, { headers: { 'accept-encoding': 'br' } });
        const plainText = await plain.text();
        assert.doesNotMatch(plainText, /SECRET/);
        assert.equal(plain.status, 404, `${base}/assets/plain.js has a brotli copy outside the app`);
        for (const p of ['/assets/app-1a2b3c.js', '/assets/alias.js']) {
          const res = await fetch(base + p, { headers: { 'accept-encoding': 'identity' } });
          assert.equal(res.status, 200, `${base}${p}`);
          assert.equal(await res.text(), JS);
        }
        assert.equal(await (await fetch(`${base}/cart`)).text(), HTML);
      }
    } finally {
      await gw.app.close();
      await only.close();
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('when a file of the app, or its precompressed copy, becomes a symlink out of the folder after the server started (or a new one appears), then the 404 problem of a missing file and nothing of it leaks (the check is made as each file is sent, gateway and static-only server alike)', async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'storefront-later-link-'));
    const root = path.join(parent, 'app');
    const outside = path.join(parent, 'outside');
    mkdirSync(path.join(root, 'assets'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(path.join(root, 'index.html'), HTML);
    for (const name of ['swapped.js', 'copy-swapped.js']) {
      writeFileSync(path.join(root, 'assets', name), JS);
      writeFileSync(path.join(root, 'assets', `${name}.br`), brotliCompressSync(JS));
    }
    writeFileSync(path.join(outside, 'secret.txt'), 'SECRET-outside');
    writeFileSync(path.join(outside, 'secret.txt.br'), brotliCompressSync('SECRET-outside-br'));
    const gw = await gateway(root);
    const only = await buildStorefrontServer(loadStorefrontConfig({ LOG_LEVEL: 'silent', PORT: '0', STOREFRONT_DIR: root }));
    try {
      const bases = [gw.base, await listenOnLoopback(only)];
      for (const base of bases) assert.equal((await fetch(`${base}/assets/swapped.js`, { headers: { 'accept-encoding': 'identity' } })).status, 200, base);
      // After start: a served file and a served file's brotli copy replaced by links out of the folder; a new link.
      for (const [link, target] of [
        ['swapped.js', 'secret.txt'],
        ['swapped.js.br', 'secret.txt.br'],
        ['copy-swapped.js.br', 'secret.txt.br'],
        ['new.js', 'secret.txt'],
      ] as const) {
        rmSync(path.join(root, 'assets', link), { force: true });
        symlinkSync(path.join(outside, target), path.join(root, 'assets', link));
      }
      for (const base of bases) {
        for (const p of ['/assets/swapped.js', '/assets/copy-swapped.js', '/assets/new.js']) {
          for (const encoding of ['identity', 'br']) {
            const res = await http(base, 'GET', p, { headers: { 'accept-encoding': encoding } });
            assert.doesNotMatch(res.text, /SECRET/, `${base}${p} ${encoding}`);
            // A file whose copy leads out is none of the app's, whatever encoding is accepted (withinRoot).
            assertProblem(res, 404, 'not-found');
          }
        }
      }
    } finally {
      await gw.app.close();
      await only.close();
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('when any path is asked for (dot segments written, escaped or doubly escaped, backslashes, NULs, broken escapes, dotfiles, a sibling folder sharing the name, very long), then only a file of the app or the app page comes back, else a 4xx, never a 5xx (fast-check, gateway and static-only server)', async () => {
    // The app's folder holds a dotfile, and sits next to a file and a folder whose name starts like its own: none of
    // them is the app's to serve.
    const parent = mkdtempSync(path.join(tmpdir(), 'storefront-walk-'));
    const root = path.join(parent, 'app');
    mkdirSync(path.join(root, 'assets'), { recursive: true });
    mkdirSync(path.join(root, '.git'));
    mkdirSync(path.join(parent, 'app-private'));
    writeFileSync(path.join(root, 'index.html'), HTML);
    writeFileSync(path.join(root, 'assets', 'app-1a2b3c.js'), JS);
    writeFileSync(path.join(root, '.env'), 'SECRET-dotfile');
    writeFileSync(path.join(root, '.git', 'config'), 'SECRET-git');
    writeFileSync(path.join(parent, 'secret.txt'), 'SECRET-parent');
    writeFileSync(path.join(parent, 'app-private', 'secret.txt'), 'SECRET-sibling');
    const gw = await gateway(root);
    const only = await buildStorefrontServer(loadStorefrontConfig({ LOG_LEVEL: 'silent', PORT: '0', STOREFRONT_DIR: root }));
    const piece = fc.constantFrom(
      '..', '.', '%2e%2e', '%2E%2e', '.%2e', '%252e%252e', '/', '%2f', '%2F', '%5c', '%5C', '%255c', '%00', '%ZZ', '%FF', '%C0%AE',
      '.env', '.git', 'config', 'app-private', 'secret.txt', 'assets', 'app-1a2b3c.js', 'index.html', 'cart', 'x'.repeat(300), ';', '?', '#',
    );
    const request = fc.record({
      path: fc.array(piece, { minLength: 1, maxLength: 8 }).map((parts) => `/${parts.join('/')}`),
      method: fc.constantFrom('GET', 'HEAD'),
      accept: fc.constantFrom('text/html', '*/*'),
    });
    try {
      await fc.assert(
        fc.asyncProperty(request, async ({ path: url, method, accept }) => {
          for (const app of [gw.app as typeof only, only]) {
            const res = await app.inject({ method: method as 'GET', url, headers: { accept, 'accept-encoding': 'identity' } });
            const label = `${method} ${url} (${accept}): ${res.statusCode}`;
            assert.ok(res.statusCode < 500, label);
            assert.ok(!res.body.includes('SECRET'), label);
            if (res.statusCode === 200 && method === 'GET') assert.ok([HTML, JS].includes(res.body), `${label} ${res.body.slice(0, 80)}`);
            if (res.statusCode !== 200 && res.statusCode !== 404) assert.equal(res.statusCode, 400, label);
          }
        }),
        { numRuns: 300 },
      );
    } finally {
      await gw.app.close();
      await only.close();
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('when a browser navigates to an unknown path, then the app with status 404 (its own not-found page), no-cache and the CSP; a missing asset stays a problem', async () => {
    const gw = await gateway(dir);
    const navigation = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    try {
      const validator = String((await plainGet(`${gw.base}/cart`, {})).headers.etag);
      assert.ok(validator);
      for (const p of ['/nope', '/foo/bar', '/index.html', '/..%2findex.html', '/assets/..%2f..%2fetc%2fpasswd']) {
        // The app's validator from an earlier visit changes nothing: the 404 page is sent in full.
        const res = await fetch(gw.base + p, { headers: { accept: navigation, 'if-none-match': validator } });
        assert.equal(res.status, 404, p);
        assert.match(res.headers.get('content-type') ?? '', /^text\/html/, p);
        assert.equal(await res.text(), HTML, p);
        assert.equal(res.headers.get('cache-control'), 'no-cache', p);
        assert.equal(res.headers.get('content-security-policy'), STOREFRONT_CSP, p);
      }
      // What a page loads (scripts, images: no text/html in Accept) and API clients get the problem.
      for (const accept of ['*/*', 'image/avif,image/webp,*/*', 'application/json']) {
        const res = await fetch(`${gw.base}/assets/app-0000.js`, { headers: { accept } });
        assert.equal(res.status, 404, accept);
        assert.match(res.headers.get('content-type') ?? '', /problem\+json/, accept);
      }
      // A client route and a file keep their 200.
      assert.equal((await fetch(`${gw.base}/cart`, { headers: { accept: navigation } })).status, 200);
      assert.equal((await fetch(`${gw.base}/images/pot.svg`, { headers: { accept: navigation } })).status, 200);
    } finally {
      await gw.app.close();
    }
  });

  it('when a browser navigates to an unknown path with a Range header, then the whole app page with status 404, never a part of it (a range applies to a 200 only, RFC 9110 14.2)', async () => {
    const gw = await gateway(dir);
    const navigation = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    try {
      const ranges = fc.oneof(
        fc.tuple(fc.nat(2000), fc.nat(2000)).map(([a, b]) => `bytes=${Math.min(a, b)}-${Math.max(a, b)}`),
        fc.nat(2000).map((n) => `bytes=${n}-`),
        fc.integer({ min: 1, max: 2000 }).map((n) => `bytes=-${n}`),
        fc.constantFrom('bytes=0-1,5-6', 'bytes=abc', 'bytes=5-1', 'bytes=99999-', 'items=0-1'),
      );
      await fc.assert(
        fc.asyncProperty(ranges, fc.constantFrom('/nope', '/foo/bar', '/index.html'), async (range, p) => {
          const res = await plainGet(gw.base + p, { accept: navigation, range });
          assert.equal(res.status, 404, `${p} ${range}`);
          assert.match(String(res.headers['content-type']), /^text\/html/, `${p} ${range}`);
          assert.equal(res.headers['content-range'], undefined, `${p} ${range}`);
          assert.equal(Number(res.headers['content-length']), HTML.length, `${p} ${range}`);
          assert.equal(res.headers['content-security-policy'], STOREFRONT_CSP, `${p} ${range}`);
        }),
        { numRuns: 60 },
      );
      // A page that exists keeps its ranges.
      const part = await plainGet(`${gw.base}/cart`, { range: 'bytes=0-9' });
      assert.equal(part.status, 206);
      assert.equal(part.headers['content-range'], `bytes 0-9/${HTML.length}`);
      // One past its end is a 416 problem of that name, which says the length (RFC 9110 15.5.17).
      const beyond = await http(gw.base, 'GET', '/cart', { headers: { range: 'bytes=99999-' } });
      assertProblem(beyond, 416, 'range-not-satisfiable');
      assert.equal(beyond.headers.get('content-range'), `bytes */${HTML.length}`);
    } finally {
      await gw.app.close();
    }
  });

  it('when a browser navigates to an unknown path with If-Match or If-Unmodified-Since, then the app page with status 404, not a 412: preconditions are ignored where the answer is no 2xx (RFC 9110 13.2.1), gateway and static-only server alike', async () => {
    const gw = await gateway(dir);
    const alone = await buildStorefrontServer(loadStorefrontConfig({ LOG_LEVEL: 'silent', PORT: '0', STOREFRONT_DIR: dir }));
    const navigation = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    try {
      const bases = [gw.base, await listenOnLoopback(alone)];
      const conditions: Record<string, string>[] = [
        { 'if-match': '"nope"' },
        { 'if-match': 'W/"x", "y"' },
        { 'if-unmodified-since': 'Sat, 01 Jan 2000 00:00:00 GMT' },
        { 'if-unmodified-since': 'not a date' },
        { 'if-match': '"nope"', 'if-unmodified-since': 'Sat, 01 Jan 2000 00:00:00 GMT', range: 'bytes=0-9' },
      ];
      for (const base of bases) {
        for (const headers of conditions) {
          for (const p of ['/nope', '/admin/nope', '/products/1/2']) {
            const res = await plainGet(base + p, { accept: navigation, ...headers });
            assert.equal(res.status, 404, `${p} ${JSON.stringify(headers)}`);
            assert.match(String(res.headers['content-type']), /^text\/html/, `${p} ${JSON.stringify(headers)}`);
            assert.equal(Number(res.headers['content-length']), HTML.length, `${p} ${JSON.stringify(headers)}`);
          }
        }
        // A page that exists still evaluates them: its If-Match that names another tag is a 412.
        assertProblem(await http(base, 'GET', '/cart', { headers: { 'if-match': '"nope"' } }), 412, 'precondition-failed');
      }
    } finally {
      await gw.app.close();
      await alone.close();
    }
  });

  it('when a page or a file is sent POST, PUT, DELETE or PATCH, then 405 problem with Allow: GET, HEAD (gateway and static-only server alike), and it is still served', async () => {
    const gw = await gateway(dir);
    const alone = await buildStorefrontServer(loadStorefrontConfig({ LOG_LEVEL: 'silent', PORT: '0', STOREFRONT_DIR: dir }));
    try {
      for (const base of [gw.base, await listenOnLoopback(alone)]) {
        for (const page of ['/', '/cart', '/checkout', '/orders', '/signin', '/admin', '/products/some-id', '/admin/orders/x', '/assets/app-1a2b3c.js', '/images/pot.svg']) {
          for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
            const res = await http(base, method, page, { body: {}, headers: { accept: 'text/html' } });
            assertMethodNotAllowed(res, 'GET, HEAD');
            assert.notEqual(res.headers.get('content-security-policy'), STOREFRONT_CSP, `${method} ${page}: a problem, not a page`);
          }
          assert.equal((await fetch(base + page)).status, 200, page);
        }
        // A path no page has (the catch-all's): 404, whatever the method (docs/api.md, framework errors).
        for (const page of ['/nope', '/admin/nope', '/products/a/b']) assertProblem(await http(base, 'POST', page, { body: {} }), 404, 'not-found');
      }
    } finally {
      await alone.close();
      await gw.app.close();
    }
  });

  it('when the target is the asterisk-form (GET *, OPTIONS *), then no page: 400 for any method but OPTIONS, 404 for OPTIONS, as problems (gateway and static-only server alike)', async () => {
    const gw = await gateway(dir);
    const alone = await buildStorefrontServer(loadStorefrontConfig({ LOG_LEVEL: 'silent', PORT: '0', STOREFRONT_DIR: dir }));
    try {
      for (const base of [gw.base, await listenOnLoopback(alone)]) {
        // The router took `*` for `/`: GET * answered the shop's home page (200, HTML), OPTIONS * a 405 naming GET.
        for (const method of ['GET', 'HEAD', 'POST', 'DELETE']) {
          const answer = await rawExchange(base, `${method} * HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nConnection: close\r\n\r\n`);
          assert.match(answer, /^HTTP\/1\.1 400 [\s\S]*application\/problem\+json/i, `${method} *: ${answer.slice(0, 200)}`);
          assert.doesNotMatch(answer, /<html/i);
        }
        const options = await rawExchange(base, 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        assert.match(options, /^HTTP\/1\.1 404 [\s\S]*"type":"https:\/\/ecommerce\.local\/problems\/not-found"/, options.slice(0, 300));
        assert.doesNotMatch(options, /\r\nallow:/i);
        assert.equal((await fetch(`${base}/`)).status, 200, 'the home page is still served');
      }
    } finally {
      await alone.close();
      await gw.app.close();
    }
  });

  it('when the app is not built, then the gateway still starts and / is a 404', async () => {
    const gw = await gateway(path.join(dir, 'missing'));
    try {
      assert.equal((await fetch(`${gw.base}/`)).status, 404);
    } finally {
      await gw.app.close();
    }
  });

  it('the static-only server (storefront Deployment) serves the app and is ready only when the files are there; no /metrics', async () => {
    const ok = await buildStorefrontServer(loadStorefrontConfig({ LOG_LEVEL: 'silent', PORT: '0', STOREFRONT_DIR: dir }));
    const missing = await buildStorefrontServer(loadStorefrontConfig({ LOG_LEVEL: 'silent', PORT: '0', STOREFRONT_DIR: path.join(dir, 'missing') }));
    try {
      const base = await listenOnLoopback(ok);
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      assert.equal(await (await fetch(`${base}/cart`)).text(), HTML);
      assert.equal((await fetch(`${base}/metrics`)).status, 404);
      const missingBase = await listenOnLoopback(missing);
      assert.equal((await fetch(`${missingBase}/readyz`)).status, 503);
      assert.equal((await fetch(`${missingBase}/livez`)).status, 200);
    } finally {
      await ok.close();
      await missing.close();
    }
  });
});
