// Test-only fault injection (FAULT_INJECTION=enabled, refused in production): PUT /internal/fault sets the
// share of requests answered 500, so the alerts and the callers' retries can be seen working.
import fp from 'fastify-plugin';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ProblemError } from '../errors.js';
import { OPERATIONAL_PATHS } from '../operational-paths.js';
import { KIT_PLUGINS } from './names.js';

export const faultSwitch = fp<{ enabled: boolean }>(
  async (app, { enabled }) => {
    if (!enabled) return;
    let faultRatio = 0;
    app.log.warn('FAULT_INJECTION is enabled: PUT /internal/fault can make this service fail (test only)');
    app.addHook('onRequest', (request, _reply, done) => {
      const faulted = faultRatio > 0 && !OPERATIONAL_PATHS.has(request.url) && !request.url.startsWith('/internal/') && Math.random() < faultRatio;
      done(faulted ? new ProblemError(500, 'internal-error', 'Internal server error', 'Injected fault (test only)') : undefined);
    });
    app.withTypeProvider<TypeBoxTypeProvider>().put(
      '/internal/fault',
      { schema: { hide: true, body: Type.Object({ errorRatio: Type.Number({ minimum: 0, maximum: 1 }) }, { additionalProperties: false }) } },
      async (request) => {
        faultRatio = request.body.errorRatio;
        return { errorRatio: faultRatio };
      },
    );
  },
  { name: KIT_PLUGINS.faultSwitch, fastify: '5.x', dependencies: [KIT_PLUGINS.problemErrors] },
);
