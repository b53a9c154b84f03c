// The storefront (web/, a Vite + React single-page app) on the API's origin: built files from STOREFRONT_DIR,
// hashed assets cached for a year, the HTML never cached, client routes answered with index.html, and a
// strict CSP (scripts from this origin only, no inline script) and a COOP of its own. Used by the local gateway at `/` and by the
// storefront Deployment's static-only server (storefront-main.ts).
import { existsSync, realpathSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import fastifyStatic from '@fastify/static';
import { Metrics, Type, createServer, loadConfig, markPageRoutes, noneMatchHolds, pathOf, type App, type Static } from '@ecommerce/kit';
import { StorefrontEnv } from './config.js';

/** services/gateway/dist/src -> <repo>/web/dist/app, where `npm run build` puts the app. */
const DEFAULT_STOREFRONT_DIR = path.resolve(import.meta.dirname, '..', '..', '..', '..', 'web', 'dist', 'app');

// No data: images: the app's are files of this origin (web/public, a product's imageUrl is a path on this site, and the
// build inlines no asset: assetsInlineLimit 0); one put in a page is refused.
export const STOREFRONT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The app's pages open in a browsing context group of their own (no `window.opener` either way): a page of another
 * origin that opened the shop (a link with target, window.open) could otherwise keep a handle on it, swap the
 * signed-in shop for a look-alike "sign in again" page of its own (`w.location = ...`, tabnabbing), and watch it.
 * The API's JSON needs none (not a document); the kit leaves it out there.
 */
export const STOREFRONT_COOP = 'same-origin';

/**
 * The pages the single-page app routes itself (web/src/main.tsx and the admin's web/src/pages/admin/AdminPage.tsx;
 * a test holds them equal); each answers index.html with 200, also with a trailing slash, which the app's router
 * ignores. Any other path a browser asks for (`/admin/nope`, `/products/1/2`) is the app's not-found page, sent with
 * a 404 by the catch-all below: a crawler or a link checker is told so, not shown a 200 "Page not found".
 */
export const CLIENT_ROUTES = [
  '/',
  '/products/:id',
  '/cart',
  '/checkout',
  '/orders',
  '/orders/:id',
  '/signin',
  '/admin',
  '/admin/products/:id',
  '/admin/orders',
  '/admin/orders/:id',
  '/admin/users',
];

const PAGE_ROUTES = CLIENT_ROUTES.flatMap((route) => (route === '/' ? [route] : [route, `${route}/`]));

export const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The routes that answer index.html: the client routes and the catch-all for a browser's unknown path. */
const HTML_ROUTES = new Set([...PAGE_ROUTES, '/*']);

/**
 * How far ahead of this server's clock an If-Modified-Since may be and still count. A date later than that names no
 * copy a client can hold (RFC 2616 14.25: "invalid"; Apache's ap_condition_if_modified_since and nginx's default
 * `if_modified_since exact` answer it in full; RFC 9110 13.1.3 reads the date "in terms of the origin server's
 * clock"), while send's `fresh` took it for a 304, so a client with a clock set ahead, or any date far off, kept a copy
 * this server never dated. A minute covers a client that dates its copy by its own clock a little ahead of ours (and
 * the one-second resolution of HTTP dates): the Last-Modified it would echo is a file's mtime, always in the past.
 */
const IF_MODIFIED_SINCE_SKEW_MS = 60_000;

/** Registers the storefront, or logs why not (the app is not built) and leaves `/` to the 404 handler. */
export async function storefront(app: App, opts: { dir?: string }): Promise<void> {
  const root = path.resolve(opts.dir || DEFAULT_STOREFRONT_DIR);
  if (!existsSync(path.join(root, 'index.html'))) {
    app.log.warn({ root }, 'storefront not built (npm run build): / is not served');
    return;
  }
  const realRoot = realpathSync.native(root);
  if (!withinRoot(realRoot, path.join(root, 'index.html'))) {
    app.log.warn({ root }, 'storefront index.html is a link out of its folder: / is not served');
    return;
  }
  await app.register(async (scope) => {
    // A page's URL past its route (an id, a search, a filter) is the browser app's to read, never the server's: a
    // link with a stray `%` or a NUL in its path or query still opens the shop, which says it names nothing or
    // handles it, rather than a 400 problem (the kit's request-guards and routerErrorHandler).
    markPageRoutes(scope);
    // An If-Modified-Since later than this server's clock allows (IF_MODIFIED_SINCE_SKEW_MS) is ignored, as Apache
    // does: dropped before send and the onSend hook below judge it, so the answer is the full 200.
    scope.addHook('onRequest', async (request) => {
      const since = request.raw.headers['if-modified-since'];
      if (since !== undefined && Date.parse(since) > Date.now() + IF_MODIFIED_SINCE_SKEW_MS) delete request.raw.headers['if-modified-since'];
    });
    // send evaluates If-Match (and If-None-Match, with the onSend hook below) against each file's ETag itself.
    scope.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object | undefined), entityTags: true } as typeof route.config;
    });
    await scope.register(fastifyStatic, {
      root,
      prefix: '/',
      index: false,
      // One route per built file (the build does not change under a running server), so that the catch-all
      // below can answer what is not a file: a browser's page, or the API's 404 problem.
      wildcard: false,
      // The build writes .br and .gz next to each text file; send picks what the browser accepts.
      preCompressed: true,
      cacheControl: false,
      // index.html is only ever served through the client routes below, with its own headers. The .br and .gz
      // copies are only ever a Content-Encoding of their original (send finds them on disk, not by route): asked
      // for by name, they are no file of the app (a 404 like any missing one), never octet-stream bytes.
      // A file whose real path (or its .br or .gz's) is outside the folder is no file of the app either: no route, so
      // it is a 404 like a missing one (withinRoot). glob takes an object for its ignore, which the plugin hands on
      // as is (its type says patterns only); allowedPath checks again as each file is sent.
      globIgnore: notAppFiles(realRoot) as unknown as string[],
      allowedPath: (pathName) => pathName !== '/index.html' && withinRoot(realRoot, path.join(root, pathName)),
    });
    for (const route of PAGE_ROUTES) scope.get(route, (_request, reply) => reply.sendFile('index.html'));
    // Any other path: a browser navigating to it (a mistyped or stale link) gets the app with status 404, which
    // shows its own not-found page; anything else (curl, a missing asset, the API's clients) the 404 problem.
    // Being a wildcard, it makes no path exist: a POST there is a 404, while one to a page or file above is the
    // kit's 405 with Allow: GET, HEAD (problem-errors.ts).
    scope.get('/*', (request, reply) => {
      if (!acceptsHtml(request.headers.accept)) return reply.callNotFound();
      // No validators: a 404 is not revalidated (send would answer an If-None-Match with an empty 304). No ranges:
      // a Range applies to a 200 only (RFC 9110 14.2); send answered a part of the page with the 404, or a 416.
      // No preconditions: they are ignored where the answer would be no 2xx (RFC 9110 13.2.1); send judged If-Match
      // and If-Unmodified-Since against a page with no validators, so an unknown path with either was a 412.
      delete request.raw.headers['if-match'];
      delete request.raw.headers['if-unmodified-since'];
      return reply.code(404).sendFile('index.html', { etag: false, lastModified: false, acceptRanges: false });
    });
    // Encapsulated: these headers apply to the storefront's responses only, not to the API's.
    scope.addHook('onSend', async (request, reply, payload) => {
      const url = pathOf(request.url);
      // send answers a matching If-None-Match itself with a bare 304 (no content type): an HTML route's 304
      // must still say no-cache and carry the CSP, or a cache would keep the old app an hour.
      const htmlRoute = reply.statusCode === 304 && HTML_ROUTES.has(request.routeOptions.url ?? '');
      const html = htmlRoute || String(reply.getHeader('content-type') ?? '').startsWith('text/html');
      if (reply.statusCode >= 400 && !html) return payload;
      reply.header('cache-control', html ? 'no-cache' : url.startsWith('/assets/') ? IMMUTABLE : 'public, max-age=3600');
      if (html) reply.header('content-security-policy', STOREFRONT_CSP).header('cross-origin-opener-policy', STOREFRONT_COOP);
      reply.header('vary', html ? 'accept, accept-encoding' : 'accept-encoding');
      if (reply.statusCode >= 400) return payload;
      // Revalidation: a browser holding this version gets a 304. send answers most itself, but not under a request's
      // Cache-Control: no-cache (it then answers in full), where the conditions are the origin's to evaluate all the same.
      if (reply.statusCode < 300 && notModified(request.headers, reply.getHeader('etag'), reply.getHeader('last-modified'))) {
        (payload as Readable | null)?.destroy?.();
        reply.code(304);
        for (const h of ['content-length', 'content-encoding', 'content-type']) reply.removeHeader(h);
        // Fastify's HEAD route reads what this hook hands on and cannot take null (a TypeError: a conditional HEAD of a
        // page was a 500); an empty stream it drains, and sends the 304 with no Content-Length, as for the GET.
        return request.method === 'HEAD' ? Readable.from([]) : null;
      }
      return payload;
    });
  });
}

