// docs/design.md, "Code layout": every service has the same folders, so one guess finds a behaviour. These are the
// rules of that page a file can break without any other test noticing.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../src/paths.js';

const servicesDir = join(repoRoot, 'services');
const services = readdirSync(servicesDir).filter((name) => statSync(join(servicesDir, name)).isDirectory());

/** The .ts files below a service's src/<folder>, as paths from the repository root, with their text. */
function sources(folder: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) out.push({ path: relative(repoRoot, path), text: readFileSync(path, 'utf8') });
    }
  };
  for (const svc of services) walk(join(servicesDir, svc, 'src', folder));
  return out;
}

describe('the code layout of the services (docs/design.md)', () => {
  it('when a service works on a timer, then the loop is in src/background/ and its plugin only starts it', () => {
    const plugins = sources('plugins');
    assert.ok(plugins.length >= 10, `only ${plugins.length} plugin files`);
    // setTimeout from node:timers/promises is a wait inside one request, not work on a timer.
    const timers = plugins.filter(({ text }) => /\bset(Interval|Timeout)\(/.test(text.replace(/import \{ setTimeout as \w+ \} from 'node:timers\/promises';/g, '')));
    assert.deepEqual(timers.map((f) => f.path), []);
  });

  it("when a route file imports another route file, then from its own audience's folder or from src/routes itself", () => {
    const routes = sources('routes');
    assert.ok(routes.length >= 15, `only ${routes.length} route files`);
    const crossing: string[] = [];
    for (const { path, text } of routes) {
      const audience = path.split('/')[4]; // services/<svc>/src/routes/<audience>/<file>.ts
      if (!path.split('/')[5]) continue; // src/routes/<file>.ts: shared by the audiences
      for (const [, target] of text.matchAll(/from '(\.\.\/[^']+)'/g)) {
        const other = /^\.\.\/([\w-]+)\//.exec(target ?? '')?.[1];
        if (other && other !== audience) crossing.push(`${path} -> ${target}`);
      }
    }
    assert.deepEqual(crossing, []);
  });

  it("when a plugin decorates a service's own counters (plugins/*-metrics.ts), then their type is declared in it", () => {
    const plugins = sources('plugins').filter((f) => f.path.endsWith('-metrics.ts'));
    assert.ok(plugins.length >= 3, `only ${plugins.length} metrics plugins`);
    const elsewhere = plugins.filter(({ text }) => {
      const type = /^\s+\w+: (\w+);$/m.exec(text.slice(text.indexOf('interface FastifyInstance')))?.[1];
      return !type || !new RegExp(`^export interface ${type}\\b`, 'm').test(text);
    });
    assert.deepEqual(elsewhere.map((f) => f.path), []);
  });

  it('when a service injects faults for its tests (a crash point, FAULT_*, killing its own process), then in src/fault-injection/, never in the layers that do the work', () => {
    // config.ts declares the setting and a plugin applies it (the order service's FAULT_CRASH_POINT wraps the
    // dependencies its use cases are given), so a use case reads as its business steps only.
    const fault = /process\.(kill|exit)\(|\bFAULT_|crash_?(at|points?)\b|'SIGKILL'/i;
    const working = ['use-cases', 'model', 'data', 'clients', 'routes', 'background'].flatMap((folder) => sources(folder));
    assert.ok(working.length >= 80, `only ${working.length} files`);
    assert.deepEqual(working.filter(({ text }) => fault.test(text)).map((f) => f.path), []);
    const kills = sources('').filter(({ text }) => /process\.kill\(/.test(text));
    assert.deepEqual(kills.filter((f) => f.path.split('/')[3] !== 'fault-injection').map((f) => f.path), []);
  });

  it("when a service reads or writes its tables, then in src/data/<thing>-repository.ts, each statement named where it runs (db.query('<name>', sql, values))", () => {
    const data = sources('data');
    assert.ok(data.length >= 7, `only ${data.length} data files`);
    const wrong: string[] = [];
    for (const { path, text } of data) {
      if (!/\/[a-z-]+-repository\.ts$/.test(path)) wrong.push(`${path}: not a <thing>-repository.ts`);
      // Every .query call, past its type arguments, opens with the statement's name as a literal: the metric label
      // and the prepared statement's name are read in the call, not looked up in a table of queries.
      const calls = [...text.matchAll(/\.query\b/g)];
      if (calls.length === 0) wrong.push(`${path}: runs no statement itself`);
      for (const m of calls) {
        let i = (m.index ?? 0) + m[0].length;
        if (text[i] === '<') for (let depth = 0; i < text.length; i++) if ((depth += text[i] === '<' ? 1 : text[i] === '>' ? -1 : 0) === 0) break;
        const call = text.slice(text[i] === '>' ? i + 1 : i);
        if (!/^\(\s*'[a-z][a-z0-9]*(_[a-z0-9]+)*'/.test(call)) wrong.push(`${path}: .query${call.slice(0, 40).replace(/\s+/g, ' ')}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('when a source file is named, then not utils, helpers, misc or manager (the name says what it is)', () => {
    const vague = /^(utils?|helpers?|misc|manager)\b/i;
    const files = sources('');
    assert.ok(files.length >= 100, `only ${files.length} files`);
    assert.deepEqual(files.map((f) => f.path).filter((path) => vague.test(path.split('/').pop() ?? '')), []);
  });
});

describe('the layout of the tests workspace', () => {
  it('when the whole-platform tests share code, then it is in tests/src/ and tests/test/ holds only test files', () => {
    const shared = readdirSync(join(repoRoot, 'tests', 'test')).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));
    assert.deepEqual(shared, []);
  });
});
