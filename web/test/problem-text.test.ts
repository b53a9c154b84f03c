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

describe("problemText: the services' \"N item(s)\" said for the number", () => {
  it('when a detail counts with "(s)", then one is singular, its "are" too, and others plural', () => {
    const removal = (n: number) => ({ status: 409, detail: `Only ${n} unit(s) are in stock to remove; units reserved by orders are not in stock` });
    assert.equal(problemText(removal(1)), 'Only 1 unit is in stock to remove; units reserved by orders are not in stock');
    assert.equal(problemText(removal(3)), 'Only 3 units are in stock to remove; units reserved by orders are not in stock');
    assert.equal(problemText(removal(0)), 'Only 0 units are in stock to remove; units reserved by orders are not in stock');
    assert.equal(problemText({ detail: '2 field(s) failed validation' }), '2 fields failed validation');
  });

  it('when a field message counts with "(s)", then it is said for its number', () => {
    assert.equal(problemText({ detail: '1 field(s) failed validation', errors: [{ path: '/items', message: 'must have at least 1 item(s)' }] }), 'Items must have at least 1 item.');
    assert.equal(problemText({ detail: '1 field(s) failed validation', errors: [{ path: '/items', message: 'must have at most 50 item(s)' }] }), 'Items must have at most 50 items.');
  });

  it('when "(s)" follows no number, then the text is left as the service wrote it', () => {
    assert.equal(problemText({ detail: 'Unknown or archived product(s); nothing was reserved' }), 'Unknown or archived product(s); nothing was reserved');
  });
});
