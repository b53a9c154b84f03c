import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countOf } from '../src/count.js';

describe('countOf: a number and its noun', () => {
  it('when the number is one, then the singular; else the plural', () => {
    assert.equal(countOf(1, 'item'), '1 item');
    assert.equal(countOf(3, 'item'), '3 items');
    assert.equal(countOf(0, 'unit'), '0 units');
    assert.equal(countOf(2, 'box', 'boxes'), '2 boxes');
    assert.equal(countOf(1, 'box', 'boxes'), '1 box');
  });
});
