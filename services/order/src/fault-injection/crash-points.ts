import type { CrashPoint } from '../config.js';
import type { TransitionChanges } from '../data/order-repository.js';
import type { NextStatus, OrderStatus } from '../model/order.js';
import type { OrderDeps } from '../use-cases/order-deps.js';

/**
 * Test only (FAULT_CRASH_POINT, refused unless FAULT_INJECTION=enabled): SIGKILLs the process right after one step
 * of a client's placement or cancellation, to prove a repeat or the reconciler recovers what it cut short. The use
 * cases stay business steps: this wraps the dependencies they are given (plugins/orders.ts), so the kill happens
 * as the step's call returns. Only a client's request is cut (a context passed, or a step only requests take),
 * never the reconciler's work.
 */
export function withCrashPoint(deps: OrderDeps, point: CrashPoint): OrderDeps {
  if (point === 'none') return deps;
  const kill = (at: CrashPoint) => {
    if (at === point) process.kill(process.pid, 'SIGKILL');
  };
  const { repository, products } = deps;
  // Object.create: every other method is the original's, with the same state.
  const crashingRepository: OrderDeps['repository'] = Object.create(repository);
  // after-pending: the order is written pending, nothing is reserved yet (only placement inserts).
  crashingRepository.insertPending = async (order) => {
    const inserted = await repository.insertPending(order);
    if (inserted) kill('after-pending');
    return inserted;
  };
  // after-cancelling: the cancel intent is recorded, the reservation is still held (only a request cancels).
  crashingRepository.transition = async <From extends OrderStatus>(id: string, from: From, to: NextStatus<From>, changes?: TransitionChanges) => {
    const moved = await repository.transition(id, from, to, changes);
    if (moved && from === 'confirmed' && to === 'cancelling') kill('after-cancelling');
    return moved;
  };
  const crashingProducts: OrderDeps['products'] = Object.create(products);
  // after-reserve: the product service answered, the order does not know yet.
  crashingProducts.reserve = async (...args: Parameters<typeof products.reserve>) => {
    const outcome = await products.reserve(...args);
    if (args[3]) kill('after-reserve');
    return outcome;
  };
  // after-release: the reservation is released, the order is still cancelling.
  crashingProducts.release = async (...args: Parameters<typeof products.release>) => {
    const released = await products.release(...args);
    if (args[1]) kill('after-release');
    return released;
  };
  return { ...deps, repository: crashingRepository, products: crashingProducts };
}
