/**
 * Dates as the shop and the admin show them: the month as a word, day before it, 24-hour time ("7 Dec 2026, 14:05"),
 * in the reader's time zone. `toLocaleString()` wrote "12/7/2026, 2:05:00 PM" in an en-US browser, which a reader
 * outside the US takes for 12 July. Built from parts, so it reads the same whatever the browser's language.
 */
const DATE_TIME: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };

/** `at`: an ISO 8601 text (as the services answer) or milliseconds since the epoch (as this browser keeps one). */
function parts(at: string | number, timeZone?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of new Intl.DateTimeFormat('en', { ...DATE_TIME, timeZone }).formatToParts(new Date(at))) out[p.type] = p.value;
  return out;
}

/** "7 Dec 2026": a day (a user's joining). `timeZone` is the reader's unless given. */
export function formatDate(at: string | number, timeZone?: string): string {
  const p = parts(at, timeZone);
  return `${p.day} ${p.month} ${p.year}`;
}

/** "7 Dec 2026, 14:05": a moment (an order placed or changed). */
export function formatDateTime(at: string | number, timeZone?: string): string {
  const p = parts(at, timeZone);
  return `${p.day} ${p.month} ${p.year}, ${p.hour}:${p.minute}`;
}
