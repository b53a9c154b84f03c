import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCancellable, isSettled, shownStatus } from '../src/order-status.js';

const STATUSES = ['pending', 'confirmed', 'rejected', 'failed', 'cancelled'] as const;

describe('order status as the pages read it', () => {
  it('the five states read as themselves; only pending is unsettled and only confirmed offers a cancel', () => {
    assert.deepEqual(STATUSES.map((status) => shownStatus({ status })), [...STATUSES]);
    assert.deepEqual(STATUSES.map((status) => isSettled({ status })), [false, true, true, true, true]);
    assert.deepEqual(STATUSES.map((status) => isCancellable({ status })), [false, true, false, false, false]);
  });

  it('a confirmed order whose cancellation is pending reads "cancelling", is polled (unsettled) and offers no second cancel', () => {
    const order = { status: 'confirmed', cancellation: 'pending' } as const;
    assert.deepEqual([shownStatus(order), isSettled(order), isCancellable(order)], ['cancelling', false, false]);
  });
});
