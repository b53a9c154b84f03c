// The optional picture of a product (migration 004): a path on the shop's own origin, set on create,
// changed or cleared by PATCH, refused when it points anywhere else.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { assertErrorAt, http, sql, uniqueCode, type Product } from '@ecommerce/test-support';
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

  it('when imageUrl holds a control character or any character the column check counts as a space (in this database\'s locale), then 400 at /imageUrl, never a 500', async () => {
    // Every code point the CHECK of migration 004 refuses after "/a", asked of this very database: its [:space:]
    // follows the locale (the embedded PostgreSQL's builtin one counts U+0085 NEL, which JavaScript's \s does not:
    // a 500 from the constraint), plus every control character (C0, DEL, C1), which no URL holds raw.
    const refused = await sql<{ c: number }>(
      stack.db.urls.product,
      `SELECT c FROM generate_series(1, 1114111) c WHERE c NOT BETWEEN 55296 AND 57343 AND '/a' || chr(c) !~ '^/[^/[:space:]][^[:space:]]*$'`,
    );
    const controls = [...Array.from({ length: 0x1f }, (_, i) => i + 1), ...Array.from({ length: 0x21 }, (_, i) => i + 0x7f)];
    const codePoints = [...new Set([...refused.map((r) => r.c), ...controls])];
    assert.ok(codePoints.includes(0x20) && codePoints.includes(0x85), `the check and the controls: ${codePoints.length} code points`);
    const p = await createProduct(stack, { imageUrl: '/img/keep.svg' });
    for (const c of codePoints) {
      const ch = String.fromCodePoint(c);
      for (const imageUrl of [`/img/a${ch}b.svg`, `/${ch}/evil.example/x.svg`]) {
        const label = `U+${c.toString(16).padStart(4, '0')} in ${JSON.stringify(imageUrl)}`;
        assertErrorAt(await http(stack.base, 'POST', '/product', { token: stack.tokens.admin, body: { sku: uniqueCode(), name: 'N', priceCents: 1, stock: 1, imageUrl } }), '/imageUrl', label);
        assertErrorAt(await http(stack.base, 'PATCH', `/product/${p.id}`, { token: stack.tokens.admin, body: { imageUrl } }), '/imageUrl', label);
      }
    }
    assert.equal((await getProduct(stack, p.id)).version, p.version);
  });

  it('when imageUrl holds a dot segment (. or .., written or percent-encoded as %2e), then 400 at /imageUrl in words (what an imageUrl must be, no regular expression) and nothing changes', async () => {
    const p = await createProduct(stack, { imageUrl: '/img/keep.svg' });
    const bad = ['/images/../../etc/passwd', '/images/./x.png', '/images/%2e%2e/%2E%2E/etc/passwd', '/..', '/.', '/images/..', '/a/.%2e/b', '/a/%2e./b', '/a/%2E/b', '/a/..?x=1', '/a/.#top', '/a/..%2f..%2fetc/passwd', '/a%2F..%2Fb', '/a%5c..%5cb'];
    for (const imageUrl of bad) {
      for (const res of [
        await http(stack.base, 'POST', '/product', { token: stack.tokens.admin, body: { sku: uniqueCode(), name: 'N', priceCents: 1, stock: 1, imageUrl } }),
        await http(stack.base, 'PATCH', `/product/${p.id}`, { token: stack.tokens.admin, body: { imageUrl } }),
      ]) {
        assertImageUrlRefused(res, imageUrl);
      }
    }
    // Every other refusal of the shape says the same words, not Ajv's "must match pattern".
    assertImageUrlRefused(await http(stack.base, 'PATCH', `/product/${p.id}`, { token: stack.tokens.admin, body: { imageUrl: '//evil.example/x.png' } }), '//evil.example/x.png');
    const after = await getProduct(stack, p.id);
    assert.equal(after.imageUrl, '/img/keep.svg');
    assert.equal(after.version, p.version);
  });

  it('property: a path of segments is kept exactly unless one of them is a dot segment (., .., in any mix of . and %2e/%2E), then 400 in words', async () => {
    const dot = fc.constantFrom('.', '..', '%2e', '%2E', '%2e%2e', '%2E%2e', '.%2e', '%2E.');
    // Names with dots and escapes that are not dot segments: ..., .hidden, x.png, %2e%2e%2e, %2ex, a%20b.
    const name = fc.string({ unit: fc.constantFrom('.', '%2e', '%2E', 'a', 'x', '-', '_', '%20', '.png'), minLength: 1, maxLength: 5 }).filter((s) => !isDotSegment(s));
    const segments = fc.array(fc.oneof({ weight: 3, arbitrary: name }, { weight: 1, arbitrary: dot }), { minLength: 1, maxLength: 5 });
    await fc.assert(
      fc.asyncProperty(segments, fc.constantFrom('', '?v=2', '?next=/../x', '#top'), async (parts, tail) => {
        const imageUrl = `/${parts.join('/')}${tail}`;
        const res = await http<Product>(stack.base, 'POST', '/product', { token: stack.tokens.admin, body: { sku: uniqueCode(), name: 'N', priceCents: 1, stock: 1, imageUrl } });
        if (parts.some(isDotSegment)) assertImageUrlRefused(res, imageUrl);
        else {
          assert.equal(res.status, 201, `${imageUrl}: ${res.text}`);
          assert.equal(res.body.imageUrl, imageUrl);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('property: any text after "/" as imageUrl is a 201 that keeps it exactly or a 400 at /imageUrl, never a 5xx', async () => {
    // Mostly the characters near the rules (controls, spaces of any locale, slashes), some of all of Unicode.
    const near = fc.constantFrom('\u0085', '\u00a0', '\u2028', '\u3000', '\ufeff', '\u0001', '\u007f', '\u009f', '\t', ' ', '/', '\\', 'a', '.', '%');
    const text = fc.string({ unit: fc.oneof({ weight: 3, arbitrary: near }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) }), minLength: 1, maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(text, async (rest) => {
        const imageUrl = `/${rest}`;
        const res = await http<Product>(stack.base, 'POST', '/product', { token: stack.tokens.admin, body: { sku: uniqueCode(), name: 'N', priceCents: 1, stock: 1, imageUrl } });
        if (res.status === 201) assert.equal(res.body.imageUrl, imageUrl);
        else assertErrorAt(res, '/imageUrl', JSON.stringify(imageUrl));
      }),
      { numRuns: 150 },
    );
  });
});

/** `.` or `..`, each dot written or percent-encoded (RFC 3986 5.2.4; a browser's URL parser decodes %2e there too). */
function isDotSegment(segment: string): boolean {
  return /^(?:\.|%2e){1,2}$/i.test(segment);
}

/** A 400 at /imageUrl whose message says what an imageUrl must be, in words (no regular expression). */
function assertImageUrlRefused(res: Parameters<typeof assertErrorAt>[0], imageUrl: string): void {
  assertErrorAt(res, '/imageUrl', JSON.stringify(imageUrl));
  const { errors } = res.body as { errors: { path: string; message: string }[] };
  const message = errors.find((e) => e.path === '/imageUrl')?.message ?? '';
  assert.match(message, /^must be a path on this site/, `${JSON.stringify(imageUrl)}: ${message}`);
  assert.match(message, /\. or \.\. segments/, `${JSON.stringify(imageUrl)}: ${message}`);
  assert.doesNotMatch(message, /pattern|\^|\[|\\x/, `${JSON.stringify(imageUrl)}: ${message}`);
}
