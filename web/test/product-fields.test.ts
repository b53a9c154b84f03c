import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ApiError } from '../src/api/client.js';
import { toMajorText } from '../src/money-input.js';
import { EMPTY, FieldError, categoryInOtherCase, fieldErrorsOf, parseFields, saidAtFields, type ProductFields } from '../src/pages/admin/product-fields.js';

const MAX_PRICE_MINOR = 1_000_000_000;
const fields = (over: Partial<ProductFields>): ProductFields => ({ ...EMPTY, sku: 'MUG-1', name: 'Mug', price: '12.50', ...over });

/** The FieldError parseFields throws for `f`, as [field, message]. */
function refusal(f: ProductFields): [string, string] {
  try {
    parseFields(f);
  } catch (err) {
    assert.ok(err instanceof FieldError, String(err));
    return [err.field, err.message];
  }
  assert.fail(`no refusal for ${JSON.stringify(f)}`);
}

describe("the admin product form's fields read as the API's values (parseFields)", () => {
  it('when a price is written in its currency\'s digits up to the bound, then it is read as that many minor units, and the texts are trimmed (blank optional ones as null)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_PRICE_MINOR }), fc.constantFrom('USD', 'usd', ' EUR ', 'JPY', 'KWD'), (minor, typed) => {
        const currency = typed.trim().toUpperCase();
        const body = parseFields(fields({ price: toMajorText(minor, currency), currency: typed, sku: ' MUG-1 ', name: ' Mug ', description: '  ', category: '' }));
        assert.deepEqual(body, { sku: 'MUG-1', name: 'Mug', description: null, priceCents: minor, currency, category: null });
      }),
    );
  });

  it('when the currency is not three letters, then the Currency field is refused', () => {
    for (const currency of ['', 'US', 'USDX', 'U$D', '12A']) assert.deepEqual(refusal(fields({ currency })), ['currency', 'Currency must be a three-letter ISO 4217 code such as USD.'], currency);
  });

  it('when a price has more decimals than its currency, is no amount, or could be read two ways, then the Price field says so with an example in that currency', () => {
    assert.deepEqual(refusal(fields({ price: '12.505' })), ['price', 'USD has 2 decimal places: enter an amount such as 12.50.']);
    assert.deepEqual(refusal(fields({ price: '1500.5', currency: 'JPY' })), ['price', 'JPY has no minor unit: the price is in whole Japanese yen, such as 1500, without decimals.']);
    assert.deepEqual(refusal(fields({ price: '1,500' })), ['price', '"1,500" could be 1500 or 1.500: write thousands without a separator, and decimals after a point, such as 12.50.']);
    assert.deepEqual(refusal(fields({ price: '1,500', currency: 'JPY' })), ['price', '"1,500" could be 1500 or 1.500: write thousands without a separator, such as 1500.']);
    for (const price of ['', 'abc', '-1', '$12']) assert.deepEqual(refusal(fields({ price })), ['price', 'Price must be an amount such as 12.50.'], price);
  });

  it("when a price is over the product service's bound, then the bound is said in the currency's units, not in cents", () => {
    assert.deepEqual(refusal(fields({ price: '10000000.01' })), ['price', 'Price must be at most $10,000,000.00.']);
    assert.deepEqual(refusal(fields({ price: '1000000001', currency: 'JPY' })), ['price', 'Price must be at most ¥1,000,000,000.']);
  });
});

describe('the fields a failed save is about (fieldErrorsOf, saidAtFields)', () => {
  it("when the form's own check refused a field, then that field has its message", () => {
    const err = new FieldError('stock', 'Stock must be a whole number, 0 or more.');
    assert.deepEqual(fieldErrorsOf(err), { stock: 'Stock must be a whole number, 0 or more.' });
    assert.equal(saidAtFields(err), true);
  });

  it("when the service refused fields, then each is said under the form's field with its label, bounds grouped as the admin writes figures; a taken SKU at SKU", () => {
    const err = new ApiError(400, {
      errors: [
        { path: '/priceCents', message: 'must be at most 1000000000' },
        { path: '/sku', message: 'must not contain spaces, control characters or invisible characters' },
        { path: '/sku', message: 'a second message for the same field' },
      ],
    } as never);
    assert.deepEqual(fieldErrorsOf(err), { price: 'Price must be at most 1,000,000,000.', sku: 'SKU must not contain spaces, control characters or invisible characters.' });
    assert.deepEqual(fieldErrorsOf(new ApiError(409, { type: 'https://example.test/problems/sku-taken', title: 'Conflict' } as never)), { sku: 'Another product has this SKU.' });
  });

  it('when a failure is about no field (no answer, a 5xx, a 412, nothing failed), then no field is marked and it is said below the form', () => {
    for (const err of [new Error('Failed to fetch'), new ApiError(503, undefined), new ApiError(412, { title: 'Precondition Failed' } as never), new ApiError(400, { errors: [{ path: '/unknown', message: 'x' }] } as never)]) {
      assert.deepEqual(fieldErrorsOf(err), {}, err.message);
      assert.equal(saidAtFields(err), false, err.message);
    }
    assert.deepEqual(fieldErrorsOf(null), {});
  });
});

describe('categoryInOtherCase: a category typed that the shop has in another case', () => {
  it('when an admin types "Home" and the shop has "home", then it is "home"; a listed one (also in full-width letters, or with spaces around), a blank or a new one is none', () => {
    assert.equal(categoryInOtherCase('Home', ['books', 'home']), 'home');
    assert.equal(categoryInOtherCase(' HOME ', ['home']), 'home');
    assert.equal(categoryInOtherCase('home', ['Home', 'home']), undefined);
    assert.equal(categoryInOtherCase('ｈｏｍｅ', ['home']), undefined);
    assert.equal(categoryInOtherCase('  ', ['home']), undefined);
    assert.equal(categoryInOtherCase('garden', ['home']), undefined);
  });

  it('any category typed: what it gives is listed, reads as the typed one case aside, and is never the typed one as the service compares them (property)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'A', 'é', 'É', 'e\u0301', 'ß', ' ', 'ｈ', 'h', 'H'), maxLength: 5 });
    fc.assert(
      fc.property(text, fc.array(text, { maxLength: 8 }), (typed, listed) => {
        const found = categoryInOtherCase(typed, listed);
        if (found === undefined) return;
        assert.ok(listed.includes(found));
        assert.equal(found.normalize('NFKC').toLowerCase(), typed.trim().normalize('NFKC').toLowerCase());
        assert.notEqual(found.normalize('NFKC'), typed.trim().normalize('NFKC'));
        assert.ok(!listed.some((c) => c.normalize('NFKC') === typed.trim().normalize('NFKC')), 'a listed one is joined, not called another');
      }),
      { numRuns: 2000 },
    );
  });
});
