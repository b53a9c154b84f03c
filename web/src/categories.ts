// The catalog's categories as one query, shared by the shop's Category filter and the admin's Category field.
import { queryOptions } from '@tanstack/react-query';
import { ok, productApi } from './api/client.js';

/** The first 100 categories in order (GET /product/categories), read again after a minute. */
export const categoriesQuery = queryOptions({
  queryKey: ['categories'],
  queryFn: async () => ok(await productApi.GET('/product/categories', { params: { query: { limit: 100 } } })),
  select: (page) => page.items,
  staleTime: 60_000,
});
