// Prometheus duration strings ("1h30m", "5m", "250ms"), as used in `for`,
// range selectors and config intervals.

const UNIT_MS: Record<string, number> = {
  y: 365 * 24 * 3600_000,
  w: 7 * 24 * 3600_000,
  d: 24 * 3600_000,
  h: 3600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};

const PART = /(\d+)(ms|y|w|d|h|m|s)/g;
const WHOLE = /^(?:\d+(?:ms|y|w|d|h|m|s))+$/;

export function parseDuration(text: string): number {
  if (!WHOLE.test(text)) throw new Error(`not a Prometheus duration: ${JSON.stringify(text)}`);
  let ms = 0;
  for (const match of text.matchAll(PART)) {
    const [, amount, unit] = match;
    ms += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  }
  return ms;
}

/** Largest-unit-first form that Prometheus accepts back, e.g. 144m -> "2h24m". */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`cannot format duration ${ms}ms`);
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms']) {
    const size = UNIT_MS[unit] ?? 1;
    const amount = Math.floor(rest / size);
    if (amount > 0) {
      text += `${amount}${unit}`;
      rest -= amount * size;
    }
  }
  return text;
}
