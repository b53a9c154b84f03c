import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_STOCK, stockChangeProblem, stockRefusal } from '../src/stock-change.js';

const grouped = (n: number) => n.toLocaleString('en');

describe("the admin's Stock change, refused before it is sent", () => {
  it('when the change is past the bound either way, then the sentence says what was asked with its digits grouped, the stock as it is, and what can be done, never the API field `delta`', () => {
    // The stock itself may stand above the bound (on a product that got there before the service counted held units):
    // up to 4 * 10^9 here.
    fc.assert(
      fc.property(fc.integer({ min: MAX_STOCK + 1, max: Number.MAX_SAFE_INTEGER }), fc.boolean(), fc.integer({ min: 0, max: 4 * MAX_STOCK }), (size, add, stock) => {
        const text = stockChangeProblem(String(add ? size : -size), stock);
        assert.ok(text);
        assert.doesNotMatch(text, /delta/i);
        assert.doesNotMatch(text, /\d{4}/, 'every number grouped by thousands');
        assert.ok(text.startsWith(`Could not ${add ? 'add' : 'remove'} ${grouped(size)} units: `), text);
        if (add) {
          const after = stock < MAX_STOCK ? `You can add up to ${grouped(MAX_STOCK - stock)}.` : 'Nothing can be added until stock is below that.';
          assert.ok(text.endsWith(`is ${grouped(stock)} now. ${after}`), text);
        } else if (stock >= size) assert.equal(text, `Could not remove ${grouped(size)} units: one change removes at most ${grouped(MAX_STOCK)} units. You can remove up to ${grouped(MAX_STOCK)}.`);
        else if (stock === 0) assert.ok(text.endsWith('Nothing can be removed until stock is added.'), text);
        else assert.ok(text.includes(`only ${grouped(stock)} unit`) && text.endsWith(`You can remove up to ${grouped(Math.min(stock, MAX_STOCK))}.`), text);
      }),
      { examples: [[MAX_STOCK + 1, true, 3 * MAX_STOCK], [2 * MAX_STOCK, false, 3 * MAX_STOCK], [2 * MAX_STOCK, false, 1_500_000_000], [MAX_STOCK + 1, true, MAX_STOCK]] },
    );
  });

  it('when the service refuses a restock at a stock over the bound (409 stock-limit-exceeded with available), then the sentence says nothing can be added, never a negative number', () => {
    for (const available of [MAX_STOCK, MAX_STOCK + 1, 3 * MAX_STOCK]) {
      assert.equal(stockRefusal(1, available), `Could not add 1 unit: stock may be at most 1,000,000,000 units and is ${grouped(available)} now. Nothing can be added until stock is below that.`);
    }
    assert.equal(stockRefusal(5, MAX_STOCK - 3), 'Could not add 5 units: stock may be at most 1,000,000,000 units and is 999,999,997 now. You can add up to 3.');
  });

  it('when the service refuses a restock for the units held by orders (409 stock-limit-exceeded with available and held), then the sentence counts them and says what can still be added', () => {
    assert.equal(
      stockRefusal(1_000, 400, MAX_STOCK - 700),
      'Could not add 1,000 units: stock plus the units held by orders may be at most 1,000,000,000 units; stock is 400 and orders hold 999,999,300 now. You can add up to 300.',
    );
    assert.equal(
      stockRefusal(1, 0, MAX_STOCK),
      'Could not add 1 unit: stock plus the units held by orders may be at most 1,000,000,000 units; stock is 0 and orders hold 1,000,000,000 now. Nothing can be added now.',
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
