import { uuidv7 } from '@ecommerce/kit';
import type { ProductRepository } from '../data/product-repository.js';
import { newProductColumns, toProduct, type NewProduct, type Product } from '../model/product.js';

/** A new product with a time-ordered id; 409 sku-taken when the SKU is in use. */
export async function createProduct(deps: { productRepository: ProductRepository }, input: NewProduct): Promise<Product> {
  return toProduct(await deps.productRepository.insert(newProductColumns(uuidv7(), input)));
}
