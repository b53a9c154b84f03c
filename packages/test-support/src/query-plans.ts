// Plans of the statements a repository sends, for the query-plans tests of each service: the statements are recorded
// instead of run, then planned (EXPLAIN (FORMAT JSON)) on the service's own pool, with their parameters, and a test
// asserts which tables a plan reads whole. Asserted on plans, never on timings.
import assert from 'node:assert/strict';
import { Database, Metrics, type Queryable } from '@ecommerce/kit';
import { createTestDatabase, type TestDatabase } from './database.js';

/**
 * A database of the test file's own and `service`'s pool on it, as the service runs it (its role and schema, its
 * `migrations` run), with one connection: where a query-plans test stores its rows and plans the statements.
 */
export async function createPlanningDatabase(service: keyof TestDatabase['urls'], migrations: string): Promise<{ db: TestDatabase; database: Database }> {
  const db = await createTestDatabase();
  const database = new Database({ url: db.urls[service], schema: db.roles[service].schema, poolMax: 1, applicationName: 'query-plans-test', metrics: new Metrics('test', '0', { defaultMetrics: false }) });
  try {
    await database.migrate(migrations);
  } catch (err) {
    await database.close().catch(() => undefined);
    await db.drop().catch(() => undefined);
    throw err;
  }
  return { db, database };
}

export interface SentStatement {
  name: string;
  text: string;
  values: unknown[];
}

/** The statements `call` sends through the Queryable it is given (a recorder: nothing is run, each answer is empty). */
export async function recordStatements(call: (recorder: Queryable) => Promise<unknown>): Promise<SentStatement[]> {
  const sent: SentStatement[] = [];
  await call({
    query: async (name, text, values = []) => {
      sent.push({ name, text, values });
      return { rows: [], rowCount: 0, command: '', oid: 0, fields: [] };
    },
  });
  assert.ok(sent.length > 0, 'the call sent a statement');
  return sent;
}

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  /** The condition an index scan is bounded by; none: the index is read whole. */
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

const nodesOf = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodesOf)];

/**
 * Every node of the statement's plan as the service would plan it: unnamed ('') on the service's own pool (its role
 * and search_path), so planned for these parameter values.
 */
export async function planNodes(database: Queryable, statement: Pick<SentStatement, 'text' | 'values'>): Promise<PlanNode[]> {
  const { rows } = await database.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>('', `EXPLAIN (FORMAT JSON) ${statement.text}`, statement.values);
  return nodesOf(rows[0]!['QUERY PLAN'][0]!.Plan);
}

/** Fails when the plan reads a table whole (`relation`: only that table), naming the plan's nodes in order. */
export function assertNoSeqScan(nodes: PlanNode[], what: string, relation?: string): void {
  const scans = nodes.filter((n) => n['Node Type'] === 'Seq Scan' && (relation === undefined || n['Relation Name'] === relation));
  const plan = nodes.map((n) => `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : ''}`).join(' > ');
  assert.deepEqual(scans.map((n) => n['Relation Name']), [], `${what} reads ${relation ? `the whole ${relation} table` : 'a whole table'}: ${plan}`);
}
