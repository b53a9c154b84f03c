// One trace as a text waterfall: each span on a line, indented under its parent, with its service, name,
// start offset and duration, and a bar showing where it sits in the trace. A dev aid for a terminal or log.
import type { AttributeValue, ReceivedSpan } from './otlp-spans.js';

const BAR_WIDTH = 32;
const KIND_NAMES: Record<number, string> = { 2: 'server', 3: 'client', 4: 'producer', 5: 'consumer' };

const ms = (ns: bigint) => Number(ns) / 1e6;
const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** The few attributes worth reading in a waterfall line. */
function highlights(attributes: Record<string, AttributeValue>): string {
  const shown: string[] = [];
  const status = attributes['http.response.status_code'];
  if (status !== undefined) shown.push(String(status));
  const plan = attributes['db.postgresql.plan'];
  if (typeof plan === 'string') shown.push(`statement ${plan}`);
  return shown.join(' ');
}

function bar(start: number, duration: number, total: number): string {
  if (total <= 0) return '='.padEnd(BAR_WIDTH);
  const from = Math.min(BAR_WIDTH - 1, Math.floor((start / total) * BAR_WIDTH));
  const width = Math.max(1, Math.round((duration / total) * BAR_WIDTH));
  return (' '.repeat(from) + '='.repeat(Math.min(width, BAR_WIDTH - from))).padEnd(BAR_WIDTH);
}

/** Spans in tree order (children by start time); a span whose parent is not in the trace is a root. */
export function spanTree(spans: ReceivedSpan[]): { span: ReceivedSpan; depth: number }[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, ReceivedSpan[]>();
  const roots: ReceivedSpan[] = [];
  for (const span of spans) {
    if (span.parentSpanId && ids.has(span.parentSpanId)) {
      const siblings = children.get(span.parentSpanId) ?? [];
      siblings.push(span);
      children.set(span.parentSpanId, siblings);
    } else roots.push(span);
  }
  const byStart = (a: ReceivedSpan, b: ReceivedSpan) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0);
  const ordered: { span: ReceivedSpan; depth: number }[] = [];
  const visit = (span: ReceivedSpan, depth: number) => {
    ordered.push({ span, depth });
    for (const child of (children.get(span.spanId) ?? []).sort(byStart)) visit(child, depth + 1);
  };
  for (const root of roots.sort(byStart)) visit(root, 0);
  return ordered;
}

export function formatWaterfall(traceId: string, spans: ReceivedSpan[]): string {
  if (spans.length === 0) return `trace ${traceId}: no spans\n`;
  const start = spans.reduce((m, s) => (s.startNs < m ? s.startNs : m), spans[0]!.startNs);
  const end = spans.reduce((m, s) => (s.endNs > m ? s.endNs : m), spans[0]!.endNs);
  const total = ms(end - start);
  const services = new Set(spans.map((s) => s.service));
  const rows = spanTree(spans);
  const serviceWidth = Math.max(...[...services].map((s) => s.length));
  const lines = [`trace ${traceId}  ${total.toFixed(1)} ms  ${count(spans.length, 'span')}  ${count(services.size, 'service')} (${[...services].join(', ')})`];
  lines.push(`${'offset'.padStart(9)} ${'duration'.padStart(9)}  ${'|'.padEnd(BAR_WIDTH + 1)}|  ${'service'.padEnd(serviceWidth)}  span`);
  for (const { span, depth } of rows) {
    const offset = ms(span.startNs - start);
    const duration = ms(span.endNs - span.startNs);
    const kind = KIND_NAMES[span.kind];
    const detail = [kind ? `(${kind})` : '', highlights(span.attributes), span.status.code === 2 ? 'ERROR' : ''].filter(Boolean).join(' ');
    lines.push(
      `${`${offset.toFixed(1)} ms`.padStart(9)} ${`${duration.toFixed(1)} ms`.padStart(9)}  |${bar(offset, duration, total)}|  ${span.service.padEnd(serviceWidth)}  ${'  '.repeat(depth)}${span.name}${detail ? `  ${detail}` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
