// docs/configuration.md is the one table of what configures each process. Every variable a process's config
// schema reads is a row there, every row names a variable those schemas read, in the processes its "who" column
// says, with the default the schema applies and, where it gives one, the range (60..3600) the schema accepts; the processes table gives each process its schema's default port.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { GatewayEnv, StorefrontEnv } from '@ecommerce/gateway-service/config';
import { OrderEnv } from '@ecommerce/order-service/config';
import { ProductEnv } from '@ecommerce/product-service/config';
import { UserEnv } from '@ecommerce/user-service/config';
import { repoRoot, repoTree } from '../src/paths.js';

type Schema = Record<string, { default?: unknown; minimum?: number; maximum?: number }>;
const SCHEMAS: Record<string, Schema> = { user: UserEnv, product: ProductEnv, order: OrderEnv, gateway: GatewayEnv, storefront: StorefrontEnv };
const PROCESSES = Object.keys(SCHEMAS);
/** Read by Node, by the OpenTelemetry SDK (the tracing preload) or by node-postgres (libpq's PG* variables), not by a config schema. */
const notSchema = (name: string) => name === 'NODE_OPTIONS' || name.startsWith('OTEL_') || /^PG[A-Z]+$/.test(name);

const doc = readFileSync(join(repoRoot, 'docs', 'configuration.md'), 'utf8');

/** The rows of the Markdown table that follows `heading`, as cells. */
function table(heading: string): string[][] {
  const start = doc.indexOf(heading);
  assert.ok(start >= 0, `docs/configuration.md has no "${heading}"`);
  const rows: string[][] = [];
  for (const line of doc.slice(start).split('\n').slice(1)) {
    if (line.startsWith('|')) rows.push(line.split('|').slice(1, -1).map((cell) => cell.trim()));
    else if (rows.length > 0) break;
  }
  return rows.slice(2); // header and separator
}

