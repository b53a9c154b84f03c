import { Conflict, UnprocessableEntity, countOf, isUuid } from '@ecommerce/kit';
import type { ProductRepository } from '../data/product-repository.js';
import { MAX_STOCK, productNotFound, toProduct, type Product } from '../model/product.js';
import type { CatalogMetrics } from '../plugins/catalog-metrics.js';
import { UNCONDITIONAL, conditionFailed, meetsCondition, type VersionCondition } from '../model/version-condition.js';

interface Deps {
  productRepository: ProductRepository;
  catalogMetrics: CatalogMetrics;
}

/**
 * Restock (delta > 0, up to stock + held = MAX_STOCK) or remove unreserved units (delta < 0); reaching 0 counts as a stockout. Under a condition
 * (If-Match, If-None-Match), only while the product is at a version it allows (412 otherwise). With an
 * idempotency key it is applied once: a repeat (a retry after a lost answer) changes nothing and answers the
 * product as it is now; the key with another delta is a 422.
 */
export async function adjustStock(deps: Deps, id: string, delta: number, idempotencyKey?: string, condition: VersionCondition = UNCONDITIONAL): Promise<Product> {
  const products = deps.productRepository;
  if (!isUuid(id)) throw productNotFound();
  // A refusal names the stock it was refused for. The stock is read after the refused update, and a concurrent
  // cancel or restock may have moved it in between so that the same delta now fits (a removal of 2 refused
  // with "7 available"): then the adjustment is tried again, so an answer never contradicts itself.
  for (let attempt = 1; ; attempt++) {
    let adjusted;
    if (idempotencyKey === undefined) adjusted = await products.adjustStock(id, delta, MAX_STOCK, condition);
    else {
      // A repeat of an applied key answers as before, whatever its condition: the change it asks for is made (RFC 9110 13.1.1).
      const once = await products.adjustStockOnce(id, delta, MAX_STOCK, idempotencyKey, condition);
      if (once?.kind === 'replayed') {
        if (once.delta !== delta) throw new UnprocessableEntity('idempotency-key-reused', `This Idempotency-Key was used with delta ${once.delta}`);
        const row = await products.findById(id);
        if (!row) throw productNotFound();
        return toProduct(row);
      }
      adjusted = once?.row;
    }
    if (adjusted) {
      if (adjusted.stock === 0) deps.catalogMetrics.stockouts.inc();
      return toProduct(adjusted);
    }
    const row = await products.findById(id);
    if (!row) throw productNotFound();
    if (!meetsCondition(condition, row.version)) throw conditionFailed(condition, row.version);
    // Given the row exists and is live, the failed condition follows from the sign of delta alone: a removal never
    // fails for the upper bound (it lowers stock + held; a product over it from before migration 017 comes back down),
    // a restock fails for it counting the units reservations hold, which a release gives back to stock.
    const refusedNow = delta < 0 ? row.stock + delta < 0 : row.stock + row.held + delta > MAX_STOCK;
    if (!refusedNow && attempt < MAX_ATTEMPTS) continue;
    if (delta < 0) {
      throw new Conflict('insufficient-stock', `Only ${countOf(row.stock, 'unit')} ${row.stock === 1 ? 'is' : 'are'} in stock to remove; units reserved by orders are not in stock`, {
        available: row.stock,
      });
    }
    throw stockLimitExceeded(row.stock, row.held);
  }
}

/**
 * A restock past the bound: stock + the units held by reservations may not exceed MAX_STOCK, or releasing them would
 * take stock past it. `available` is the stock (as for every refusal of a change), `held` the units held.
 */
function stockLimitExceeded(stock: number, held: number): Conflict {
  const room = Math.max(0, MAX_STOCK - stock - held);
  return new Conflict('stock-limit-exceeded', `Stock may not exceed ${MAX_STOCK} units, counting the ${countOf(held, 'unit')} held by reservations: ${room} more can be added`, {
    available: stock,
    held,
  });
}

/** Tries of an adjustment whose refusal the stock read afterwards no longer explains (see adjustStock). */
const MAX_ATTEMPTS = 5;