/**
 * Whether a GET's conditions say the client holds the representation being sent (RFC 9110 13.1.2, 13.1.3, 13.2.2):
 * If-None-Match as the kit reads it (noneMatchHolds: `*`, or its ETag by the weak comparison); If-Modified-Since
 * counts only without If-None-Match, and only as a valid date no earlier than the Last-Modified.
 */
function notModified(headers: IncomingHttpHeaders, etag: unknown, lastModified: unknown): boolean {
  const held = headers['if-none-match'];
  if (held !== undefined) return noneMatchHolds(held, typeof etag === 'string' ? etag : undefined);
  const since = headers['if-modified-since'];
  if (since === undefined || typeof lastModified !== 'string') return false;
  const sinceMs = Date.parse(since);
  const modifiedMs = Date.parse(lastModified);
  return Number.isFinite(sinceMs) && Number.isFinite(modifiedMs) && modifiedMs <= sinceMs;
}

/**
 * Whether a file, and each precompressed copy of it send may pick instead, has its real path inside the app's folder.
 * send and the route glob follow symlinks: a link in the build to /etc/passwd, the repo's .env or a folder outside was
 * served. A link that stays inside (a Kubernetes volume's ..data) is the app's own file. A missing one is send's 404.
 */
function withinRoot(realRoot: string, file: string): boolean {
  for (const candidate of [file, `${file}.br`, `${file}.gz`]) {
    let real: string;
    try {
      real = realpathSync.native(candidate);
    } catch {
      continue;
    }
    if (real !== realRoot && !real.startsWith(realRoot + path.sep)) return false;
  }
  return true;
}

