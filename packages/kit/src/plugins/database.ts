// The service's database as `app.db`, closed with the app (after every preClose hook, so background work
// stopped there finishes its queries first).
import fp from 'fastify-plugin';
import type { Database } from '../db.js';
import { KIT_PLUGINS } from './names.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Database;
  }
}

export const database = fp<{ db: Database }>(
  async (app, { db }) => {
    app.decorate('db', db);
    app.addHook('onClose', () => db.close());
  },
  { name: KIT_PLUGINS.database, fastify: '5.x' },
);
