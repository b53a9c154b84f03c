import { isUuid } from '@ecommerce/kit';
import type { ProductRepository } from '../data/product-repository.js';
import { productNotFound, toProduct, type Product, type ProductPatch } from '../model/product.js';
import { conditionFailed, type VersionCondition } from '../model/version-condition.js';

/** Applies the patch; under a condition (If-Match, If-None-Match), only at a version it allows (412 otherwise). */
export async function updateProduct(deps: { productRepository: ProductRepository }, id: string, patch: ProductPatch, condition: VersionCondition): Promise<Product> {
  const products = deps.productRepository;
  if (!isUuid(id)) throw productNotFound();
  const updated = await products.update(id, patch, condition);
  if (updated) return toProduct(updated);
  // No row: either the product is gone or the version moved on; tell which.
  const current = await products.findById(id);
  if (!current) throw productNotFound();
  throw conditionFailed(condition, current.version);
}
