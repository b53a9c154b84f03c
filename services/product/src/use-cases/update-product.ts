import { PreconditionFailed, isUuid } from '@ecommerce/kit';
import type { ProductRepository } from '../data/product-repository.js';
import { productNotFound, toProduct, type Product, type ProductPatch } from '../model/product.js';

/** Applies the patch; with expected versions, only if the product is still at one of them (412 otherwise). */
export async function updateProduct(deps: { productRepository: ProductRepository }, id: string, patch: ProductPatch, expectedVersions: number[] | null): Promise<Product> {
  const products = deps.productRepository;
  if (!isUuid(id)) throw productNotFound();
  const updated = await products.update(id, patch, expectedVersions);
  if (updated) return toProduct(updated);
  // No row: either the product is gone or the version moved on; tell which.
  const current = await products.findById(id);
  if (!current) throw productNotFound();
  throw new PreconditionFailed(`The product is at version ${current.version}, not ${expectedVersions?.length ? expectedVersions.join(' or ') : 'one If-Match can match (a weak tag never does)'}`);
}
