import fp from 'fastify-plugin';
import type { App, Database } from '@ecommerce/kit';
import { RegistrationKeyRepository } from '../data/registration-key-repository.js';
import { ServiceClientRepository } from '../data/service-client-repository.js';
import { SessionRepository } from '../data/session-repository.js';
import { UserRepository } from '../data/user-repository.js';

declare module 'fastify' {
  interface FastifyInstance {
    userRepository: UserRepository;
    registrationKeyRepository: RegistrationKeyRepository;
    sessionRepository: SessionRepository;
    serviceClientRepository: ServiceClientRepository;
  }
}

/** Accounts (and the Idempotency-Keys of registrations), sessions and service clients: their SQL, over the service's pool. */
export default fp(
  async (app: App, { db, sessionMaxAgeSeconds }: { db: Database; sessionMaxAgeSeconds: number }) => {
    app.decorate('userRepository', new UserRepository(db));
    app.decorate('registrationKeyRepository', new RegistrationKeyRepository(db));
    app.decorate('sessionRepository', new SessionRepository(db, sessionMaxAgeSeconds));
    app.decorate('serviceClientRepository', new ServiceClientRepository(db));
  },
  { name: 'repositories' },
);
