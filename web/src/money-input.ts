// Amounts as the admin's product form reads and writes them, in major units ("45.99"): apart from money.ts, which the
// shop's first visit loads to show prices.
import { minorDigits } from './money.js';

/**
 * A comma before exactly three digits ("1,500"): a thousands separator in English, a decimal comma in German. For
 * KWD (three decimals) both readings are amounts, one a thousand times the other: never guessed.
 */
export function ambiguousComma(text: string): boolean {
  return /^\d+,\d{3}$/.test(text.trim());
}

/**
 * "45.99" USD -> 4599; null when the text is not a plain non-negative amount with at most the currency's digits, or
 * when its comma could separate thousands (ambiguousComma).
 */
export function parseMajor(text: string, currency: string): number | null {
  const digits = minorDigits(currency);
  const m = /^(\d{1,12})(?:[.,](\d*))?$/.exec(text.trim());
  if (!m || ambiguousComma(text)) return null;
  const fraction = m[2] ?? '';
  if (fraction.length > digits) return null;
  return Number(m[1]) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
}

/** 4599 USD -> "45.99": the value an edit form starts with. */
export function toMajorText(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  if (digits === 0) return String(minor);
  const s = String(minor).padStart(digits + 1, '0');
  return `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}
