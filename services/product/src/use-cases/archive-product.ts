import { PreconditionFailed, isUuid } from '@ecommerce/kit';
import type { ProductRepository } from '../data/product-repository.js';
import { productNotFound } from '../model/product.js';

/**
 * Archives: hidden from the catalog and from new reservations, kept for the orders that reference it. With expected
 * versions (If-Match), only while the product is at one of them: 412 otherwise, and it stays on sale.
 */
export async function archiveProduct(deps: { productRepository: ProductRepository }, id: string, expectedVersions: number[] | null = null): Promise<void> {
  const products = deps.productRepository;
  if (!isUuid(id)) throw productNotFound();
  if (await products.archive(id, expectedVersions)) return;
  // No row: either the product is gone or the version moved on; tell which.
  const current = await products.findById(id);
  if (!current) throw productNotFound();
  throw new PreconditionFailed(`The product is at version ${current.version}, not ${expectedVersions?.length ? expectedVersions.join(' or ') : 'one If-Match can match (a weak tag never does)'}`);
}
