// The response headers that matter for a JSON API (no HTML is served but the docs page, which sets its own
// CSP); helmet's browser-document extras (DNS prefetch, download options, origin-agent-cluster...) are left out.
import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import { KIT_PLUGINS } from './names.js';

export const securityHeaders = fp(
  async (app) => {
    await app.register(helmet, {
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      crossOriginResourcePolicy: { policy: 'same-site' },
      crossOriginOpenerPolicy: false,
      originAgentCluster: false,
      xDnsPrefetchControl: false,
      xDownloadOptions: false,
      xPermittedCrossDomainPolicies: false,
      xXssProtection: false,
    });
  },
  { name: KIT_PLUGINS.securityHeaders, fastify: '5.x' },
);
