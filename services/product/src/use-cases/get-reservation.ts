import { NotFound, isUuid } from '@ecommerce/kit';
import type { ReservationRepository } from '../data/reservation-repository.js';
import { foundReservation, type Reservation } from '../model/reservation.js';

/** The stored reservation of an order id (reserved, released or refused); 404 when there is none. */
export async function getReservation(deps: { reservationRepository: ReservationRepository }, orderId: string): Promise<Reservation> {
  const found = isUuid(orderId) ? foundReservation(await deps.reservationRepository.lines(orderId)) : null;
  if (!found) throw new NotFound('Reservation not found');
  return found;
}
