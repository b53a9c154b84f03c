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
