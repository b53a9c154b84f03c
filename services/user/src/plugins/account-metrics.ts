import fp from 'fastify-plugin';
import type { App, Counter } from '@ecommerce/kit';

export interface AccountMetrics {
  registered: Counter;
  logins: Counter<'result'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    accountMetrics: AccountMetrics;
  }
}

/** The user service's own counters, next to the kit's HTTP and database metrics. */
export default fp(
  async (app: App) => {
    app.decorate('accountMetrics', {
      registered: app.metrics.counter('users_registered_total', 'Accounts registered.'),
      logins: app.metrics.counter('user_logins_total', 'Login attempts by result.', ['result'], [
        { result: 'success' },
        { result: 'invalid_credentials' },
        { result: 'rate_limited' },
      ]),
    });
  },
  { name: 'account-metrics' },
);
