// Money is integer minor units plus an ISO 4217 code (docs/api.md); shown with Intl, parsed without floats.

// Building an Intl.NumberFormat costs far more than using one (locale data lookup), and a catalog page formats a
// price per card on its first render: one formatter per locale and currency, made once.
const digitsCache = new Map<string, number>();
const formatters = new Map<string, Intl.NumberFormat>();

/** Digits after the decimal point for a currency (2 for USD/EUR, 0 for JPY, 3 for KWD), from Intl. */
export function minorDigits(currency: string): number {
  let digits = digitsCache.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    digitsCache.set(currency, digits);
  }
  return digits;
}

function formatterFor(currency: string, locale?: string): Intl.NumberFormat {
  const digits = minorDigits(currency);
  const key = `${locale ?? ''} ${currency}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
    formatters.set(key, format);
  }
  return format;
}

/** 4599 USD -> "$45.99" (in the given locale; the browser's by default). */
export function formatMoney(minor: number, currency: string, locale?: string): string {
  return formatterFor(currency, locale).format(minor / 10 ** minorDigits(currency));
}

/** formatMoney's text in its pieces ("KWD", " ", "1", ",", "000", ...), for a page that lays them out (components.tsx's Money). */
export function moneyParts(minor: number, currency: string, locale?: string): Intl.NumberFormatPart[] {
  return formatterFor(currency, locale).formatToParts(minor / 10 ** minorDigits(currency));
}
