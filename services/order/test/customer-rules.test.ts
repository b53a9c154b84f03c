// A signed-in customer against the order service's own rules (the route's authorization has its own file,
// tests/test/route-authorization.test.ts): one Idempotency-Key sent at once with the body of the first request and
// with other bodies (lines permuted, split, changed, added; ids in capitals, the same body) by its customer and by
// another; the orders list walked from forged cursors; concurrent cancels beside reads and preconditions. Generated
// cases (fast-check, bounded runs); the books are read behind the API after each.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createCustomer, createProduct, http, sql, stockOf, stopAll, type HttpResult, type Running } from '@ecommerce/test-support';
import { startProductAndOrder } from './harness.js';
import { admin, db, startUserSideForFile, user } from './user-side.js';

startUserSideForFile();

interface Line {
  productId: string;
  quantity: number;
}
interface Answer {
  id?: string;
  userId?: string;
  orderId?: string;
  status?: string | number;
  type?: string;
  items?: Line[];
}

let product: Running;
let order: Running;
/** The product and order services, in each describe's own hooks (after the file's user side is up). */
function startServicesForDescribe(): void {
  before(async () => {
    ({ product, order } = await startProductAndOrder(db, user.base, { RECONCILER_INTERVAL_MS: '100' }));
  });
  after(() => stopAll(order, product));
}

const isProblem = (r: HttpResult<unknown>) => /^application\/problem\+json/.test(r.headers.get('content-type') ?? '');
const canonical = (lines: Line[]) => JSON.stringify(lines.map((l) => [l.productId.toLowerCase(), l.quantity]));

