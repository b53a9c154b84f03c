// Orders changed in this tab (one placed, one cancelled): its order lists and pages are read again, and every
// other open tab of the shop is told, so a list open there does not keep showing the old status.
import type { QueryClient } from '@tanstack/react-query';

const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('northwind-orders') : null;

function refetchOrders(queries: QueryClient): void {
  void queries.invalidateQueries({ queryKey: ['orders'] });
  void queries.invalidateQueries({ queryKey: ['order'] });
}

/** After this tab placed or cancelled an order. */
export function ordersChanged(queries: QueryClient): void {
  refetchOrders(queries);
  channel?.postMessage('orders-changed');
}

/** Follows the other tabs' changes; returns the unsubscribe (a BroadcastChannel never delivers to its sender). */
export function followOtherTabsOrders(queries: QueryClient): () => void {
  if (!channel) return () => undefined;
  const onMessage = (e: MessageEvent) => e.data === 'orders-changed' && refetchOrders(queries);
  channel.addEventListener('message', onMessage);
  return () => channel.removeEventListener('message', onMessage);
}
