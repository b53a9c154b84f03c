import fp from 'fastify-plugin';
import type { App, Database } from '@ecommerce/kit';
import { ServiceClientRepository } from '../data/service-client-repository.js';
import { SessionRepository } from '../data/session-repository.js';
import { UserRepository } from '../data/user-repository.js';

declare module 'fastify' {
  interface FastifyInstance {
    userRepository: UserRepository;
    sessionRepository: SessionRepository;
    serviceClientRepository: ServiceClientRepository;
  }
}

/** Accounts, sessions and service clients: their SQL, over the service's pool. */
export default fp(
  async (app: App, { db, sessionMaxAgeSeconds }: { db: Database; sessionMaxAgeSeconds: number }) => {
    app.decorate('userRepository', new UserRepository(db));
    app.decorate('sessionRepository', new SessionRepository(db, sessionMaxAgeSeconds));
    app.decorate('serviceClientRepository', new ServiceClientRepository(db));
  },
  { name: 'repositories' },
);
