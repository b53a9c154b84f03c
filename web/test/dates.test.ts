import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDate, formatDateTime } from '../src/dates.js';

describe('formatDate / formatDateTime: dates no reader takes for another day', () => {
  it('when a date is shown, then the month is a word, the day before it, the time on a 24-hour clock', () => {
    assert.equal(formatDateTime('2026-12-07T14:05:09.123Z', 'UTC'), '7 Dec 2026, 14:05');
    assert.equal(formatDate('2026-12-07T14:05:09.123Z', 'UTC'), '7 Dec 2026');
    assert.equal(formatDateTime('2026-01-02T00:03:00Z', 'UTC'), '2 Jan 2026, 00:03');
    assert.equal(formatDateTime('2026-09-30T23:59:00Z', 'UTC'), '30 Sep 2026, 23:59');
  });

  it('when the reader is in another time zone, then the day and time are theirs', () => {
    assert.equal(formatDateTime('2026-12-07T23:30:00Z', 'Asia/Tokyo'), '8 Dec 2026, 08:30');
    assert.equal(formatDate('2026-12-07T23:30:00Z', 'Asia/Tokyo'), '8 Dec 2026');
  });
});
