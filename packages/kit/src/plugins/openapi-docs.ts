// The OpenAPI 3.1 document built from the routes' schemas, served as <prefix>/openapi.json with a docs page
// at <prefix>/docs.
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from '@sinclair/typebox';
import { pathOf } from '../request-target.js';
import { KIT_PLUGINS } from './names.js';

export interface OpenapiDocsOptions {
  /** Service name: the document's title. */
  name: string;
  version: string;
  description: string;
  /** Public path prefix, e.g. `/<service>`; the document and the docs page live under it. */
  prefix: string;
}

const PROBLEM_RESPONSE = {
  description: 'An RFC 9457 problem (validation errors carry errors[{path, message}])',
  content: {
    'application/problem+json': {
      schema: Type.Object(
        {
          type: Type.String({ format: 'uri' }),
          title: Type.String(),
          status: Type.Integer(),
          detail: Type.String(),
          instance: Type.String(),
          errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
        },
        { additionalProperties: true },
      ),
    },
  },
};

/** The challenge a route's 401 carries: its own (route config `challenge`), else the one of the scheme it declares. */
function challengeOf(config: { challenge?: unknown } | undefined, security: unknown): string | undefined {
  if (typeof config?.challenge === 'string') return `\`${config.challenge}\``;
  const schemes = Array.isArray(security) ? security.flatMap((s) => (s && typeof s === 'object' ? Object.keys(s) : [])) : [];
  if (schemes.includes('bearer')) return '`Bearer`, with `error="invalid_token"` when a token was sent and refused (RFC 6750 3)';
  return undefined;
}

/**
 * The 304 of a GET route that sends no ETag: the kit's preconditions answer `If-None-Match: *` so (RFC 9110 13.1.2;
 * docs/api.md, conditional requests). A route that evaluates its own ETags documents its own 304.
 */
const NOT_MODIFIED_RESPONSE = Type.Null({ description: 'Not modified, no body: If-None-Match: * was sent and the resource exists (RFC 9110 13.1.2)' });
const answersGet = (method: string | string[]) => (Array.isArray(method) ? method : [method]).includes('GET');

/**
 * The 503 any operation may answer (docs/api.md, dependency down: its database, or through the gateway its service,
 * unreachable), with the Retry-After every 503 of a request carries.
 */
const UNAVAILABLE_RESPONSE = {
  description: 'Unavailable for now: a dependency (the database, the service behind the gateway) cannot be reached; try again after Retry-After (an RFC 9457 problem)',
  headers: { 'Retry-After': { description: 'Seconds to wait before sending the request again', type: 'integer' } },
  content: PROBLEM_RESPONSE.content,
};

/** The 429 of a route with a budget, with the Retry-After every 429 carries. */
const TOO_MANY_REQUESTS_RESPONSE = {
  description: 'Over a budget (the operation\'s description, or docs/api.md, says which); try again after Retry-After (an RFC 9457 problem)',
  headers: { 'Retry-After': { description: 'Seconds to wait before sending the request again', type: 'integer' } },
  content: PROBLEM_RESPONSE.content,
};

/** The 401 of a route that takes credentials: the problem, and the challenge in `WWW-Authenticate`. */
const unauthorizedResponse = (challenge: string) => ({
  description: 'Not authenticated: the credentials are missing, refused or expired (an RFC 9457 problem)',
  headers: { 'WWW-Authenticate': { description: `The challenge: ${challenge}`, type: 'string' } },
  content: PROBLEM_RESPONSE.content,
});

/**
 * The docs page's CSP. swagger-ui's own (staticCSP: true) allowed styles and fonts from any https: origin and
 * images from validator.swagger.io (unused: validatorUrl is null), and said upgrade-insecure-requests, which on a
 * plain-http host such as the dev ingress's http://ecommerce.local sent every file of the page to https (a blank
 * page). Here everything comes from this origin, and the one inline style allowed is the <style> inside the logo
 * swagger-ui's top bar draws (its standalone preset; the kit's test hashes it from the installed files).
 */
const DOCS_PAGE_CSP = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'object-src': ["'none'"],
  // Not framed, as every other answer of the services (X-Frame-Options: DENY from the security headers).
  'frame-ancestors': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
};

export const openapiDocs = fp<OpenapiDocsOptions>(
  async (app, opts) => {
    await app.register(swagger, {
      // Every documented operation can also answer an RFC 9457 problem; say so once, here, for all of them.
      // A route that takes credentials documents its 401 and the challenge that comes with it, a GET its 304, and
      // every operation its 503 with Retry-After, a route with a budget its 429.
      transform: ({ schema, url, route }) => {
        if (!schema || schema.hide) return { schema, url };
        const config = route.config as { challenge?: unknown; entityTags?: boolean; budgeted?: boolean } | undefined;
        const challenge = challengeOf(config, schema.security);
        const response = {
          ...(answersGet(route.method) && config?.entityTags !== true ? { 304: NOT_MODIFIED_RESPONSE } : {}),
          ...(schema.response as Record<string, unknown> | undefined),
          ...(challenge ? { 401: unauthorizedResponse(challenge) } : {}),
          ...(config?.budgeted === true ? { 429: TOO_MANY_REQUESTS_RESPONSE } : {}),
          '4XX': PROBLEM_RESPONSE,
          503: UNAVAILABLE_RESPONSE,
          '5XX': PROBLEM_RESPONSE,
        };
        return { schema: { ...schema, response }, url };
      },
      openapi: {
        openapi: '3.1.0',
        info: { title: `${opts.name} service`, version: opts.version, description: opts.description },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
            // OAuth clients at a token endpoint (RFC 6749 2.3.1): HTTP Basic with the client id and secret.
            clientBasic: { type: 'http', scheme: 'basic', description: 'OAuth 2.0 client authentication: client_id and client_secret' },
          },
        },
      },
    });
    const page = `${opts.prefix}/docs`;
    await app.register(swaggerUi, {
      routePrefix: page,
      staticCSP: DOCS_PAGE_CSP,
      uiHooks: {
        // The page finds its document relative to its own address, and swagger-ui's initializer appends "/./json" to
        // the whole of it, query included (/user/docs?x=1/./json: a 404, a blank page); it has no use for a query.
        // A preHandler, after the kit's request guards: a query they refuse (`?x=%ZZ`, a NUL) is their 400 problem,
        // as through the gateway, not a redirect that drops it (an onRequest hook ran before them).
        // swagger-ui's own /static/index.html sends a browser to the page by replacing the end of the URL, which a
        // query hides: /docs/static/index.html?x=1 was redirected to itself for ever. Sent to the page here.
        preHandler: (request, reply, done) => {
          const path = pathOf(request.url);
          if (path === `${page}/static/index.html`) reply.redirect(`${page}/`, 302);
          else if (path !== request.url && (path === page || path === `${page}/`)) reply.redirect(path, 302);
          else done();
        },
      },
    });
    app.get(`${opts.prefix}/openapi.json`, { schema: { hide: true } }, async () => app.swagger());
  },
  { name: KIT_PLUGINS.openapiDocs, fastify: '5.x' },
);