/** The orders `ids` once none is in flight (the reconciler settles one a request left pending), at most 15 s. */
async function settled(ids: string[]): Promise<{ id: string; status: string; items: Line[] }[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const rows = await sql<{ id: string; status: string; items: Line[] }>(db.urls.order, 'SELECT id, status, items FROM orders.orders WHERE id = ANY($1::uuid[])', [ids]);
    if (rows.every((r) => r.status !== 'pending' && r.status !== 'cancelling') || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A body other than `base` (never the same lines in the same order), or `base` itself with its ids in capitals. */
type Variant = { kind: 'same-upper' } | { kind: 'permute' } | { kind: 'split'; at: number } | { kind: 'quantity'; at: number; by: number } | { kind: 'add' };
function variantOf(base: Line[], v: Variant, extra: string): Line[] {
  switch (v.kind) {
    case 'same-upper':
      return base.map((l) => ({ ...l, productId: l.productId.toUpperCase() }));
    case 'permute':
      return [...base].reverse();
    case 'split': {
      // One line as two of the same product (the same units in all): a different request under the key.
      const i = v.at % base.length;
      const l = base[i]!;
      return [...base.slice(0, i), { ...l, quantity: 1 }, { ...l, quantity: l.quantity }, ...base.slice(i + 1)];
    }
    case 'quantity': {
      const i = v.at % base.length;
      return base.map((l, j) => (j === i ? { ...l, quantity: l.quantity + v.by } : l));
    }
    case 'add':
      return [...base, { productId: extra, quantity: 1 }];
  }
}
const variantArb: fc.Arbitrary<Variant> = fc.oneof(
  fc.constant<Variant>({ kind: 'same-upper' }),
  fc.constant<Variant>({ kind: 'permute' }),
  fc.nat(4).map<Variant>((at) => ({ kind: 'split', at })),
  fc.record({ at: fc.nat(4), by: fc.integer({ min: 1, max: 3 }) }).map<Variant>(({ at, by }) => ({ kind: 'quantity', at, by })),
  fc.constant<Variant>({ kind: 'add' }),
);

describe('one Idempotency-Key, many bodies, two customers, sent at once', () => {
  startServicesForDescribe();
  it('property: one order per customer and key, carrying the body that made it; every other body 422 with nothing recorded; the other customer never sees it; stock = start - confirmed units', async () => {
    const [alice, bob] = await Promise.all([createCustomer(user.base), createCustomer(user.base)]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 3 }),
        fc.array(variantArb, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 2 }),
        fc.infiniteStream(fc.nat()),
        async (quantities, variants, copies, bobCopies, shuffle) => {
          const start = 40;
          const products = await Promise.all([...quantities, 0].map(() => createProduct(product.base, admin, { stock: start })));
          const base = quantities.map((quantity, i) => ({ productId: products[i]!.id, quantity }));
          const extra = products[quantities.length]!.id;
          const key = randomUUID();
          const sends: { who: 'alice' | 'bob'; lines: Line[] }[] = [
            ...Array.from({ length: copies }, () => ({ who: 'alice' as const, lines: base })),
            ...variants.map((v) => ({ who: 'alice' as const, lines: variantOf(base, v, extra) })),
            ...Array.from({ length: bobCopies }, () => ({ who: 'bob' as const, lines: base })),
          ];
          // A generated order of sending (Fisher-Yates over the stream).
          const it = shuffle[Symbol.iterator]();
          for (let i = sends.length - 1; i > 0; i--) {
            const j = it.next().value % (i + 1);
            [sends[i], sends[j]] = [sends[j]!, sends[i]!];
          }
          const answers = await Promise.all(
            sends.map((s) => http<Answer>(order.base, 'POST', '/order', { token: s.who === 'alice' ? alice.token : bob.token, body: { items: s.lines }, headers: { 'idempotency-key': key } })),
          );

          const stored = await sql<{ id: string; user_id: string; items: Line[] }>(db.urls.order, 'SELECT id, user_id, items FROM orders.orders WHERE idempotency_key = $1', [key]);
          const aliceOrders = stored.filter((o) => o.user_id === alice.id);
          const bobOrders = stored.filter((o) => o.user_id === bob.id);
          assert.equal(aliceOrders.length, 1, JSON.stringify(stored));
          assert.equal(bobOrders.length, bobCopies > 0 ? 1 : 0, JSON.stringify(stored));
          assert.equal(stored.length, aliceOrders.length + bobOrders.length);
          const made = aliceOrders[0]!;
          const madeBody = canonical(made.items);
          let created = 0;
          sends.forEach((s, i) => {
            const a = answers[i]!;
            const why = `${s.who} ${JSON.stringify(s.lines)} -> ${a.status} ${a.text}`;
            if (s.who === 'bob') {
              assert.ok(a.status === 201 || a.status === 200 || a.status === 503, why);
              assert.equal(a.body.id ?? a.body.orderId, bobOrders[0]!.id, why);
              if (a.status < 300) assert.equal(a.body.userId, bob.id, why);
              return;
            }
            if (canonical(s.lines) === madeBody) {
              assert.ok(a.status === 201 || a.status === 200 || a.status === 503, why);
              assert.equal(a.body.id ?? a.body.orderId, made.id, why);
              if (a.status === 201) created++;
            } else {
              assert.equal(a.status, 422, why);
              assert.ok(isProblem(a), why);
              assert.equal(a.body.type?.endsWith('/idempotency-key-reused'), true, why);
              assert.equal(a.body.id ?? a.body.orderId, undefined, why);
            }
          });
          // The body that made the order was sent, and exactly one of its sends made it (unless that one answered 503).
          assert.ok(created <= 1, `${created} answers 201`);
          assert.ok(sends.some((s) => s.who === 'alice' && canonical(s.lines) === madeBody));

          // Settle whatever answered 503 (none expected with the product service up) before reading the books.
          const ids = stored.map((o) => o.id);
          const rows = await settled(ids);
          for (const p of products) {
            const confirmed = rows.filter((r) => r.status === 'confirmed').flatMap((r) => r.items).filter((l) => l.productId === p.id).reduce((n, l) => n + l.quantity, 0);
            assert.equal(await stockOf(product.base, p.id), start - confirmed, JSON.stringify(rows));
          }
        },
      ),
      { numRuns: Number(process.env.CUSTOMER_RULE_RUNS ?? 12), endOnFailure: true },
    );
  });
});

