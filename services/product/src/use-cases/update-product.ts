import { isUuid } from '@ecommerce/kit';
import type { ProductRepository, ProductRow } from '../data/product-repository.js';
import { productNotFound, toProduct, type Product, type ProductPatch } from '../model/product.js';
import { conditionFailed, meetsCondition, type VersionCondition } from '../model/version-condition.js';

/**
 * Applies the patch; under a condition (If-Match, If-None-Match), only at a version it allows (412 otherwise). A patch
 * whose If-Match the product has moved on from, while it holds every field as the patch sets it, was applied already
 * (appliedAlready): answered 200 with the product as it is, not 412.
 */
export async function updateProduct(deps: { productRepository: ProductRepository }, id: string, patch: ProductPatch, condition: VersionCondition): Promise<Product> {
  const products = deps.productRepository;
  if (!isUuid(id)) throw productNotFound();
  const updated = await products.update(id, patch, condition);
  if (updated) return toProduct(updated);
  // No row: either the product is gone or the version moved on; tell which.
  const current = await products.findById(id);
  if (!current) throw productNotFound();
  if (appliedAlready(condition, patch, current)) return toProduct(current);
  throw conditionFailed(condition, current.version);
}

/**
 * RFC 9110 13.1.1: a state-changing request whose If-Match fails but whose change appears applied already may be
 * answered 2xx. A PATCH whose COMMIT reached the database with its answer lost (a connection cut, a 504) answered 503,
 * and its retry with the same If-Match a 412 for the admin's own change: the editor said "changed by someone else, not
 * saved". So: If-Match names a version the product has since left, any If-None-Match still holds, the patch sets at
 * least one field, and the product holds each as the patch sets it. Another admin's change of other fields since is
 * kept in the answer, as after any applied patch.
 */
function appliedAlready(condition: VersionCondition, patch: ProductPatch, row: ProductRow): boolean {
  const { ifMatch, ifNoneMatch } = condition;
  if (ifMatch === null || !ifMatch.some((v) => v < row.version)) return false;
  if (!meetsCondition({ ifMatch: null, ifNoneMatch }, row.version)) return false;
  const product = toProduct(row) as unknown as Record<string, unknown>;
  const fields = Object.entries(patch);
  return fields.length > 0 && fields.every(([k, value]) => Object.hasOwn(product, k) && product[k] === value);
}