/** What glob reads of an entry it walks (path-scurry's Path). */
interface WalkedPath {
  name: string;
  fullpath(): string;
  relative(): string;
}

/**
 * The route glob's ignore (glob's IgnoreLike): index.html and its copies, every .br and .gz, and any entry whose real
 * path is out of the folder, with what is under it (a linked folder).
 */
function notAppFiles(realRoot: string) {
  return {
    ignored: (p: WalkedPath) =>
      p.relative() === 'index.html' || p.relative().startsWith('index.html.') || /\.(br|gz)$/.test(p.name) || !withinRoot(realRoot, p.fullpath()),
    childrenIgnored: (p: WalkedPath) => !withinRoot(realRoot, p.fullpath()),
  };
}

/** A browser's navigation asks for text/html; fetch, curl, scripts and images do not. */
function acceptsHtml(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

export type StorefrontConfig = Static<ReturnType<typeof Type.Object<typeof StorefrontEnv>>>;

export function loadStorefrontConfig(env: NodeJS.ProcessEnv = process.env): StorefrontConfig {
  return loadConfig(StorefrontEnv, env);
}

/** The static-only server of the storefront Deployment: the app, /livez and /readyz (ready once the files are there). */
export async function buildStorefrontServer(config: StorefrontConfig): Promise<App> {
  const root = path.resolve(config.STOREFRONT_DIR || DEFAULT_STOREFRONT_DIR);
  const app = await createServer({
    name: 'storefront',
    prefix: '',
    version: config.SERVICE_VERSION,
    description: 'Storefront static files',
    logLevel: config.LOG_LEVEL,
    metrics: new Metrics('storefront', config.SERVICE_VERSION),
    docs: false,
    // Nothing worth scraping, and the ingress must not expose a /metrics through `/`.
    metricsRoute: false,
    readiness: async () => {
      if (!existsSync(path.join(root, 'index.html'))) throw new Error(`no index.html in ${root}`);
    },
  });
  await storefront(app, { dir: root });
  return app;
}
