import { BadRequest } from '@ecommerce/kit';
import type { Product } from '../model/product.js';

/** `If-Match: "<version>"` (or `*`, any version); anything else is a 400 rather than a silent unconditional write. */
export function expectedVersion(header: string | undefined): number | null {
  if (header === undefined || header.trim() === '*') return null;
  const m = /^\s*(?:"(\d{1,9})"|(\d{1,9}))\s*$/.exec(header);
  if (!m) throw new BadRequest('If-Match must be the quoted product version, e.g. "3"', [{ path: 'headers/if-match', message: 'must be "<version>"' }]);
  return Number(m[1] ?? m[2]);
}

export function etag(p: Product): string {
  return `"${p.version}"`;
}
