// The running stack of this service's test files: a database, the real user service (tokens, JWKS) and
// the product service, with the tokens the tests act as, and the shared product helpers bound to it.
import {
  ORDER_CLIENT,
  adminToken,
  createCustomer,
  createProduct as createProductAt,
  getProduct as getProductAt,
  serviceToken,
  type Product,
  type ProductInput,
  type ProblemJson,
  type Running,
  type TestDatabase,
} from '@ecommerce/test-support';
import { startUserStack } from '@ecommerce/user-service/testing';
import { startProductService } from './harness.js';

export interface Reservation {
  orderId: string;
  status: 'reserved' | 'released' | 'refused';
  items: { productId: string; quantity: number; unitPriceCents: number; currency: string }[];
  refusal?: Record<string, unknown>;
}
export type Problem = ProblemJson & {
  items?: { productId: string; requested: number; available: number }[];
  productIds?: string[];
  reason?: string;
  orderId?: string;
};

export interface Stack {
  db: TestDatabase;
  users: Running;
  product: Running;
  base: string;
  tokens: { admin: string; customer: string; service: string; readOnlyService: string };
  close(): Promise<void>;
}

/**
 * A fresh database (made with `database`'s options), the real user service (tokens, JWKS) and the product service, all
 * in-process. A step that fails (a login answered 503 on a loaded machine) stops what was started: the file's `after`
 * has no stack to close then, and the servers left open held its process until the runner's 20 min timeout.
 */
export async function startStack(database: { lcCtype?: string } = {}): Promise<Stack> {
  const { db, user: users } = await startUserStack({}, database);
  let product: Running | undefined;
  const close = async () => {
    await product?.close();
    await users.close();
    await db.drop();
  };
  try {
    product = await startProductService(db.urls.product, users.base);
    const tokens = {
      admin: await adminToken(users.base),
      customer: (await createCustomer(users.base, 'shopper')).token,
      service: await serviceToken(users.base),
      readOnlyService: await serviceToken(users.base, ORDER_CLIENT, 'reservations:read'),
    };
    return { db, users, product, base: product.base, tokens, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export const createProduct = (stack: Stack, input: ProductInput = {}): Promise<Product> => createProductAt(stack.base, stack.tokens.admin, input);

export const getProduct = (stack: Stack, id: string): Promise<Product> => getProductAt(stack.base, id);
