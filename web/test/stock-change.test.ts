import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_STOCK, stockChangeProblem } from '../src/stock-change.js';

const grouped = (n: number) => n.toLocaleString('en');

describe("the admin's Stock change, refused before it is sent", () => {
  it('when the change is past the bound either way, then the sentence says what was asked with its digits grouped and what can be done, never the API field `delta`', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_STOCK + 1, max: Number.MAX_SAFE_INTEGER }), fc.boolean(), fc.integer({ min: 0, max: MAX_STOCK }), (size, add, stock) => {
        const text = stockChangeProblem(String(add ? size : -size), stock);
        assert.ok(text);
        assert.doesNotMatch(text, /delta/i);
        assert.doesNotMatch(text, /\d{4}/, 'every number grouped by thousands');
        assert.ok(text.startsWith(`Could not ${add ? 'add' : 'remove'} ${grouped(size)} units: `), text);
        if (add) assert.ok(text.endsWith(`is ${grouped(stock)} now. You can add up to ${grouped(MAX_STOCK - stock)}.`), text);
        else assert.ok(text.endsWith(stock === 0 ? 'Nothing can be removed until stock is added.' : `You can remove up to ${grouped(stock)}.`), text);
      }),
    );
  });

  it('when the change is a whole number within the bound other than 0, then it is sent; anything else is asked again as a whole number', () => {
    fc.assert(
      fc.property(fc.integer({ min: -MAX_STOCK, max: MAX_STOCK }).filter((d) => d !== 0), fc.integer({ min: 0, max: MAX_STOCK }), (delta, stock) => {
        assert.equal(stockChangeProblem(String(delta), stock), undefined);
      }),
    );
    for (const text of ['', ' ', '0', '-0', '1.5', 'abc', '1e400']) assert.match(stockChangeProblem(text, 3) ?? '', /^Stock change must be a whole number other than 0/, JSON.stringify(text));
  });
});
