import type { Queryable, Row } from '@ecommerce/kit';
import type pg from 'pg';

/** A statement and its name; the name is the metric label and the prepared-statement name, so one name = one text. */
export interface NamedQuery {
  name: string;
  text: string;
}

export function run<R extends Row>(db: Queryable, q: NamedQuery, values: unknown[] = []): Promise<pg.QueryResult<R>> {
  return db.query<R>(q.name, q.text, values);
}
