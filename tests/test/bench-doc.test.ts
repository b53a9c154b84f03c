// docs/benchmarks.md's "Settings" table is where a reader learns what the bench scripts take: every variable a
// script reads from its environment is a row there, naming the scripts that read it, and no row names one none reads.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../src/paths.js';

/** The table's short name of each script. */
const SCRIPTS = { bench: 'bench.js', cost: 'bench-cost.js', compare: 'bench-compare.js' } as const;

/** The variables a script reads: `process.env.NAME`, and `process.env[`PREFIX${x}`]` as the names the table gives for it. */
function readBy(file: string): Set<string> {
  const code = readFileSync(join(repoRoot, 'scripts', file), 'utf8');
  const names = new Set([...code.matchAll(/process\.env\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] ?? ''));
  for (const m of code.matchAll(/process\.env\[`([A-Z][A-Z0-9_]*)\$\{/g)) names.add(`${m[1]}*`);
  return names;
}

const doc = readFileSync(join(repoRoot, 'docs', 'benchmarks.md'), 'utf8');
const start = doc.indexOf('### Settings');
/** The section, up to the next heading. */
const section = doc.slice(start, doc.indexOf('\n#', start + 1));
const rows = section
  .split('\n')
  .filter((line) => line.startsWith('| `'))
  .map((line) => line.split('|').map((cell) => cell.trim()))
  .map(([, first = '', who = '']) => ({ names: [...first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] ?? ''), who: who.split(/,\s*/) }));

describe('docs/benchmarks.md, Settings', () => {
  it('when a bench script reads a variable, then a row names it with that script, and every row names a variable the scripts it names read', () => {
    assert.ok(doc.includes('### Settings'), 'docs/benchmarks.md has no "### Settings"');
    assert.ok(rows.length >= 25, `only ${rows.length} rows`);
    const wrong: string[] = [];
    const said = new Map<string, string[]>();
    for (const row of rows) for (const name of row.names) said.set(name, row.who);
    const read = new Map<string, string[]>();
    for (const [short, file] of Object.entries(SCRIPTS)) {
      for (const name of readBy(file)) {
        // A prefix read with a suffix (COST_ENV_${side}): the rows that start with it.
        const names = name.endsWith('*') ? [...said.keys()].filter((n) => n.startsWith(name.slice(0, -1))) : [name];
        if (names.length === 0) wrong.push(`${name} (${file}): no row`);
        for (const n of names) read.set(n, [...(read.get(n) ?? []), short]);
      }
    }
    for (const name of new Set([...said.keys(), ...read.keys()])) {
      const by = (read.get(name) ?? []).join(', ') || 'nothing';
      const row = (said.get(name) ?? []).join(', ') || 'no row';
      if (by !== row) wrong.push(`${name}: read by ${by}, the table says ${row}`);
    }
    assert.deepEqual(wrong, []);
  });
});

describe('docs/benchmarks.md, its sections', () => {
  // A heading "Latest runs (2026-11-25)" stayed at the bottom while a dozen sessions were added above it: a reader
  // looking for the newest figures by that word found the oldest.
  const headings = doc.split('\n').filter((line) => line.startsWith('## '));
  const dated = headings.map((line) => ({ line, date: /\b(\d{4}-\d{2}-\d{2})\b/.exec(line)?.[1] })).filter((h) => h.date !== undefined);

  it('when a section is dated, then it comes after every newer one (newest first, as the page says)', () => {
    assert.ok(dated.length >= 10, `only ${dated.length} dated sections`);
    assert.match(doc.slice(0, start), /newest first/);
    const late = dated.filter((h, i) => i > 0 && (h.date ?? '') > (dated[i - 1]?.date ?? ''));
    assert.deepEqual(late.map((h) => h.line), []);
  });

  it('when a heading calls its figures the latest (or current, newest), then it is the first dated section', () => {
    const claims = dated.filter((h, i) => i > 0 && /\b(latest|current|newest|recent)\b/i.test(h.line));
    assert.deepEqual(claims.map((h) => h.line), []);
  });
});
