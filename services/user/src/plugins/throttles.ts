import fp from 'fastify-plugin';
import type { App, Database } from '@ecommerce/kit';
import type { UserConfig } from '../config.js';
import { LoginFailureRepository } from '../data/login-failure-repository.js';
import { RequestCountRepository } from '../data/request-count-repository.js';
import { LoginThrottle } from '../model/login-throttle.js';
import { AddressRateLimiter } from '../model/rate-limits.js';
import { pruneCountersEvery } from '../background/prune-counters.js';

declare module 'fastify' {
  interface FastifyInstance {
    loginThrottle: LoginThrottle;
    rateLimiter: AddressRateLimiter;
  }
}

/** Failed-login locks and per-address request budgets, counted in PostgreSQL so replicas share them. */
export default fp(
  async (app: App, { db, config }: { db: Database; config: UserConfig }) => {
    const throttle = new LoginThrottle(new LoginFailureRepository(db), {
      maxPerAccountAddress: config.LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS,
      maxPerAddress: config.LOGIN_MAX_FAILURES_PER_ADDRESS,
      windowSeconds: config.LOGIN_FAILURE_WINDOW_SECONDS,
    });
    const limiter = new AddressRateLimiter(new RequestCountRepository(db), {
      windowSeconds: config.AUTH_RATE_WINDOW_SECONDS,
      register: config.REGISTER_MAX_PER_ADDRESS,
      login: config.LOGIN_MAX_PER_ADDRESS,
      token: config.TOKEN_MAX_PER_ADDRESS,
    });
    app.decorate('loginThrottle', throttle);
    // Settlements still waiting for the database are left to their expiry (PENDING_SECONDS), as a dying process's.
    app.addHook('onClose', async () => throttle.close());
    app.decorate('rateLimiter', limiter);
    pruneCountersEvery(app, 5 * 60_000, [throttle, limiter]);
  },
  { name: 'throttles' },
);
