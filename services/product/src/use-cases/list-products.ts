import { pageOf } from '@ecommerce/kit';
import type { ListFilter, ProductRepository } from '../data/product-repository.js';
import { toProduct, type Product } from '../model/product.js';

/** One keyset page of the live catalog in creation order, optionally searched by words and filtered by category. */
export async function listProducts(deps: { productRepository: ProductRepository }, filter: ListFilter): Promise<{ items: Product[]; nextCursor: string | null }> {
  const rows = await deps.productRepository.list(filter);
  return pageOf(rows, filter.limit, (r) => [r.id], toProduct);
}
