// The product process SIGKILLed at a moment fast-check chooses while reservations, releases (the order service's
// calls), keyed stock adjustments (admin) and an archive run at once, and the service's database connections ended
// (pg_terminate_backend from a separate connection) at generated moments meanwhile. Started again, every request
// left without an answer is sent again as a client would (the same order id, the same Idempotency-Key) until it is
// answered. Afterwards, by SQL: per product, stock = start + the adjustments applied (each key once) - the units
// held by reservations; every reservation held has all its lines; an answered adjustment is applied exactly once, an
// answered reservation is held (or released, if its release was answered), an answered archive has archived.
// PRODUCT_CRASH_RUNS sets the number of generated runs (3; each about 2-5 s).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { adminToken, createProduct, freePort, http, serviceToken, sql, startServiceProcess, stopAll, type Running, type ServiceProcess, type TestDatabase } from '@ecommerce/test-support';
import { startUserStack } from '@ecommerce/user-service/testing';

const START = 30;

const spawnProductProcess = (env: Record<string, string>, port: number) =>
  startServiceProcess(fileURLToPath(new URL('../src/main.js', import.meta.url)), env, { port, name: 'product process' });

type Step =
  | { kind: 'reserve'; order: number; lines: { product: number; quantity: number }[] }
  | { kind: 'release'; order: number }
  | { kind: 'adjust'; product: number; delta: number }
  | { kind: 'archive'; product: number };