interface Row {
  names: string[];
  who: string[];
  defaults: Set<string>;
  meaning: string;
}
const rows: Row[] = table('## Variables').map(([first = '', who = '', defaults = '', meaning = '']) => ({
  meaning,
  names: [...first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] ?? ''),
  who: who.replace(/\(.*\)/, '').trim() === 'all' ? PROCESSES : who.split(/,\s*/).map((w) => w.trim()),
  // The words of the default cell: `5, 50, 900`, `2000`, `true`, `loopback,uniquelocal`, (8080).
  defaults: new Set(defaults.replace(/`/g, '').split(/[\s();"]+|,\s/).filter(Boolean)),
}));

describe('docs/configuration.md', () => {
  it('when a process reads a variable, then a row names it with that process, and no row names one it does not read', () => {
    assert.ok(rows.length >= 40, `only ${rows.length} variable rows`);
    const documented = new Map<string, Set<string>>();
    for (const row of rows) for (const name of row.names) for (const who of row.who) documented.set(name, (documented.get(name) ?? new Set()).add(who));
    const names = new Set([...documented.keys(), ...Object.values(SCHEMAS).flatMap((schema) => Object.keys(schema))]);
    const wrong: string[] = [];
    for (const name of [...names].filter((n) => !notSchema(n)).sort()) {
      const readBy = PROCESSES.filter((p) => name in (SCHEMAS[p] ?? {}));
      const said = PROCESSES.filter((p) => documented.get(name)?.has(p));
      if (readBy.join() !== said.join()) wrong.push(`${name}: read by ${readBy.join(', ') || 'nothing'}, the table says ${said.join(', ') || 'nothing'}`);
    }
    assert.deepEqual(wrong, []);
  });

  it("when a schema gives a variable a default, then the row's default column says it", () => {
    const wrong: string[] = [];
    for (const row of rows) {
      if (row.defaults.has('see')) continue; // PORT: "see above", the processes table (next test)
      for (const name of row.names.filter((n) => !notSchema(n))) {
        for (const p of row.who) {
          const value = SCHEMAS[p]?.[name]?.default;
          if (value === undefined || value === '') continue;
          if (!row.defaults.has(String(value))) wrong.push(`${name} (${p}): default ${JSON.stringify(value)}, the table says ${[...row.defaults].join(' ')}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it("when a row gives the default of an OTEL_* variable the tracing preload decides, then the preload picks it with the variable unset (and docs/tracing.md says the same)", async () => {
    // docs/configuration.md said OTEL_LOG_LEVEL defaults to `warn`; the preload uses info, the specification's
    // default, as docs/tracing.md says. The schemas' defaults are checked above; these live in packages/telemetry.
    const tracingEnv = (await import(pathToFileURL(join(repoRoot, 'packages', 'telemetry', 'dist', 'src', 'tracing-env.js')).href)) as {
      logLevelChoice(raw: string | undefined): { level: string };
      exporterChoice(env: NodeJS.ProcessEnv): { protocol?: string };
    };
    const row = (name: string) => {
      const found = rows.find((r) => r.names.includes(name));
      assert.ok(found, `docs/configuration.md has no row for ${name}`);
      return found;
    };
    const logLevel = tracingEnv.logLevelChoice(undefined).level.toLowerCase();
    assert.ok(row('OTEL_LOG_LEVEL').defaults.has(logLevel), `OTEL_LOG_LEVEL: the preload uses ${logLevel}, the table says ${[...row('OTEL_LOG_LEVEL').defaults].join(' ')}`);
    const tracing = readFileSync(join(repoRoot, 'docs', 'tracing.md'), 'utf8');
    assert.match(tracing, new RegExp(`\\| \`OTEL_LOG_LEVEL\` \\|[^\\n]*default \`${logLevel}\``), `docs/tracing.md's OTEL_LOG_LEVEL row says default \`${logLevel}\``);
    const protocol = tracingEnv.exporterChoice({}).protocol ?? '';
    assert.ok(row('OTEL_EXPORTER_OTLP_PROTOCOL').defaults.has(protocol), `OTEL_EXPORTER_OTLP_PROTOCOL: the preload uses ${protocol}`);
  });

  it('when the tracing preload (packages/telemetry/src) reads an OTEL_* variable, then a row names it (`..._TRACES_PROTOCOL` after a name counts)', () => {
    // The schemas above hold no OTEL_* variable: the preload reads them before any config is loaded. The traces-only
    // OTEL_EXPORTER_OTLP_TRACES_HEADERS was read (and its entries checked) by the preload and named in no row.
    const documented = new Set<string>();
    for (const [first = ''] of table('## Variables')) {
      let stem = '';
      for (const [, name = '', suffix] of first.matchAll(/`(?:([A-Z][A-Z0-9_]*)|\.\.\.(_[A-Z0-9_]+))`/g)) {
        if (suffix === undefined) {
          documented.add(name);
          stem = name.replace(/_[A-Z0-9]+$/, '');
        } else documented.add(stem + suffix);
      }
    }
    const dir = join(repoRoot, 'packages', 'telemetry', 'src');
    const read = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      for (const [name] of readFileSync(join(dir, file), 'utf8').matchAll(/\bOTEL_[A-Z0-9_]*[A-Z0-9]\b/g)) read.add(name);
    }
    assert.ok(read.size >= 15, `only ${read.size} OTEL_* names in packages/telemetry/src`);
    assert.deepEqual([...read].filter((name) => !documented.has(name)).sort(), []);
  });

  it('when the processes table gives a default port, then it is the PORT default of that process', () => {
    const ports = table('## Processes and ports').map(([process = '', port = '']) => [process.split(' ')[0] ?? '', Number(port)] as const);
    assert.deepEqual(ports.map(([p]) => p).sort(), [...PROCESSES].sort(), 'one row per process');
    for (const [p, port] of ports) assert.equal(port, SCHEMAS[p]?.PORT?.default, `${p}: the table says ${port}`);
  });

  it('when a row gives the range a variable takes (60..3600), then the schema of each process it names refuses values outside that range, and no other', () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const row of rows) {
      // Outside code spans: `{"errorRatio":0..1}` is a request body, not the variable.
      const ranges = [...row.meaning.replace(/`[^`]*`/g, "").matchAll(/(?<![\w.])(\d+)\.\.(\d+)(?![\w.])/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
      if (ranges.length === 0 || ranges.length !== row.names.length) continue;
      row.names.forEach((name, i) => {
        for (const p of row.who) {
          const schema = SCHEMAS[p]?.[name];
          const [min, max] = ranges[i] ?? [];
          checked++;
          if (schema?.minimum !== min || schema?.maximum !== max) wrong.push(`${name} (${p}): ${schema?.minimum}..${schema?.maximum}, the table says ${min}..${max}`);
        }
      });
    }
    assert.ok(checked >= 4, `only ${checked} ranges read`);
    assert.deepEqual(wrong, []);
  });
});

/** The files below `dir` (a path from the repository root) whose name `keep` accepts: no installs, builds or local data, no fixtures. */
function walk(dir: string, keep: (name: string) => boolean): string[] {
  // A fixture is a child process its test starts and hands its variables: the test's are the reader's.
  const skip = (name: string) => name.startsWith('.') || ['node_modules', 'dist', 'coverage', 'fixtures'].includes(name);
  return repoTree(dir, skip).filter((path) => !path.endsWith('/') && keep(path.slice(path.lastIndexOf('/') + 1)));
}

describe('the environment variables the programs read, and the Markdown', () => {
  it('when a program of the repository (a service, a package, a script, a deploy tool, the web build and its tools, a test) reads a variable, then a README or a page of docs/ names it in a code span', () => {
    // The web build's WEB_API_URL (where `vite` sends the API), the Lighthouse tool's WEB_URL, the alert log's
    // ALERT_LOG_PORT and the containers test's CONTAINERS_TEST_PG, CONTAINERS_TEST_PORT_OFFSET and KEEP_CONTAINERS
    // were read and named nowhere: the schemas' variables are held to the Variables table above, the bench
    // scripts' to docs/benchmarks.md; nothing looked at the rest. Nor at the tests' knobs: of the property tests'
    // runs (`SCENARIO_RUNS`, ...) and the fuzz suite's settings only CUSTOMER_RULE_RUNS, FUZZ_REQUESTS and FUZZ_SEED
    // were named, 19 others nowhere (and CI, which holds the latency bounds and makes a missing docker compose fatal).
    const programs = walk('', (name) => /\.(ts|tsx|js|mjs)$/.test(name) && !name.endsWith('.d.ts'));
    const read = new Map<string, string>();
    for (const file of programs) {
      // A program reads its environment as process.env or as an `env` it was handed (scripts/stack.js); a test's
      // `env` is as often the one it hands a child or finds in a manifest, so there only process.env counts.
      const reads = /(^|\/)tests?\//.test(file) ? /\bprocess\.env(?:\.([A-Z][A-Z0-9_]*)\b|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g : /\benv(?:\.([A-Z][A-Z0-9_]*)\b|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g;
      for (const m of readFileSync(join(repoRoot, file), 'utf8').matchAll(reads)) {
        const name = m[1] ?? m[2] ?? '';
        if (!read.has(name)) read.set(name, file);
      }
    }
    assert.ok(read.size >= 60, `only ${read.size} variables read: ${[...read.keys()].join(', ')}`);
    const pages = walk('', (name) => name === 'README.md').concat(walk('docs', (name) => name.endsWith('.md')));
    const named = new Set<string>();
    for (const page of pages) {
      for (const line of readFileSync(join(repoRoot, page), 'utf8').split('\n')) {
        // `OTEL_EXPORTER_OTLP_PROTOCOL` (and `..._TRACES_PROTOCOL`): the suffix after a name's last part.
        let stem = '';
        for (const [span = ''] of line.matchAll(/`[^`]+`/g)) {
          for (const [, name = '', suffix] of span.matchAll(/\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{2,})\b|\.\.\.(_[A-Z0-9_]+)/g)) {
            if (suffix === undefined) {
              named.add(name);
              stem = name.replace(/_[A-Z0-9]+$/, '');
            } else named.add(stem + suffix);
          }
        }
      }
    }
    // The shell's own, which the scripts pass on or search: not the platform's to document.
    const SHELL = new Set(['PATH', 'HOME']);
    assert.deepEqual([...read].filter(([name]) => !named.has(name) && !SHELL.has(name)).map(([name, file]) => `${name} (${file})`).sort(), []);
  });
});
