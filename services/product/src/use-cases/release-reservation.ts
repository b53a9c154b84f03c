import { isUuid } from '@ecommerce/kit';
import type { ReservationRepository } from '../data/reservation-repository.js';
import { foundReservation, refusedNotFound, reservationNotFound, type ReleaseOutcome } from '../model/reservation.js';
import type { CatalogMetrics } from '../plugins/catalog-metrics.js';

interface Deps {
  reservationRepository: ReservationRepository;
  catalogMetrics: CatalogMetrics;
}

/** Gives a reservation's stock back, exactly once; a repeat changes nothing; a refused one is 404 (nothing was reserved) and stays refused. */
export async function releaseReservation(deps: Deps, orderId: string): Promise<ReleaseOutcome> {
  if (!isUuid(orderId)) throw reservationNotFound(orderId);
  const { lines, released } = await deps.reservationRepository.release(orderId);
  const reservation = foundReservation(lines);
  if (!reservation) throw reservationNotFound(orderId);
  if (reservation.status === 'refused') throw refusedNotFound(reservation);
  if (released) deps.catalogMetrics.reservations.inc({ result: 'released' });
  return { reservation, released };
}
