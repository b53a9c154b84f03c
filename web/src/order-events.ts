// Orders changed in this tab (one placed, one cancelled): its order lists are read again, and every
// other open tab of the shop is told, so a list open there does not keep showing the old status. The stock
// changed with them (taken or given back): the products read before are read again when shown, so Back to a
// product page after ordering its last units says "Out of stock", not the stock read before the order.
import type { QueryClient } from '@tanstack/react-query';

function stockChanged(queries: QueryClient): void {
  void queries.invalidateQueries({ queryKey: ['product'] });
  void queries.invalidateQueries({ queryKey: ['products'] });
}

const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('northwind-orders') : null;

/**
 * After this tab placed or cancelled an order: its lists are read again (the order itself it has just been
 * answered, so it is not read twice), and the other tabs read both.
 */
export function ordersChanged(queries: QueryClient): void {
  void queries.invalidateQueries({ queryKey: ['orders'] });
  stockChanged(queries);
  channel?.postMessage('orders-changed');
}

/** Follows the other tabs' changes; returns the unsubscribe (a BroadcastChannel never delivers to its sender). */
export function followOtherTabsOrders(queries: QueryClient): () => void {
  if (!channel) return () => undefined;
  const onMessage = (e: MessageEvent) => {
    if (e.data !== 'orders-changed') return;
    void queries.invalidateQueries({ queryKey: ['orders'] });
    void queries.invalidateQueries({ queryKey: ['order'] });
    stockChanged(queries);
  };
  channel.addEventListener('message', onMessage);
  return () => channel.removeEventListener('message', onMessage);
}
