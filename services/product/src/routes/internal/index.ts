import type { preHandlerAsyncHookHandler } from 'fastify';
import type { App } from '@ecommerce/kit';
import reservations from './reservations.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The service-token scope an internal route requires (routes/internal/index.ts checks it). */
    scope?: string;
  }
}

/**
 * Service-to-service routes: a service token with the scope the route names in `config.scope`. One onRequest
 * hook checks token and scope, before the body is read, so a read-only token learns 403, not the schema. A
 * route without a scope is refused at start-up: nothing here is open by omission.
 */
export default async function internalRoutes(app: App): Promise<void> {
  const checks = new Map<string, preHandlerAsyncHookHandler>();
  app.addHook('onRoute', (route) => {
    const scope = route.config?.scope;
    if (!scope) throw new Error(`${String(route.method)} ${route.url}: an internal route must name its scope (config.scope)`);
    if (!checks.has(scope)) checks.set(scope, app.auth.service(scope));
  });
  app.addHook('onRequest', async function (request, reply) {
    await checks.get(request.routeOptions.config.scope ?? '')!.call(this, request, reply);
  });
  await app.register(reservations);
}