describe('the orders list from cursors a customer forges', () => {
  startServicesForDescribe();

  it('property: a cursor naming any id (any case, nil, max, another customer\'s order, an admin page\'s) lists only the caller\'s orders before it, newest first; anything else is a 400 problem, nothing listed', async () => {
    const [alice, bob] = await Promise.all([createCustomer(user.base), createCustomer(user.base)]);
    const p = await createProduct(product.base, admin, { stock: 100 });
    const placed: { id: string; userId: string }[] = [];
    // Interleaved, so the other customer's ids fall between the caller's.
    for (const who of [alice, bob, alice, alice, bob, alice, bob, alice]) {
      const res = await http<Answer>(order.base, 'POST', '/order', { token: who.token, body: { items: [{ productId: p.id, quantity: 1 }] }, headers: { 'idempotency-key': randomUUID() } });
      assert.equal(res.status, 201, res.text);
      placed.push({ id: res.body.id!, userId: who.id });
    }
    const own = placed.filter((o) => o.userId === alice.id).map((o) => o.id).sort().reverse();
    // The admin's pages of every order: their cursors name ids of either customer.
    const adminCursors: string[] = [];
    for (let cursor: string | null = null, n = 0; n < 20; n++) {
      const res: HttpResult<{ nextCursor: string | null }> = await http(order.base, 'GET', `/order?limit=1${cursor ? `&cursor=${cursor}` : ''}`, { token: admin });
      assert.equal(res.status, 200, res.text);
      if (!res.body.nextCursor) break;
      adminCursors.push((cursor = res.body.nextCursor));
    }
    const enc = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
    const uuidCursor = fc.oneof(
      fc.uuid(),
      fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', ...placed.map((o) => o.id)),
    ).chain((id) => fc.boolean().map((upper) => (upper ? id.toUpperCase() : id)));
    const cursorArb = fc.oneof(
      uuidCursor.map((id) => ({ cursor: enc([id]), id: id.toLowerCase() })),
      fc.constantFrom(...adminCursors).map((cursor) => ({ cursor, id: (JSON.parse(Buffer.from(cursor, 'base64url').toString()) as string[])[0]!.toLowerCase() })),
      // Nonsense: not base64url JSON, a key of another shape, an id with a NUL, a number, two keys.
      fc.oneof(
        fc.string({ minLength: 1, maxLength: 60 }),
        fc.jsonValue().map(enc),
        uuidCursor.map((id) => enc([`${id}\u0000`])),
        fc.integer().map((n) => enc([n])),
        uuidCursor.map((id) => enc([id, id])),
        uuidCursor.map((id) => enc({ id })),
        uuidCursor.map((id) => enc([id.slice(0, 35)])),
      ).map((cursor) => ({ cursor, id: null as string | null })),
    );
    await fc.assert(
      fc.asyncProperty(cursorArb, fc.integer({ min: 1, max: 6 }), async ({ cursor, id }, limit) => {
        const res = await http<{ items: Answer[]; nextCursor: string | null }>(order.base, 'GET', `/order?limit=${limit}&cursor=${encodeURIComponent(cursor)}`, { token: alice.token });
        const why = `${cursor} -> ${res.status} ${res.text}`;
        if (id === null) {
          assert.equal(res.status, 400, why);
          assert.ok(isProblem(res), why);
          return;
        }
        assert.equal(res.status, 200, why);
        const expected = own.filter((o) => o < id).slice(0, limit);
        assert.deepEqual(res.body.items.map((o) => o.id), expected, why);
        assert.ok(res.body.items.every((o) => o.userId === alice.id), why);
        assert.equal(res.body.nextCursor !== null, own.filter((o) => o < id).length > limit, why);
      }),
      { numRuns: Number(process.env.CUSTOMER_RULE_RUNS ?? 12) * 10 },
    );
  });
});

