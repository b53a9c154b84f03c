// The product service's public answer for one product, as every client (the order service's tests, the
// test support, a storefront) reads it. The product service's response schema is the source of truth.

/** A product as the API answers it (docs/api.md, "Product"). */
export interface Product {
  id: string;
  sku: string;
  name: string;
  description: string | null;
  priceCents: number;
  currency: string;
  stock: number;
  category: string | null;
  /** Picture on this site (a path like /images/products/x.svg), null when none. */
  imageUrl: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}
