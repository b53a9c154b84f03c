import fp from 'fastify-plugin';
import type { App, Database } from '@ecommerce/kit';
import { ProductRepository } from '../data/product-repository.js';
import { ReservationRepository } from '../data/reservation-repository.js';

declare module 'fastify' {
  interface FastifyInstance {
    productRepository: ProductRepository;
    reservationRepository: ReservationRepository;
  }
}

/** The catalog's SQL, one repository per table family, over the service's pool. */
export default fp(
  async (app: App, { db }: { db: Database }) => {
    app.decorate('productRepository', new ProductRepository(db));
    app.decorate('reservationRepository', new ReservationRepository(db));
  },
  { name: 'repositories' },
);