describe('the product process SIGKILLed at a generated moment, its connections terminated', { timeout: 180_000 }, () => {
  let db: TestDatabase;
  let users: Running;
  let admin: string;
  let service: string;
  before(async () => {
    ({ db, user: users } = await startUserStack());
    admin = await adminToken(users.base);
    service = await serviceToken(users.base);
  });
  after(() => stopAll(users, db));

  it('property: after a SIGKILL among reservations, releases, keyed adjustments and an archive (connections terminated too), every answer holds and stock = start + adjustments - units held', async () => {
    const port = await freePort();
    const env = { DATABASE_URL: db.urls.product, USER_SERVICE_URL: users.base, LOG_LEVEL: 'silent', NODE_ENV: 'test', SEED_DEMO_DATA: 'false' };
    const line = fc.record({ product: fc.integer({ min: 0, max: 2 }), quantity: fc.integer({ min: 1, max: 4 }) });
    const step: fc.Arbitrary<Step> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('reserve' as const), order: fc.integer({ min: 0, max: 11 }), lines: fc.array(line, { minLength: 1, maxLength: 3 }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), order: fc.integer({ min: 0, max: 11 }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('adjust' as const), product: fc.integer({ min: 0, max: 2 }), delta: fc.integer({ min: -8, max: 8 }).filter((d) => d !== 0) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('archive' as const), product: fc.integer({ min: 0, max: 2 }) }) },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          steps: fc.array(step, { minLength: 6, maxLength: 24 }),
          killMs: fc.integer({ min: 0, max: 60 }),
          terminations: fc.array(fc.integer({ min: 0, max: 80 }), { maxLength: 3 }),
        }),
        async (plan) => {
          const started: ServiceProcess[] = [];
          try {
            let proc = await spawnProductProcess(env, port);
            started.push(proc);
            const products: string[] = [];
            for (let i = 0; i < 3; i++) products.push((await createProduct(proc.base, admin, { stock: START, priceCents: 100 })).id);
            const orderIds = Array.from({ length: 12 }, () => randomUUID());
            // Each step keeps its identity (order id, key) across the restart, and its last answer.
            const keys = plan.steps.map(() => randomUUID());
            const answers: (number | undefined)[] = plan.steps.map(() => undefined);
            const send = (i: number, base: string) => {
              const s = plan.steps[i]!;
              switch (s.kind) {
                case 'reserve': {
                  // Summed per product, as the order service sends an order's lines.
                  const byProduct = new Map<number, number>();
                  for (const l of s.lines) byProduct.set(l.product, (byProduct.get(l.product) ?? 0) + l.quantity);
                  const items = [...byProduct].map(([p, quantity]) => ({ productId: products[p]!, quantity }));
                  return http(base, 'POST', '/internal/reservations', { token: service, body: { orderId: orderIds[s.order], items } });
                }
                case 'release':
                  return http(base, 'DELETE', `/internal/reservations/${orderIds[s.order]}`, { token: service });
                case 'adjust':
                  return http(base, 'POST', `/product/${products[s.product]}/stock`, { token: admin, body: { delta: s.delta }, headers: { 'idempotency-key': keys[i]! } });
                case 'archive':
                  return http(base, 'DELETE', `/product/${products[s.product]}`, { token: admin });
              }
            };
            const sendRecorded = (i: number, base: string) =>
              send(i, base).then(
                (r) => (answers[i] = r.status),
                () => undefined,
              );
            // The window: every step at once, the kill and the terminations at their moments.
            const work = plan.steps.map((_, i) => sendRecorded(i, proc.base));
            const terminated = Promise.all(
              plan.terminations.map((ms) =>
                sleep(ms).then(() =>
                  sql(db.adminUrl, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'product-service' AND pid <> pg_backend_pid()", [
                    db.name,
                  ]),
                ),
              ),
            );
            await sleep(plan.killMs);
            await proc.kill();
            await Promise.all([...work, terminated]);
            const answeredBeforeKill = answers.slice();

            proc = await spawnProductProcess(env, port);
            started.push(proc);
            // Every step without an answer (or answered 503) is sent again, in order, until answered, as a client retries.
            for (let i = 0; i < plan.steps.length; i++) {
              for (let t = 0; answers[i] === undefined || answers[i] === 503; t++) {
                assert.ok(t < 50, `step ${i} (${JSON.stringify(plan.steps[i])}) never answered`);
                await sendRecorded(i, proc.base);
                if (answers[i] === undefined || answers[i] === 503) await sleep(50);
              }
              // Never a 500 (a bug); every answer one of the API's.
              assert.ok([200, 201, 204, 404, 409, 422].includes(answers[i]!), `step ${i} (${JSON.stringify(plan.steps[i])}) answered ${answers[i]}`);
            }

            // Half-written: a reservation held with fewer lines than products it asked for, or a line without its reservation.
            const partial = await sql<{ order_id: string; lines: number }>(
              db.urls.product,
              `SELECT r.order_id, count(i.product_id)::int AS lines FROM catalog.reservations r LEFT JOIN catalog.reservation_items i USING (order_id)
               WHERE r.order_id = ANY($1::uuid[]) GROUP BY r.order_id, r.status HAVING r.status = 'reserved' AND count(i.product_id) = 0`,
              [orderIds],
            );
            assert.deepEqual(partial, [], 'a reservation held without lines');
            // Every reservation held has the lines one of its order id's requests asked for, all of them.
            const held = await sql<{ order_id: string; lines: number }>(
              db.urls.product,
              `SELECT r.order_id, count(i.product_id)::int AS lines FROM catalog.reservations r JOIN catalog.reservation_items i USING (order_id)
               WHERE r.order_id = ANY($1::uuid[]) AND r.status = 'reserved' GROUP BY r.order_id`,
              [orderIds],
            );
            for (const h of held) {
              const asked = plan.steps.filter((x): x is Extract<Step, { kind: 'reserve' }> => x.kind === 'reserve' && orderIds[x.order] === h.order_id).map((x) => new Set(x.lines.map((l) => l.product)).size);
              assert.ok(asked.includes(h.lines), `reservation ${h.order_id} holds ${h.lines} lines, its requests asked for ${asked.join(' or ')}`);
            }
            // An adjustment answered 200 is stored under its key exactly once, with its delta; one refused (409) is not.
            for (let i = 0; i < plan.steps.length; i++) {
              const s = plan.steps[i]!;
              if (s.kind !== 'adjust') continue;
              const stored = await sql<{ delta: number }>(db.urls.product, 'SELECT delta FROM catalog.stock_adjustments WHERE product_id = $1 AND idempotency_key = $2', [
                products[s.product],
                keys[i],
              ]);
              if (answers[i] === 200) assert.deepEqual(stored, [{ delta: s.delta }], `adjustment ${i} answered 200 (before the kill: ${answeredBeforeKill[i]})`);
              if (answers[i] === 409) assert.deepEqual(stored, [], `adjustment ${i} refused but its key kept`);
            }
            // An archive answered 204 archived its product.
            for (let i = 0; i < plan.steps.length; i++) {
              const s = plan.steps[i]!;
              if (s.kind !== 'archive' || answers[i] !== 204) continue;
              const rows = await sql<{ archived: boolean }>(db.urls.product, 'SELECT archived FROM catalog.products WHERE id = $1', [products[s.product]]);
              assert.equal(rows[0]!.archived, true);
            }
            // The books, per product: stock = start + adjustments applied - units held.
            for (const id of products) {
              const [row] = await sql<{ stock: number; adjusted: number; held: number }>(
                db.urls.product,
                `SELECT p.stock,
                   (SELECT COALESCE(sum(delta), 0)::int FROM catalog.stock_adjustments a WHERE a.product_id = p.id) AS adjusted,
                   (SELECT COALESCE(sum(i.quantity), 0)::int FROM catalog.reservation_items i JOIN catalog.reservations r USING (order_id)
                      WHERE i.product_id = p.id AND r.status = 'reserved') AS held
                 FROM catalog.products p WHERE p.id = $1`,
                [id],
              );
              assert.ok(row!.stock >= 0, `stock ${row!.stock} below zero`);
              assert.equal(row!.stock, START + row!.adjusted - row!.held, `product ${id}: ${JSON.stringify(row)} answers ${JSON.stringify(answers)}`);
            }
          } finally {
            await Promise.all(started.map((p) => p.kill()));
          }
        },
      ),
      { numRuns: Number(process.env.PRODUCT_CRASH_RUNS ?? 3), endOnFailure: true },
    );
  });
});
