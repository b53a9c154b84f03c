import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Product } from '../src/api/client.js';
import { EDITABLE, freshDraft, listOf, rebase, typedKeys, type Draft } from '../src/pages/admin/edit-draft.js';
import { fieldsOf } from '../src/pages/admin/product-fields.js';

const product = (over: Partial<Product>): Product => ({
  id: '0192f3a4-5b6c-7d8e-9f01-23456789abcd',
  sku: 'MUG-1',
  name: 'Mug',
  description: null,
  priceCents: 1250,
  currency: 'USD',
  stock: 3,
  category: null,
  imageUrl: null,
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

/** A product's editable values, drawn from few values so that the two sides often change a field alike. */
const values = fc.record({
  sku: fc.constantFrom('MUG-1', 'MUG-2'),
  name: fc.constantFrom('Mug', 'Cup', 'Big mug'),
  description: fc.constantFrom(null, '', 'Blue'),
  priceCents: fc.constantFrom(1250, 1300, 99),
  currency: fc.constantFrom('USD', 'EUR'),
  category: fc.constantFrom(null, 'Kitchen'),
});
/** What the admin typed over a draft: some of the editable fields, each one of a few texts. */
const typing = fc.dictionary(fc.constantFrom(...EDITABLE), fc.constantFrom('', 'Cup', '13.00', 'EUR', 'Kitchen'));

describe("an admin's edit moved onto a newer version read meanwhile (rebase)", () => {
  it('when someone else saved a newer version, then nothing typed is lost, every field not typed shows theirs, and the draft is over their version', () => {
    fc.assert(
      fc.property(values, typing, values, fc.integer({ min: 1, max: 5 }), (before, typed, after, newer) => {
        const read = product({ ...before, version: 3 });
        const d: Draft = { ...freshDraft(read), fields: { ...fieldsOf(read), ...typed } };
        const latest = product({ ...after, version: 3 + newer });
        const { draft, theirs, clashes } = rebase(d, latest);
        assert.equal(draft.version, latest.version);
        assert.deepEqual(draft.base, fieldsOf(latest));
        const wasTyped = new Set(typedKeys(d));
        for (const k of EDITABLE) assert.equal(draft.fields[k], wasTyped.has(k) ? d.fields[k] : draft.base[k], k);
        // Said: each field they changed, as shown (not typed) or as a clash (typed, and theirs differs).
        const changed = EDITABLE.filter((k) => draft.base[k] !== d.base[k]);
        assert.deepEqual(theirs, changed.filter((k) => !wasTyped.has(k)));
        assert.deepEqual(clashes, changed.filter((k) => wasTyped.has(k) && d.fields[k] !== draft.base[k]));
        // Still unsaved afterwards: what was typed, less what they saved alike.
        assert.deepEqual(typedKeys(draft), [...wasTyped].filter((k) => d.fields[k] !== draft.base[k]).sort((a, b) => EDITABLE.indexOf(a) - EDITABLE.indexOf(b)));
      }),
    );
  });

  it('when the admin typed a Name and someone else saved another Name and a Price, then the Name typed is kept as a clash and their Price is shown', () => {
    const d: Draft = { ...freshDraft(product({})), fields: { ...fieldsOf(product({})), name: 'Big mug' } };
    const r = rebase(d, product({ name: 'Cup', priceCents: 1300, version: 2 }));
    assert.equal(r.draft.fields.name, 'Big mug');
    assert.equal(r.draft.fields.price, '13.00');
    assert.deepEqual(r.theirs, ['price']);
    assert.deepEqual(r.clashes, ['name']);
  });

  it('when the newer version differs in stock only (an order, a stock change), then nothing is said and the typing stays', () => {
    const d: Draft = { ...freshDraft(product({})), fields: { ...fieldsOf(product({})), description: 'Blue' } };
    const r = rebase(d, product({ stock: 1, version: 2 }));
    assert.deepEqual([r.theirs, r.clashes, r.draft.fields.description, r.draft.version], [[], [], 'Blue', 2]);
  });
});

describe('the list of field names in a sentence (listOf)', () => {
  it('when there are none, one, two or more, then they read as a sentence writes them', () => {
    assert.equal(listOf([]), '');
    assert.equal(listOf(['Price']), 'Price');
    assert.equal(listOf(['Price', 'Category']), 'Price and Category');
    assert.equal(listOf(['SKU', 'Price', 'Category']), 'SKU, Price and Category');
  });
});
