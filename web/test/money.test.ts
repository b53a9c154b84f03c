import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatMoney, minorDigits } from '../src/money.js';
import { parseMajor, toMajorText } from '../src/money-input.js';

describe('money formatting (Intl)', () => {
  it('when formatting minor units, then each currency gets its own digits and symbol', () => {
    assert.equal(formatMoney(4599, 'USD', 'en-US'), '$45.99');
    assert.equal(formatMoney(0, 'USD', 'en-US'), '$0.00');
    assert.equal(formatMoney(500, 'JPY', 'en-US'), '¥500');
    assert.equal(formatMoney(1234, 'KWD', 'en-US').replace(/\s/g, ' '), 'KWD 1.234');
    // Locale decides separators and placement, not the amount.
    assert.equal(formatMoney(123456, 'EUR', 'de-DE'), '1.234,56\u00a0€');
    // Formatters are kept per locale and currency: the same currency in another locale is not served the first one's.
    assert.equal(formatMoney(123456, 'EUR', 'en-US'), '€1,234.56');
    assert.equal(formatMoney(123456, 'EUR', 'de-DE'), '1.234,56\u00a0€');
    assert.deepEqual([minorDigits('USD'), minorDigits('JPY'), minorDigits('KWD')], [2, 0, 3]);
  });

  it('when an admin types a price in major units, then it becomes exact minor units; anything else is refused', () => {
    assert.equal(parseMajor('45.99', 'USD'), 4599);
    assert.equal(parseMajor('45,9', 'EUR'), 4590);
    assert.equal(parseMajor(' 12 ', 'USD'), 1200);
    assert.equal(parseMajor('0.1', 'USD'), 10);
    assert.equal(parseMajor('500', 'JPY'), 500);
    for (const bad of ['', '-1', '1.234', '1e3', 'abc', '1.2.3', '0x10', '500.5']) assert.equal(parseMajor(bad, bad === '500.5' ? 'JPY' : 'USD'), null, bad);
    // "1,500": a thousand and a half in English, one and a half in German; for KWD's three decimals both are amounts.
    for (const currency of ['KWD', 'USD', 'JPY']) assert.equal(parseMajor('1,500', currency), null, currency);
    assert.equal(parseMajor('1.500', 'KWD'), 1500);
    assert.equal(parseMajor('1500', 'KWD'), 1_500_000);
    assert.equal(parseMajor('1,5', 'KWD'), 1500);
    assert.equal(parseMajor('1,25', 'EUR'), 125);
  });

  it('when any amount goes to text and back, then it is the same number of minor units (no float drift)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000_000 }), fc.constantFrom('USD', 'EUR', 'JPY', 'KWD', 'GBP'), (minor, currency) => {
        assert.equal(parseMajor(toMajorText(minor, currency), currency), minor);
      }),
    );
  });
});