describe('cancels sent at once', () => {
  startServicesForDescribe();

  it('property: owner and admin cancels at once beside another customer\'s, failing preconditions, reads and a replay: one release, all 200 cancelled, the others 404/412 with nothing done; stock back to its start exactly', async () => {
    const [alice, bob] = await Promise.all([createCustomer(user.base), createCustomer(user.base)]);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 2 }),
        fc.array(fc.constantFrom('bob', 'if-match', 'bob-if-match', 'get', 'replay'), { maxLength: 5 }),
        fc.integer({ min: 1, max: 5 }),
        async (owners, admins, others, quantity) => {
          const start = 20;
          const p = await createProduct(product.base, admin, { stock: start });
          const key = randomUUID();
          const body = { items: [{ productId: p.id, quantity }] };
          const placedRes = await http<Answer>(order.base, 'POST', '/order', { token: alice.token, body, headers: { 'idempotency-key': key } });
          assert.equal(placedRes.status, 201, placedRes.text);
          const id = placedRes.body.id!;
          const cancel = (token: string, headers: Record<string, string> = {}) => http<Answer>(order.base, 'POST', `/order/${id}/cancel`, { token, headers });
          const sends: { kind: string; go: () => Promise<HttpResult<Answer>> }[] = [
            ...Array.from({ length: owners }, () => ({ kind: 'owner', go: () => cancel(alice.token) })),
            ...Array.from({ length: admins }, () => ({ kind: 'admin', go: () => cancel(admin) })),
            ...others.map((kind) => ({
              kind,
              go: () =>
                kind === 'bob'
                  ? cancel(bob.token)
                  : kind === 'if-match'
                    ? cancel(alice.token, { 'if-match': '"1"' })
                    : kind === 'bob-if-match'
                      ? cancel(bob.token, { 'if-match': '"1"' })
                      : kind === 'get'
                        ? http<Answer>(order.base, 'GET', `/order/${id}`, { token: alice.token })
                        : http<Answer>(order.base, 'POST', '/order', { token: alice.token, body, headers: { 'idempotency-key': key } }),
            })),
          ];
          const answers = await Promise.all(sends.map((s) => s.go()));
          sends.forEach((s, i) => {
            const a = answers[i]!;
            const why = `${s.kind} -> ${a.status} ${a.text}`;
            if (s.kind === 'owner' || s.kind === 'admin') {
              assert.equal(a.status, 200, why);
              assert.equal(a.body.status, 'cancelled', why);
            } else if (s.kind === 'bob' || s.kind === 'bob-if-match') {
              assert.equal(a.status, 404, why);
              assert.ok(isProblem(a), why);
            } else if (s.kind === 'if-match') {
              assert.equal(a.status, 412, why);
              assert.ok(isProblem(a), why);
            } else {
              assert.equal(a.status, 200, why);
              assert.equal(a.body.id, id, why);
            }
          });
          const [row] = await sql<{ status: string }>(db.urls.order, 'SELECT status FROM orders.orders WHERE id = $1', [id]);
          assert.equal(row?.status, 'cancelled');
          const reservations = await sql<{ status: string }>(db.urls.product, 'SELECT status FROM catalog.reservations WHERE order_id = $1', [id]);
          assert.deepEqual(reservations.map((r) => r.status), ['released']);
          // Given back once: twice would leave more than the start, never would leave less.
          assert.equal(await stockOf(product.base, p.id), start);
          const again = await cancel(alice.token);
          assert.equal(again.status, 200);
          assert.equal(await stockOf(product.base, p.id), start);
        },
      ),
      { numRuns: Number(process.env.CUSTOMER_RULE_RUNS ?? 12) },
    );
  });
});
