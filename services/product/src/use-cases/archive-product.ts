import { isUuid } from '@ecommerce/kit';
import type { ProductRepository } from '../data/product-repository.js';
import { productNotFound } from '../model/product.js';
import { UNCONDITIONAL, conditionFailed, type VersionCondition } from '../model/version-condition.js';

/**
 * Archives: hidden from the catalog and from new reservations, kept for the orders that reference it. Under a
 * condition (If-Match, If-None-Match), only at a version it allows: 412 otherwise, and it stays on sale.
 */
export async function archiveProduct(deps: { productRepository: ProductRepository }, id: string, condition: VersionCondition = UNCONDITIONAL): Promise<void> {
  const products = deps.productRepository;
  if (!isUuid(id)) throw productNotFound();
  if (await products.archive(id, condition)) return;
  // No row: either the product is gone or the version moved on; tell which.
  const current = await products.findById(id);
  if (!current) throw productNotFound();
  throw conditionFailed(condition, current.version);
}
