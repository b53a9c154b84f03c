import { BadRequest } from '@ecommerce/kit';
import type { PriceChange, Refusal, RefusalReason, ReserveRequest } from '@ecommerce/contracts';
import type { AvailabilityRow, ReservationRepository, ReserveLine } from '../data/reservation-repository.js';
import { ReservationRefused, itemsOf, sumByProduct, toReservation, type ReserveOutcome } from '../model/reservation.js';
import type { CatalogMetrics, ReservationResult } from '../plugins/catalog-metrics.js';

interface Deps {
  reservationRepository: ReservationRepository;
  catalogMetrics: CatalogMetrics;
}

const RESULT: Record<RefusalReason, ReservationResult> = {
  'insufficient-stock': 'insufficient_stock',
  'unknown-product': 'not_found',
  'mixed-currency': 'mixed_currency',
  expired: 'expired',
  'price-changed': 'price_changed',
};

/**
 * Reserves every line or none. A refusal is final: stored by the call itself when its first line is short (a
 * sold-out item), else under the order id here (refuseOnce); a repeat
 * of a decided order id replays the stored answer. Throws ReservationRefused; counts every result.
 */
export async function reserveStock(deps: Deps, req: ReserveRequest): Promise<ReserveOutcome> {
  const { reservations } = deps.catalogMetrics;
  try {
    const outcome = await reserve(deps.reservationRepository, req);
    reservations.inc({ result: outcome.replayed ? 'replayed' : 'reserved' });
    if (outcome.stockouts) deps.catalogMetrics.stockouts.inc(outcome.stockouts);
    return outcome;
  } catch (err) {
    if (err instanceof ReservationRefused) reservations.inc({ result: err.replayed ? 'replayed' : RESULT[err.refusal.reason] });
    throw err;
  }
}

async function reserve(repo: ReservationRepository, req: ReserveRequest): Promise<ReserveOutcome> {
  const lines = sumByProduct(req.items);
  const notAfter = instantOf(req.notAfter);
  const result = await repo.reserve(req.orderId, lines, notAfter);
  if ('failure' in result) {
    if (result.failure === 'expired') return refuseOnce(repo, req.orderId, { reason: 'expired', notAfter: req.notAfter ?? '' });
    if (result.failure === 'short') return refuseOnce(repo, req.orderId, await explainShortage(repo, lines));
    if (result.failure === 'price-changed') return refuseOnce(repo, req.orderId, await explainPriceChange(repo, lines));
    return refuseOnce(repo, req.orderId, { reason: 'mixed-currency' });
  }
  const rows = result.rows;
  const first = rows[0];
  if (!first) throw new Error(`reservation ${req.orderId} has no lines`);
  if (first.status === 'refused') throw new ReservationRefused(req.orderId, first.refusal ?? { reason: 'expired', notAfter: req.notAfter ?? '' }, first.replayed);
  return {
    reservation: { orderId: req.orderId, status: first.status, items: itemsOf(rows) },
    replayed: first.replayed,
    stockouts: rows.filter((r) => r.stock_left === 0).length,
  };
}

/** Stores the refusal as the order id's answer; if a concurrent request stored one first, that one is the answer. */
async function refuseOnce(repo: ReservationRepository, orderId: string, refusal: Refusal): Promise<never | ReserveOutcome> {
  if (await repo.storeRefusal(orderId, refusal)) throw new ReservationRefused(orderId, refusal, false);
  const existing = toReservation(await repo.lines(orderId));
  if (!existing) throw new Error(`reservation ${orderId} vanished`);
  if (existing.status === 'refused') throw new ReservationRefused(orderId, existing.refusal ?? refusal, true);
  return { reservation: existing, replayed: true, stockouts: 0 };
}

/** After the rollback: which lines are unknown, else which are short. Read outside the transaction. */
async function explainShortage(repo: ReservationRepository, lines: ReserveLine[]): Promise<Refusal> {
  const byId = await availabilityById(repo, lines);
  const unknown = lines.filter((l) => !byId.get(l.productId) || byId.get(l.productId)!.archived).map((l) => l.productId);
  if (unknown.length) return { reason: 'unknown-product', productIds: unknown };
  const all = lines.map((l) => ({ productId: l.productId, requested: l.quantity, available: byId.get(l.productId)!.stock }));
  const short = all.filter((l) => l.available < l.requested);
  // Stock may have been returned between the rollback and this read: then name every line.
  return { reason: 'insufficient-stock', items: short.length ? short : all };
}

/**
 * After the rollback: the lines priced otherwise than expected, with their price now. Read outside the
 * transaction, so a price changed back meanwhile may match again: then every line with an expectation is named.
 */
async function explainPriceChange(repo: ReservationRepository, lines: ReserveLine[]): Promise<Refusal> {
  const byId = await availabilityById(repo, lines);
  const expecting = lines.filter((l) => (l.expectedUnitPriceCents !== undefined || l.expectedCurrency !== undefined || l.contradictory) && byId.has(l.productId));
  const change = (l: ReserveLine): PriceChange => {
    const now = byId.get(l.productId)!;
    return {
      productId: l.productId,
      ...(l.expectedUnitPriceCents !== undefined ? { expectedUnitPriceCents: l.expectedUnitPriceCents } : {}),
      ...(l.expectedCurrency !== undefined ? { expectedCurrency: l.expectedCurrency } : {}),
      unitPriceCents: now.price_cents,
      currency: now.currency,
    };
  };
  // A contradictory product is named with its price now and no expectation: its lines expected several.
  const differs = (l: ReserveLine, c: PriceChange) =>
    l.contradictory === true ||
    (c.expectedUnitPriceCents !== undefined && c.expectedUnitPriceCents !== c.unitPriceCents) ||
    (c.expectedCurrency !== undefined && c.expectedCurrency !== c.currency);
  const all = expecting.map((l) => ({ line: l, item: change(l) }));
  const changed = all.filter(({ line, item }) => differs(line, item));
  return { reason: 'price-changed', items: (changed.length ? changed : all).map(({ item }) => item) };
}

async function availabilityById(repo: ReservationRepository, lines: ReserveLine[]): Promise<Map<string, AvailabilityRow>> {
  return new Map((await repo.availability(lines.map((l) => l.productId))).map((r) => [r.id, r]));
}

/**
 * notAfter as PostgreSQL takes it: an RFC 3339 instant in UTC. The schema's date-time format admits offsets up to
 * ±23:59 and year 0, which timestamptz refuses (a 500 before); outside years 1970-9999 it is a 400.
 */
function instantOf(text: string | undefined): string | null {
  if (text === undefined) return null;
  // A leap second (23:59:60, RFC 3339 5.7: the schema's format takes it) is no instant to Date.parse (NaN, refused as
  // outside 1970-9999 before); read as PostgreSQL reads it, one second after the 59th.
  const leap = /^(.+T\d\d:\d\d:)60(.*)$/i.exec(text);
  const ms = leap ? Date.parse(`${leap[1]}59${leap[2]}`) + 1000 : Date.parse(text);
  if (!Number.isFinite(ms) || ms < 0 || ms >= Date.UTC(10000, 0, 1)) {
    throw new BadRequest('notAfter must be an instant between 1970 and 9999', [{ path: '/notAfter', message: 'must be an instant between 1970 and 9999' }]);
  }
  return new Date(ms).toISOString();
}
