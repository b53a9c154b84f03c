// The reconciler when its own database or the product service is away: it backs off and says so as an outage, not as a bug.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { Reconciler } from '../src/background/reconciler.js';
import { ProductAnswerError, ProductUnavailableError } from '../src/clients/product-client.js';
import type { OrderDeps } from '../src/use-cases/order-deps.js';

function recordingLog(): { log: FastifyBaseLogger; lines: { level: string; msg: string; obj: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => lines.push({ level, msg, obj });
  const log = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), trace: at('trace'), fatal: at('fatal') } as unknown as FastifyBaseLogger;
  return { log, lines };
}

describe('reconciler while the database is away', () => {
  it('when every pass fails because PostgreSQL refuses connections, then passes back off and each is one warning without a stack', async () => {
    let claims = 0;
    let down = true;
    const repository = {
      claimOverdue: async () => {
        claims++;
        if (down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
        return [];
      },
    };
    const { log, lines } = recordingLog();
    const reconciler = new Reconciler({ repository } as unknown as OrderDeps, log, 20, 3_600_000);
    reconciler.start();
    try {
      await sleep(700);
      // At a fixed 20 ms there would be about 35 passes; doubling from 20 ms, passes start at 20, 60, 140, 300, 620 ms.
      assert.ok(claims >= 3 && claims <= 7, `${claims} passes in 700 ms`);
      assert.deepEqual(lines.filter((l) => l.level === 'error'), []);
      const warnings = lines.filter((l) => l.level === 'warn');
      assert.equal(warnings.length, claims);
      assert.match(warnings[0]!.msg, /database is unavailable/);
      assert.equal(warnings[0]!.obj['code'], 'ECONNREFUSED');
      assert.equal(warnings[0]!.obj['err'], undefined);
      // Back: passes return to the interval.
      down = false;
      const before = claims;
      await sleep(4_500);
      assert.ok(claims - before >= 10, `${claims - before} passes in the 4.5 s after the database came back`);
    } finally {
      await reconciler.stop();
    }
  });
});

describe('reconciler while the product service is away', () => {
  it('when the audit cannot list or release reservations because the product service does not answer, then each pass is one warning without a stack, and none is an error', async () => {
    let audits = 0;
    const repository = {
      claimOverdue: async () => [],
      pruneUsage: async () => undefined,
      withAuditLock: async <T>(fn: (signal: AbortSignal) => Promise<T>) => fn(new AbortController().signal),
      confirmedIds: async () => [],
      statusesOf: async (ids: string[]) => new Map(ids.map((id) => [id, 'cancelled'])),
    };
    const products = {
      // Odd audits: the list itself gets no answer; even ones: a stale reservation whose release gets none.
      listHeld: async () => {
        audits++;
        if (audits % 2 === 1) throw new ProductUnavailableError('timeout');
        return { orderIds: ['0190a0b0-0000-7000-8000-000000000001'], next: null };
      },
      release: async () => 'unavailable' as const,
    };
    const { log, lines } = recordingLog();
    const metrics = { auditHeldRepairs: { set: () => undefined } };
    const reconciler = new Reconciler({ repository, products, metrics } as unknown as OrderDeps, log, 20, 0);
    reconciler.start();
    try {
      await sleep(400);
    } finally {
      await reconciler.stop();
    }
    assert.ok(audits >= 2, `${audits} audits in 400 ms`);
    assert.deepEqual(lines.filter((l) => l.level === 'error'), []);
    const warnings = lines.filter((l) => l.level === 'warn');
    assert.equal(warnings.length, audits);
    for (const w of warnings) {
      assert.match(w.msg, /product service is unavailable/);
      assert.equal(w.obj['err'], undefined);
    }
    assert.match(String(warnings[0]!.obj['reason']), /timeout/);
    assert.match(String(warnings[1]!.obj['reason']), /release/);
  });
});

describe('the audit when the product service answers some of its reads with an error', () => {
  const id = (n: number) => `0190a0b0-0000-7000-8000-${String(n).padStart(12, '0')}`;
  /** A product service holding reservations for `held` (listed in pages of 2, the page after `listFailsAfter` ids answered 500) and confirmed orders `confirmed` here. */
  function audited(opts: { held: number[]; confirmed: number[]; listFailsAfter?: number; readFails: (n: number) => boolean }) {
    const cancelled: string[] = [];
    const errors: string[] = [];
    const repository = {
      withAuditLock: async <T>(fn: (signal: AbortSignal) => Promise<T>) => fn(new AbortController().signal),
      confirmedIds: async (after: string | null) => opts.confirmed.map(id).filter((i) => after === null || i > after),
      statusesOf: async (ids: string[]) => new Map(ids.map((i) => [i, 'confirmed'])),
      transition: async (orderId: string) => (cancelled.push(orderId), { id: orderId }),
    };
    const products = {
      listHeld: async (after: string | null) => {
        const rest = opts.held.map(id).filter((i) => after === null || i > after);
        if (opts.listFailsAfter !== undefined && opts.held.length - rest.length >= opts.listFailsAfter) throw new ProductAnswerError(500, 'the reservation list');
        const page = rest.slice(0, 2);
        return { orderIds: page, next: rest.length > 2 ? page[1]! : null };
      },
      get: async (orderId: string) => (opts.readFails(Number(orderId.slice(-12))) ? { kind: 'unexpected', status: 500, reason: 'product answered 500' } : { kind: 'released' }),
    };
    const metrics = { settleErrors: { inc: ({ reason }: { reason: string }) => errors.push(reason) }, repairs: { inc: () => undefined }, auditHeldRepairs: { set: () => undefined } };
    const reconciler = new Reconciler({ repository, products, metrics } as unknown as OrderDeps, recordingLog().log, 20, 0);
    return { audit: () => reconciler.auditOnce(), cancelled, errors };
  }

  it('when one confirmed order without a reservation cannot be read, then the others are repaired and the error is counted', async () => {
    const a = audited({ held: [2, 4], confirmed: [1, 2, 3, 4, 5], readFails: (n) => n === 1 });
    assert.deepEqual(await a.audit(), { reservationWithoutOrder: 0, orderWithoutReservation: 2 });
    assert.deepEqual(a.cancelled, [id(3), id(5)]);
    assert.deepEqual(a.errors, ['unexpected_answer']);
  });

  it('when a page of the held list is answered 500, then what was compared before it is repaired and nothing after it is touched', async () => {
    // Pages [2, 4], [6, 8], then 500: 1, 3, 5, 7 are known to lack a reservation; 9 is not known either way.
    const a = audited({ held: [2, 4, 6, 8, 10], confirmed: [1, 2, 3, 4, 5, 6, 7, 8, 9], listFailsAfter: 4, readFails: () => false });
    assert.deepEqual(await a.audit(), { reservationWithoutOrder: 0, orderWithoutReservation: 4 });
    assert.deepEqual(a.cancelled, [id(1), id(3), id(5), id(7)]);
    assert.deepEqual(a.errors, ['unexpected_answer']);
  });

  it('when every read is answered with an error, then the audit stops as for an outage after a few in a row', async () => {
    const a = audited({ held: [], confirmed: Array.from({ length: 50 }, (_, i) => i + 1), readFails: () => true });
    await assert.rejects(a.audit(), ProductUnavailableError);
    assert.equal(a.errors.length, 8);
    assert.deepEqual(a.cancelled, []);
  });
});

describe('the audit when the process shuts down', () => {
  it('when the reconciler is stopped (SIGTERM) while the audit walks a long list of reservations, then it stops at the next page, not after the whole walk, and repairs nothing from a walk cut short', async () => {
    // 40 pages of held reservations, 100 ms each (a big shop: the audit runs for minutes there); no confirmed order here,
    // and every listed order confirmed when read again: a whole walk would repair nothing either.
    const id = (n: number) => `0190a0b0-0000-7000-8000-${String(n).padStart(12, '0')}`;
    let pages = 0;
    let released = 0;
    const repository = {
      claimOverdue: async () => [],
      pruneUsage: async () => undefined,
      withAuditLock: async <T>(fn: (signal: AbortSignal) => Promise<T>) => fn(new AbortController().signal),
      confirmedIds: async () => [],
      statusesOf: async (ids: string[]) => new Map(ids.map((i) => [i, 'cancelled'])),
    };
    const products = {
      listHeld: async (after: string | null) => {
        pages++;
        await sleep(100);
        const from = after === null ? 0 : Number(after.slice(-12)) + 1;
        const orderIds = Array.from({ length: 10 }, (_, i) => id(from + i));
        return { orderIds, next: from + 10 < 400 ? orderIds[9]! : null };
      },
      release: async () => (released++, 'released' as const),
    };
    const metrics = { repairs: { inc: () => undefined }, settleErrors: { inc: () => undefined }, auditHeldRepairs: { set: () => undefined } };
    const reconciler = new Reconciler({ repository, products, metrics } as unknown as OrderDeps, recordingLog().log, 20, 0);
    reconciler.start();
    for (let i = 0; i < 200 && pages < 2; i++) await sleep(10);
    const t0 = performance.now();
    await reconciler.stop();
    const stoppedInMs = performance.now() - t0;
    assert.ok(stoppedInMs < 1_000, `stopped ${Math.round(stoppedInMs)} ms after stop() (the whole walk: ~4 s)`);
    assert.ok(pages < 10, `${pages} pages listed`);
    assert.equal(released, 0, 'nothing repaired from a walk cut short');
  });
});

describe('reconciler after a pass cut short by the database', () => {
  it('when the leases of a pass cut short cannot be given back for a reason other than an outage (a bug), then the next passes still claim and drive orders', async () => {
    const conn = () => Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
    const rows = Array.from({ length: 9 }, (_, i) => ({ id: `order-${i}`, status: 'cancelling', lease: '1', traceparent: null }));
    let claims = 0;
    let lost = true;
    const repository = {
      claimOverdue: async () => (claims++ === 0 ? rows : []),
      releaseLeases: async () => {
        throw new TypeError('a bug in giving leases back');
      },
      transition: async (id: string) => ({ ...rows.find((r) => r.id === id)!, status: 'cancelled' }),
      triedAgainLater: async () => undefined,
    };
    const products = {
      // The first order's release meets a lost connection of the order database's kind (ECONNRESET): the pass stops.
      release: async (id: string) => {
        if (id === 'order-0' && lost) {
          lost = false;
          throw conn();
        }
        return 'released';
      },
    };
    const counter = { inc: () => undefined };
    const metrics = { repairs: counter, settled: counter, settleErrors: counter, cancelled: counter };
    const { log, lines } = recordingLog();
    const reconciler = new Reconciler({ repository, products, metrics } as unknown as OrderDeps, log, 20, 3_600_000);
    await assert.rejects(reconciler.runOnce(), /Connection terminated/);
    // The next passes claim again (nothing to do here), not stopped for good at the leases they cannot give back.
    await reconciler.runOnce();
    await reconciler.runOnce();
    assert.equal(claims, 3);
    assert.equal(lines.filter((l) => l.level === 'error' && /give back the leases/.test(l.msg)).length, 1);
  });
});

describe('reconciler warnings and the values an error quotes', () => {
  const EMAIL = 'victim.4f2a9c@example.test';
  const TOKEN = 'eyJhbGciOi.Jz3kQ9.x7Yp2';
  const ORDER = '0190a0b0-0000-7000-8000-000000000002';

  it('when a pass fails for the database, the product service, or one order, then the `reason` of its warning keeps the words of the code, never an email or a token the error quoted', async () => {
    let pass = 0;
    const row = { id: ORDER, status: 'pending', given_up_at: null, created_at: new Date(), items: [{ productId: ORDER, quantity: 1 }], traceparent: null };
    const repository = {
      claimOverdue: async () => {
        pass++;
        // 1: the database away, its message naming a row's email; 2: the product service away, naming a token;
        // 3 on: one order whose try fails with an error that quotes the email (held off: its reason is that message).
        if (pass === 1) throw Object.assign(new Error(`terminating connection for ${EMAIL}`), { code: '57P01' });
        if (pass === 2) throw new ProductUnavailableError(`the token "${TOKEN}" was refused`);
        return pass === 3 ? [row] : [];
      },
      releaseLeases: async () => undefined,
      giveUp: async () => null,
      holdOff: async () => undefined,
      triedAgainLater: async () => undefined,
    };
    const products = {
      reserve: async () => {
        throw new Error(`reservation for ${EMAIL} failed`);
      },
    };
    const metrics = { settleErrors: { inc: () => undefined } };
    const { log, lines } = recordingLog();
    const reconciler = new Reconciler({ repository, products, metrics, reservationWindowMs: 60_000 } as unknown as OrderDeps, log, 20, 3_600_000);
    reconciler.start();
    try {
      for (let i = 0; i < 100 && pass < 4; i++) await sleep(20);
    } finally {
      await reconciler.stop();
    }
    const warnings = lines.filter((l) => l.level === 'warn').map((l) => [l.msg, l.obj['reason']]);
    assert.deepEqual(warnings, [
      ['reconciler pass skipped: the database is unavailable', 'terminating connection for REDACTED'],
      ['reconciler pass cut short: the product service is unavailable', 'product service unavailable: the token "REDACTED" was refused'],
      ['reconciler: this order could not be settled; it waits on its own backoff', 'reservation for REDACTED failed'],
    ]);
  });
});
