// The response headers that matter for a JSON API (no HTML is served but the docs page, which sets its own
// CSP); helmet's browser-document extras (DNS prefetch, download options, origin-agent-cluster...) are left out.
// helmet's policy is computed once at start-up and each response gets the same headers: @fastify/helmet
// rebuilt helmet's middleware from its options on every request (two onRequest hooks, one async, and
// helmet() parsing the CSP directives each time: about 20 µs per request in the order service's profile).
import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import helmet from 'helmet';
import { KIT_PLUGINS } from './names.js';

const POLICY: Parameters<typeof helmet>[0] = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  crossOriginResourcePolicy: { policy: 'same-site' },
  crossOriginOpenerPolicy: false,
  // For browsers that predate CSP's frame-ancestors: the same answer, no framing at all (helmet's default,
  // SAMEORIGIN, said one thing to them and another to every browser that reads the CSP).
  xFrameOptions: { action: 'deny' },
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/** The headers helmet's middleware sets for POLICY (lower-case names), read off one recorded response. */
function securityHeaderValues(): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string) => (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
  } as unknown as ServerResponse;
  helmet(POLICY)({} as IncomingMessage, recorder, (err?: unknown) => {
    if (err) throw err;
  });
  return headers;
}

/**
 * The headers every answer carries: set in onRequest by the plugin below, and by the router's refusals
 * (routerErrorHandler), which run no onRequest hook: a badly encoded path's 400 went without nosniff,
 * X-Frame-Options or the CSP.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze(securityHeaderValues());

export const securityHeaders = fp(
  async (app) => {
    const headers = SECURITY_HEADERS;
    // A route that sends its own (the docs page's CSP, the storefront's) replaces the value: reply.header wins.
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });
  },
  { name: KIT_PLUGINS.securityHeaders, fastify: '5.x' },
);
