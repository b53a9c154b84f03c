import type { ReservationStatus } from '@ecommerce/contracts';
import type { ReservationRepository } from '../data/reservation-repository.js';

/** One keyset page of reservations in one status, by order id (the order service's audit walks them). */
export async function listReservations(
  deps: { reservationRepository: ReservationRepository },
  status: ReservationStatus,
  after: string | null,
  limit: number,
): Promise<{ items: { orderId: string; status: ReservationStatus }[]; next: string | null }> {
  const rows = await deps.reservationRepository.list(status, after, limit);
  const page = rows.slice(0, limit).map((r) => ({ orderId: r.order_id, status: r.status }));
  return { items: page, next: rows.length > limit ? page[page.length - 1]!.orderId : null };
}
