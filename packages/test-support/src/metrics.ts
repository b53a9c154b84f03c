// Reading a Prometheus exposition (GET /metrics) in tests.

/** The exposition line of a metric whose labels include every given `name="value"` part. */
export function metricLine(text: string, name: string, parts: string[] = []): string | undefined {
  return text.split('\n').find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && parts.every((p) => l.includes(p)));
}

/** That line's value, 0 when the series does not exist. */
export function metricValue(text: string, name: string, parts: string[] = []): number {
  const line = metricLine(text, name, parts);
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
