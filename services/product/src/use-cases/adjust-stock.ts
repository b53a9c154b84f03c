import { Conflict, isUuid } from '@ecommerce/kit';
import type { ProductRepository } from '../data/product-repository.js';
import { MAX_STOCK, productNotFound, toProduct, type Product } from '../model/product.js';
import type { CatalogMetrics } from '../plugins/catalog-metrics.js';

interface Deps {
  productRepository: ProductRepository;
  catalogMetrics: CatalogMetrics;
}

/** Restock (delta > 0) or remove unreserved units (delta < 0); reaching 0 counts as a stockout. */
export async function adjustStock(deps: Deps, id: string, delta: number): Promise<Product> {
  const products = deps.productRepository;
  if (!isUuid(id)) throw productNotFound();
  const adjusted = await products.adjustStock(id, delta, MAX_STOCK);
  if (adjusted) {
    if (adjusted.stock === 0) deps.catalogMetrics.stockouts.inc();
    return toProduct(adjusted);
  }
  const row = await products.findById(id);
  if (!row) throw productNotFound();
  // Given the row exists and is live, the failed condition follows from the sign of delta alone.
  if (delta < 0) {
    throw new Conflict('insufficient-stock', `Only ${row.stock} unreserved unit(s) can be removed; the rest is reserved by orders`, {
      available: row.stock,
    });
  }
  throw new Conflict('stock-limit-exceeded', `Stock may not exceed ${MAX_STOCK} units`, { available: row.stock });
}
