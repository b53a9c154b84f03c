// The Node versions the project says it runs on (package.json `engines`, the README's "Needs Node.js") are ones
// every locked package accepts too: a fresh `npm ci` on any of them prints no EBADENGINE warning, and no package
// is run on a Node it does not support. A package whose newest release leaves Node 20 is pinned (overrides).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import semver from 'semver';
import { repoRoot } from '../src/paths.js';

interface LockedPackage {
  version?: string;
  engines?: { node?: unknown } | unknown[];
}

const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockedPackage> };
const supported = root.engines.node;

/** Each locked package with a Node range: `name@version range`. */
function nodeRanges(): { name: string; range: string }[] {
  return Object.entries(lock.packages).flatMap(([path, p]) => {
    const range = p.engines && !Array.isArray(p.engines) ? p.engines.node : undefined;
    if (typeof range !== 'string' || path === '') return [];
    return [{ name: `${path.replace(/^.*node_modules\//, '')}@${p.version ?? '?'}`, range }];
  });
}

describe('the Node versions the project supports', () => {
  it('when a package is locked, then it accepts every Node version package.json engines admits', () => {
    assert.ok(semver.validRange(supported), `engines.node ${supported} is not a range`);
    const ranges = nodeRanges();
    assert.ok(ranges.length > 50, `only ${ranges.length} locked packages declare engines.node: is this the lock?`);
    const narrower = ranges.filter(({ range }) => !semver.subset(supported, range, { includePrerelease: false }));
    assert.deepEqual(narrower.map(({ name, range }) => `${name} needs ${range}`), [], `engines.node is ${supported}`);
  });

  it('when the tests run, then on a Node version the project supports', () => {
    assert.ok(semver.satisfies(process.versions.node, supported), `Node ${process.versions.node} is outside ${supported}`);
  });

  it('when the README says which Node is needed, then it names the lowest version of each line engines admits', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const needs = /Needs Node\.js (.+?) and npm/.exec(readme)?.[1];
    assert.ok(needs, 'README has no "Needs Node.js ... and npm"');
    const named = supported.split('||').map((part) => {
      const min = semver.minVersion(part.trim());
      assert.ok(min, `no lowest version in ${part}`);
      return min.minor === 0 ? `${min.major}+` : `${min.major}.${min.minor}+`;
    });
    assert.deepEqual(needs.split(/, | or /), named, `README says "${needs}", engines.node is ${supported}`);
  });
});
