import { isUuid } from '@ecommerce/kit';
import type { ProductRepository } from '../data/product-repository.js';
import { productNotFound, toProduct, type Product } from '../model/product.js';

/** A malformed id is answered like an unknown one: 404, the id space is not explained to the caller. */
export async function getProduct(deps: { productRepository: ProductRepository }, id: string): Promise<Product> {
  if (!isUuid(id)) throw productNotFound();
  const row = await deps.productRepository.findById(id);
  if (!row) throw productNotFound();
  return toProduct(row);
}
