import { uuidv7 } from '@ecommerce/kit';
import type { ProductRepository } from '../data/product-repository.js';
import { DEMO_PRODUCTS } from '../model/demo-catalog.js';
import { newProductColumns, type NewProduct } from '../model/product.js';

/** Seeds the demo catalog when the products table is empty; returns how many products were inserted. */
export async function seedDemoCatalog(deps: { productRepository: ProductRepository }, products: NewProduct[] = DEMO_PRODUCTS): Promise<number> {
  // uuidv7 at one millisecond apart keeps the list order equal to the order of the list.
  const start = Date.now();
  return deps.productRepository.insertAllIfEmpty(products.map((p, i) => newProductColumns(uuidv7(start + i), p)));
}
