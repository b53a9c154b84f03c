// Orders changed in this tab (one placed, one cancelled): its order lists are read again, and every
// other open tab of the shop is told, so a list open there does not keep showing the old status.
import type { QueryClient } from '@tanstack/react-query';

const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('northwind-orders') : null;

/**
 * After this tab placed or cancelled an order: its lists are read again (the order itself it has just been
 * answered, so it is not read twice), and the other tabs read both.
 */
export function ordersChanged(queries: QueryClient): void {
  void queries.invalidateQueries({ queryKey: ['orders'] });
  channel?.postMessage('orders-changed');
}

/** Follows the other tabs' changes; returns the unsubscribe (a BroadcastChannel never delivers to its sender). */
export function followOtherTabsOrders(queries: QueryClient): () => void {
  if (!channel) return () => undefined;
  const onMessage = (e: MessageEvent) => {
    if (e.data !== 'orders-changed') return;
    void queries.invalidateQueries({ queryKey: ['orders'] });
    void queries.invalidateQueries({ queryKey: ['order'] });
  };
  channel.addEventListener('message', onMessage);
  return () => channel.removeEventListener('message', onMessage);
}
