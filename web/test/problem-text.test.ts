import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { problemText } from '../src/api/client.js';

describe('problemText: what a person reads of a refused request', () => {
  it('when the detail already says the field message in words, then it is said once', () => {
    const p = { detail: 'The password is one of the most common passwords; choose another', errors: [{ path: '/password', message: 'is one of the most common passwords; choose another' }] };
    assert.equal(problemText(p), 'The password is one of the most common passwords; choose another');
  });

  it("when the detail is the service's summary, then the fields are said in words instead", () => {
    assert.equal(problemText({ detail: '1 field(s) failed validation', errors: [{ path: '/name', message: 'must not be blank' }] }), 'Name must not be blank.');
    assert.equal(problemText({ detail: '1 field(s) failed validation', errors: [{ path: 'querystring/userId', message: 'must be an id (a UUID)' }] }), 'User ID must be an id (a UUID).');
    assert.equal(
      problemText({ detail: '2 field(s) failed validation', errors: [{ path: '/items/0/quantity', message: 'must be at most 1000' }, { path: '/priceCents', message: 'must be 0 or more' }] }),
      'Quantity must be at most 1000; price cents must be 0 or more.',
    );
  });

  it('when there are no field errors, then the detail, else the title, else the fallback', () => {
    assert.equal(problemText({ detail: 'Not enough stock', title: 'Conflict' }), 'Not enough stock');
    assert.equal(problemText({ title: 'Conflict' }), 'Conflict');
    assert.equal(problemText(undefined, 'fallback'), 'fallback');
    assert.equal(problemText({}, 'fallback'), 'fallback');
  });
});
