import { isUuid } from '@ecommerce/kit';
import type { ProductRepository } from '../data/product-repository.js';
import { productNotFound } from '../model/product.js';

/** Archives: hidden from the catalog and from new reservations, kept for the orders that reference it. */
export async function archiveProduct(deps: { productRepository: ProductRepository }, id: string): Promise<void> {
  if (!isUuid(id)) throw productNotFound();
  if (!(await deps.productRepository.archive(id))) throw productNotFound();
}
