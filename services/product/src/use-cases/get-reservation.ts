import { isUuid } from '@ecommerce/kit';
import type { ReservationRepository } from '../data/reservation-repository.js';
import { foundReservation, refusedNotFound, reservationNotFound, type Reservation } from '../model/reservation.js';

/** The stored reservation of an order id (reserved or released); 404 when there is none, and for a refused one (with its refusal). */
export async function getReservation(deps: { reservationRepository: ReservationRepository }, orderId: string): Promise<Reservation> {
  const found = isUuid(orderId) ? foundReservation(await deps.reservationRepository.lines(orderId)) : null;
  if (!found) throw reservationNotFound(orderId);
  if (found.status === 'refused') throw refusedNotFound(found);
  return found;
}
