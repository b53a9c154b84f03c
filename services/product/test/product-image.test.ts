// The optional picture of a product (migration 004): a path on the shop's own origin, set on create,
// changed or cleared by PATCH, refused when it points anywhere else.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertErrorAt, http, uniqueCode, type Product } from '@ecommerce/test-support';
import { createProduct, getProduct, startStack, type Stack } from './stack.js';

let stack: Stack;

before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.close();
});

describe('product imageUrl', () => {
  it('when a product is created without one, then imageUrl is null; with a path, then it is kept and returned by GET', async () => {
    const plain = await createProduct(stack);
    assert.equal(plain.imageUrl, null);
    const pictured = await createProduct(stack, { imageUrl: '/images/products/app-tee.svg' });
    assert.equal(pictured.imageUrl, '/images/products/app-tee.svg');
    assert.equal((await getProduct(stack, pictured.id)).imageUrl, '/images/products/app-tee.svg');
  });

  it('when PATCH sets, changes or clears it, then the product follows and the version moves', async () => {
    const p = await createProduct(stack);
    const set = await http<Product>(stack.base, 'PATCH', `/product/${p.id}`, { token: stack.tokens.admin, body: { imageUrl: '/img/a.svg' } });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.body.imageUrl, '/img/a.svg');
    assert.equal(set.body.version, p.version + 1);
    const cleared = await http<Product>(stack.base, 'PATCH', `/product/${p.id}`, { token: stack.tokens.admin, body: { imageUrl: null } });
    assert.equal(cleared.body.imageUrl, null);
    // A patch of another field keeps the picture.
    await http(stack.base, 'PATCH', `/product/${p.id}`, { token: stack.tokens.admin, body: { imageUrl: '/img/b.svg' } });
    const renamed = await http<Product>(stack.base, 'PATCH', `/product/${p.id}`, { token: stack.tokens.admin, body: { name: 'Renamed' } });
    assert.equal(renamed.body.imageUrl, '/img/b.svg');
  });

  it('when imageUrl is another host, a protocol-relative URL (also as /\\host), has spaces, is too long or not a string, then 400 at /imageUrl and nothing changes', async () => {
    const p = await createProduct(stack, { imageUrl: '/img/keep.svg' });
    const bad: unknown[] = ['https://evil.example/x.png', '//evil.example/x.png', 'javascript:alert(1)', 'img/relative.svg', '/has space.svg', `/${'a'.repeat(2048)}`, 42, '/', '/\\evil.example/x.svg', '/img\\..\\x.svg'];
    for (const imageUrl of bad) {
      assertErrorAt(await http(stack.base, 'POST', '/product', { token: stack.tokens.admin, body: { sku: uniqueCode(), name: 'N', priceCents: 1, stock: 1, imageUrl } }), '/imageUrl', String(imageUrl));
      assertErrorAt(await http(stack.base, 'PATCH', `/product/${p.id}`, { token: stack.tokens.admin, body: { imageUrl } }), '/imageUrl', String(imageUrl));
    }
    const after = await getProduct(stack, p.id);
    assert.equal(after.imageUrl, '/img/keep.svg');
    assert.equal(after.version, p.version);
  });
});
