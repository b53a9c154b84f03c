// /metrics in the format the scraper asks for: OpenMetrics for Prometheus (it asks for it first, and only
// OpenMetrics carries exemplars), the classic text format for everyone else (curl, the tests, older tools).
// prom-client chooses the format per registry, not per request, and renaming its counters for OpenMetrics
// mutates them, so the OpenMetrics text is written here from the registry's values instead.
import { Registry } from 'prom-client';

/** What getMetricsAsJSON returns at run time (prom-client's types say a numeric enum and omit exemplars). */
interface Family {
  name: string;
  help: string;
  type: string;
  values: {
    value: number;
    labels: Record<string, string | number>;
    metricName?: string;
    exemplar?: { labelSet: Record<string, string | number>; value: number; timestamp: number } | null;
  }[];
}

export interface Exposition {
  contentType: string;
  body: string;
}

/**
 * The registry's metrics as the Accept header asks (RFC 9110 12.5.1): OpenMetrics 1.0 when the header names
 * `application/openmetrics-text` (any case) with a weight above 0 and at least that of any `text/plain` it names, else
 * Prometheus text 0.0.4. Prometheus (2.x and 3.x) weighs OpenMetrics first; `*` ranges and a missing header get the
 * classic text, which every client reads. Before, any mention counted: `application/openmetrics-text;q=0` (refused)
 * or weighed below `text/plain` got OpenMetrics, and `APPLICATION/OPENMETRICS-TEXT` did not.
 */
export async function metricsExposition(registry: Registry, accept: string | string[] | undefined): Promise<Exposition> {
  if (prefersOpenMetrics(Array.isArray(accept) ? accept.join(',') : (accept ?? ''))) return { contentType: Registry.OPENMETRICS_CONTENT_TYPE, body: await openMetricsText(registry) };
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** Whether an Accept header weighs OpenMetrics above 0 and no lower than the classic text format (see metricsExposition). */
function prefersOpenMetrics(accept: string): boolean {
  let openMetrics = 0;
  let text = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const q = params.find((p) => /^q\s*=/.test(p));
    const weight = q === undefined ? 1 : Number(q.slice(q.indexOf('=') + 1).trim());
    if (!Number.isFinite(weight) || weight < 0 || weight > 1) continue;
    if (type === 'application/openmetrics-text') openMetrics = Math.max(openMetrics, weight);
    else if (type === 'text/plain') text = Math.max(text, weight);
  }
  return openMetrics > 0 && openMetrics >= text;
}

async function openMetricsText(registry: Registry): Promise<string> {
  const lines: string[] = [];
  for (const family of (await registry.getMetricsAsJSON()) as unknown as Family[]) {
    // An OpenMetrics counter family is named without _total; its samples carry it.
    const counter = family.type === 'counter';
    const name = counter ? family.name.replace(/_total$/, '') : family.name;
    lines.push(`# HELP ${name} ${escaped(family.help)}`, `# TYPE ${name} ${family.type}`);
    for (const sample of family.values) {
      let line = `${sample.metricName ?? (counter ? `${name}_total` : name)}${labelsText(sample.labels)} ${numberText(sample.value)}`;
      const { exemplar } = sample;
      if (exemplar) line += ` # ${labelsText(exemplar.labelSet) || '{}'} ${numberText(exemplar.value)} ${exemplar.timestamp}`;
      lines.push(line);
    }
  }
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

function labelsText(labels: Record<string, string | number>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escaped(String(v))}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function escaped(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function numberText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
