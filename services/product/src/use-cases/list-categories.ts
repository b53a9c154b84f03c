import { pageOf } from '@ecommerce/kit';
import type { ProductRepository } from '../data/product-repository.js';

/**
 * One keyset page of the categories the live catalog has, each once, in order: the shop's Category filter. It took
 * them from the catalog's first 100 products, so a category whose products all came later was never offered.
 */
export async function listCategories(deps: { productRepository: ProductRepository }, page: { limit: number; after: string | null }): Promise<{ items: string[]; nextCursor: string | null }> {
  const rows = await deps.productRepository.categories(page.after, page.limit + 1);
  return pageOf(rows, page.limit, (c) => [c], (c) => c);
}
