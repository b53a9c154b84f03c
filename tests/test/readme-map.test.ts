// The README's repository map is where a newcomer looks first: it names every top-level folder and every
// workspace package, a row that lays out a package's src/ names each of its folders, and the file each image runs
// is named in its package's row, so a folder or a process added without a line there fails here.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, repoTree } from '../src/paths.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const map = readme.slice(readme.indexOf('## Repository map'));
/** The paths the map's rows name in their first cell: `a`, `b`, `c` -> a, b, c. */
const rows = map.split('\n').filter((line) => line.startsWith('| `'));
const pathsIn = (cell: string | undefined) => [...(cell ?? '').matchAll(/`([^`]+)`/g)].map((m) => (m[1] ?? '').replace(/\/$/, ''));
const named = new Set(rows.flatMap((line) => pathsIn(line.split('|')[1])));

const isDir = (path: string) => statSync(join(repoRoot, path)).isDirectory();
/** Not the project's: installs, builds and local data (.gitignore), and dot folders (CI, git). */
const NOT_OURS = new Set(['node_modules', 'dist', 'coverage']);

describe("the README's repository map", () => {
  it('when a folder is at the top of the repository, then the map names it or a folder in it', () => {
    const top = readdirSync(repoRoot).filter((name) => !name.startsWith('.') && !NOT_OURS.has(name) && isDir(name));
    assert.ok(top.includes('services') && top.includes('packages'), `not the repository root? ${top.join(', ')}`);
    const missing = top.filter((dir) => !named.has(dir) && ![...named].some((path) => path.startsWith(`${dir}/`)));
    assert.deepEqual(missing, []);
  });

  it('when a folder is a workspace (package.json workspaces), then the map names it', () => {
    const { workspaces } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { workspaces: string[] };
    const folders = workspaces.flatMap((pattern) =>
      pattern.endsWith('/*')
        ? readdirSync(join(repoRoot, pattern.slice(0, -2))).map((name) => `${pattern.slice(0, -2)}/${name}`).filter(isDir)
        : [pattern],
    );
    assert.ok(folders.length >= 8, `only ${folders.length} workspaces`);
    assert.deepEqual(folders.filter((folder) => !named.has(folder)), []);
    // And each has a README.md of its own, so `<folder>/README.md` is the one guess that works everywhere: web/
    // and tests/ had none (a newcomer sent to web/README.md for the browser tests found nothing there).
    assert.deepEqual(folders.filter((folder) => !existsSync(join(repoRoot, folder, 'README.md'))), []);
  });

  it('when a row lays out src/, then it names every folder in the src/ of the packages it is about, and each folder or file it names exists', () => {
    const wrong: string[] = [];
    let laidOut = 0;
    for (const line of rows) {
      const [, first, what] = line.split('|');
      // `src/routes/<audience>/` is the folder src/routes.
      const inSrc = new Set(pathsIn(what).filter((p) => p.startsWith('src/') && !/\.\w+$/.test(p)).map((p) => p.replace(/\/<[^>]+>$/, '')));
      if (inSrc.size === 0) continue;
      const packages = pathsIn(first);
      laidOut += packages.length;
      const folders = packages.flatMap((pkg) =>
        readdirSync(join(repoRoot, pkg, 'src'))
          .filter((name) => isDir(join(pkg, 'src', name)))
          .map((name) => ({ pkg, path: `src/${name}` })),
      );
      for (const { pkg, path } of folders) if (!inSrc.has(path)) wrong.push(`${pkg}/${path} is not in its row`);
      for (const path of inSrc) if (!folders.some((f) => f.path === path)) wrong.push(`${path} (row of ${packages.join(', ')}) is in none of them`);
      const files = pathsIn(what).filter((p) => p.startsWith('src/') && /\.\w+$/.test(p));
      for (const file of files) if (!packages.some((pkg) => existsSync(join(repoRoot, pkg, file)))) wrong.push(`${file} (row of ${packages.join(', ')}) is in none of them`);
    }
    assert.ok(laidOut >= 5, `only ${laidOut} packages laid out`);
    assert.deepEqual(wrong, []);
  });

  it("when an npm script runs a file of scripts/ (package.json), then the map's scripts row names it", () => {
    const { scripts } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const run = [...new Set(Object.values(scripts).flatMap((line) => [...line.matchAll(/node scripts\/([\w.-]+\.js)/g)].map((m) => m[1] ?? '')))];
    assert.ok(run.length >= 5, `only ${run.join(', ')}`);
    const row = rows.find((line) => pathsIn(line.split('|')[1]).includes('scripts'));
    const said = new Set(pathsIn(row?.split('|')[2]));
    assert.deepEqual(run.filter((file) => !said.has(file)), []);
  });

  it('when a deploy folder (deploy/<name>) holds a folder, then its row names it (`name/`), so the alert receiver, the ingress Role or the rules are found by name', () => {
    const unnamed: string[] = [];
    let seen = 0;
    for (const deploy of readdirSync(join(repoRoot, 'deploy')).filter((name) => isDir(join('deploy', name)))) {
      const row = rows.find((line) => pathsIn(line.split('|')[1]).includes(`deploy/${deploy}`));
      const said = new Set(pathsIn(row?.split('|')[2]).map((p) => p.split('/')[0]));
      // Its code and its tests (src/, test/) are the package's own, as in every workspace.
      for (const folder of readdirSync(join(repoRoot, 'deploy', deploy)).filter((name) => !NOT_OURS.has(name) && !['src', 'test'].includes(name) && isDir(join('deploy', deploy, name)))) {
        seen++;
        if (!said.has(folder)) unnamed.push(`deploy/${deploy}/${folder}/`);
      }
    }
    assert.ok(seen >= 8, `only ${seen} deploy folders read`);
    assert.deepEqual(unnamed, []);
  });

  it('when an image runs a file (deploy/docker/Dockerfile CMD), then the row of its package names that file', () => {
    const dockerfile = readFileSync(join(repoRoot, 'deploy', 'docker', 'Dockerfile'), 'utf8');
    const runs = [...dockerfile.matchAll(/^CMD \["node", "([\w/-]+)\/dist\/(src\/[\w-]+)\.js"\]/gm)].map((m) => ({ pkg: m[1] ?? '', file: `${m[2]}.ts` }));
    assert.ok(runs.length >= 5, `only ${runs.length} CMD lines read`);
    const unnamed = runs.filter(({ pkg, file }) => {
      const row = rows.find((line) => pathsIn(line.split('|')[1]).includes(pkg));
      return !row || !pathsIn(row.split('|')[2]).includes(file);
    });
    assert.deepEqual(unnamed.map(({ pkg, file }) => `${pkg}/${file}`), []);
  });
});

/** Not the project's files (installs, builds, local data, git) when the docs' paths are looked up. */
const NOT_SOURCES = new Set([...NOT_OURS, '.git', '.data', '.cache']);
/** Every file and folder of the repository, from the root, a folder ending in '/'. */
const tree = repoTree('', (name) => NOT_SOURCES.has(name));
/** The project's Markdown outside docs/: the README and every folder's own README.md. */
const readmes = tree.filter((path) => /(^|\/)README\.md$/.test(path));
const docsPages = tree.filter((path) => /^docs\/[\w-]+\.md$/.test(path));
const TOP = new Set(tree.filter((path) => /^[^/]+\/$/.test(path)).map((path) => path.slice(0, -1)));
const FILE = /\.(ts|tsx|js|mjs|cjs|json|md|ya?ml|sh|sql|svg|png|html|css)$/;

/** The code spans of a page, outside fenced blocks, that read as a path: `a/b`, `a/b/`, `x.ts`, `src/routes/<audience>/`. */
function pathSpans(markdown: string): string[] {
  const spans = [...markdown.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`\n]+)`/g)].map((m) => (m[1] ?? '').replace(/\/$/, ''));
  // A path names files: no spaces, no leading '/' (a URL path), no '@scope/name' (a package), and a folder or a file extension.
  return [...new Set(spans.filter((s) => /^[\w.<>-]+(\/[\w.<>*-]+)*$/.test(s) && (s.includes('/') || FILE.test(s)) && !s.startsWith('.data') && s !== 'Node.js'))];
}
/** A path of the docs as a regular expression: `<placeholder>` is one folder or file name, `*` any part of one. */
const pathPattern = (span: string) => span.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<[\w-]+>/g, '[^/]+').replace(/\\\*/g, '[^/]*');
/**
 * The path names something in the tree, at `base` or (a path relative to a folder the page is about) at the end of a
 * longer path below it; a test named without its extension (`tests/test/fuzz-hostile`) is its .test.ts.
 */
function found(span: string, base: string): boolean {
  const at = new RegExp(`^${pathPattern(base)}(.*/)?${pathPattern(span)}(\\.test\\.ts)?/?$`);
  return tree.some((path) => at.test(path));
}
/**
 * Whether the repository's .gitignore files ignore the path (a file the docs tell a reader to create, such as
 * deploy/docker/.env; a test's scratch folder): read here rather than asked of git, so that a checkout without
 * .git (an unpacked archive) judges alike. Enough of the format for this repository: a pattern without a slash
 * names a file or folder at any depth below its .gitignore, one with a slash a path from there; `*` is a wildcard.
 */
function gitIgnored(path: string): boolean {
  const parts = path.split('/');
  for (let depth = 0; depth < parts.length; depth++) {
    const dir = parts.slice(0, depth).join('/');
    const file = join(repoRoot, dir, '.gitignore');
    if (!existsSync(file)) continue;
    const below = parts.slice(depth);
    for (const raw of readFileSync(file, 'utf8').split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#') || line.startsWith('!')) continue;
      const pattern = line.replace(/^\//, '').replace(/\/$/, '');
      const glob = (text: string) => new RegExp(`^${text.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
      if (!pattern.includes('/') && !line.startsWith('/')) {
        if (below.some((segment) => glob(pattern).test(segment))) return true;
      } else if (below.some((_, n) => glob(pattern).test(below.slice(0, n + 1).join('/')))) return true;
    }
  }
  return false;
}
/** The relative link targets of a page: [text](target#fragment), not a URL; a link within the page is `{ path: '' }`. */
const linksIn = (markdown: string) =>
  [...markdown.replace(/```[\s\S]*?```/g, '').matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] ?? '')
    .filter((t) => !/^[a-z]+:/.test(t))
    .map((t) => ({ link: t, path: t.replace(/#.*$/, ''), fragment: t.includes('#') ? t.slice(t.indexOf('#') + 1) : '' }));
/** GitHub's anchor of a heading: lower case, punctuation dropped (code and link marks too), spaces as hyphens. */
const anchorOf = (heading: string) =>
  heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
/** What is wrong with a link from `page` (in `folder`): its file is missing, or its #fragment is no heading there. */
function brokenLink(page: string, folder: string, { link, path, fragment }: { link: string; path: string; fragment: string }): string | undefined {
  const file = path ? join(repoRoot, folder, path) : join(repoRoot, page);
  if (!existsSync(file)) return `${page}: (${link})`;
  if (!fragment || !file.endsWith('.md')) return undefined;
  const headings = readFileSync(file, 'utf8')
    .replace(/```[\s\S]*?```/g, '')
    .split('\n')
    .filter((line) => /^#{1,6} /.test(line))
    .map((line) => anchorOf(line.replace(/^#+ /, '')));
  return headings.includes(fragment) ? undefined : `${page}: (${link}) names no heading there`;
}

describe('the paths the READMEs and docs/ name', () => {
  it('when a README names a path or links a file (or a heading in one), then it exists, from the README\'s folder (a path relative to a folder it is about: below that folder)', () => {
    assert.ok(readmes.length >= 3 && readmes.includes('README.md'), `only ${readmes.join(', ')}`);
    const missing: string[] = [];
    for (const page of readmes) {
      const folder = page.includes('/') ? page.slice(0, page.lastIndexOf('/') + 1) : '';
      const text = readFileSync(join(repoRoot, page), 'utf8');
      for (const span of pathSpans(text)) if (!found(span, folder) && !found(span, '') && !gitIgnored(span)) missing.push(`${page}: \`${span}\``);
      for (const link of linksIn(text)) missing.push(...[brokenLink(page, folder, link)].filter((b) => b !== undefined));
    }
    assert.deepEqual(missing, []);
  });

  it('when a page of docs/ names a path from the repository root (services/..., deploy/...) or links a file or a heading, then it exists', () => {
    assert.ok(docsPages.length >= 8, `only ${docsPages.length} pages`);
    const missing: string[] = [];
    for (const page of docsPages) {
      const text = readFileSync(join(repoRoot, page), 'utf8');
      // Built output (dist/) and git-ignored files the docs tell a reader to create (.env) are not in a checkout.
      const rooted = pathSpans(text).filter((s) => TOP.has(s.split('/')[0] ?? '') && !s.split('/').includes('dist') && !gitIgnored(s));
      for (const span of rooted) if (!tree.some((path) => new RegExp(`^${pathPattern(span)}(\\.test\\.ts)?/?$`).test(path))) missing.push(`${page}: \`${span}\``);
      for (const link of linksIn(text)) missing.push(...[brokenLink(page, 'docs', link)].filter((b) => b !== undefined));
    }
    assert.deepEqual(missing, []);
  });
});

describe('the names the READMEs and docs/ place in a file', () => {
  it("when a README or a page of docs/ says where a name is (`name` in `file`, `file`'s `name`, `name` (`file`)), then that file holds the name", () => {
    // docs/web.md placed the registration's retries in `createAccount` in `web/src/session.ts`; it had moved to
    // web/src/register.ts. The path existed, so the path checks above passed.
    const NAME = '`([A-Za-z_$][\\w$]*)(?:\\(\\))?`';
    const FILE_SPAN = '`([\\w./-]+\\.(?:ts|tsx|js|mjs))`';
    const claims = [
      { re: new RegExp(`${NAME} (?:in|of|from) ${FILE_SPAN}`, 'g'), name: 1, file: 2 },
      { re: new RegExp(`${FILE_SPAN}'s ${NAME}`, 'g'), name: 2, file: 1 },
      { re: new RegExp(`${NAME} \\(${FILE_SPAN}`, 'g'), name: 1, file: 2 },
    ];
    const wrong: string[] = [];
    let checked = 0;
    for (const page of [...readmes, ...docsPages]) {
      const folder = page.startsWith('docs/') || !page.includes('/') ? '' : page.slice(0, page.lastIndexOf('/') + 1);
      const text = readFileSync(join(repoRoot, page), 'utf8').replace(/\s+/g, ' ');
      for (const { re, name: n, file: f } of claims) {
        for (const m of text.matchAll(re)) {
          const name = m[n] ?? '';
          const span = m[f] ?? '';
          // From the page's folder, from the root, or (a path relative to a folder the page is about) below it.
          const files = [folder + span, span].filter((path) => tree.includes(path));
          if (files.length === 0) files.push(...tree.filter((path) => path.endsWith(`/${span}`)));
          if (files.length === 0) continue; // a missing path is the path checks' to report
          checked++;
          const holds = new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`);
          if (!files.some((file) => holds.test(readFileSync(join(repoRoot, file), 'utf8')))) wrong.push(`${page}: \`${name}\` is not in ${span}`);
        }
      }
    }
    assert.ok(checked >= 20, `only ${checked} placements read`);
    assert.deepEqual(wrong, []);
  });
});

describe("a service's README (services/<name>/README.md)", () => {
  const withReadme = readdirSync(join(repoRoot, 'services')).filter((svc) => existsSync(join(repoRoot, 'services', svc, 'README.md')));
  /** The .ts files below a folder of the service, as paths from it. */
  const filesIn = (svc: string, dir: string): string[] =>
    tree.filter((path) => path.startsWith(`services/${svc}/${dir}/`) && path.endsWith('.ts')).map((path) => path.slice(`services/${svc}/`.length));

  it('when a folder is a service or a shared package, then it has a README.md (a newcomer finds its routes, files and settings in one guess)', () => {
    const folders = ['services', 'packages'].flatMap((top) => readdirSync(join(repoRoot, top)).filter((name) => isDir(join(top, name))).map((name) => `${top}/${name}`));
    assert.ok(folders.length >= 8, `only ${folders.join(', ')}`);
    assert.deepEqual(folders.filter((folder) => !existsSync(join(repoRoot, folder, 'README.md'))), []);
  });

  it('when a service serves a route, then its README names it (method and path)', () => {
    assert.ok(withReadme.includes('product'), `READMEs: ${withReadme.join(', ')}`);
    const unnamed: string[] = [];
    for (const svc of withReadme) {
      const readme = readFileSync(join(repoRoot, 'services', svc, 'README.md'), 'utf8');
      const routes = filesIn(svc, 'src/routes').flatMap((file) =>
        [...readFileSync(join(repoRoot, 'services', svc, file), 'utf8').matchAll(/\bapp\.(get|post|put|patch|delete)\(\s*'([^']+)'/g)].map((m) => `${(m[1] ?? '').toUpperCase()} ${m[2]}`),
      );
      // The gateway has no routes of its own (it forwards prefixes: src/upstreams.ts).
      if (!existsSync(join(repoRoot, 'services', svc, 'src', 'routes'))) continue;
      assert.ok(routes.length >= 4, `only ${routes.length} routes read in services/${svc}`);
      for (const route of routes) if (!readme.includes(`\`${route}\``) && !readme.includes(`\`${route} (`) && !readme.includes(`\`${route}?`)) unnamed.push(`services/${svc}: ${route}`);
    }
    assert.deepEqual(unnamed, []);
  });

  it("when a service's config reads a variable of its own (src/config.ts), then its README names it", () => {
    const unnamed: string[] = [];
    for (const svc of withReadme) {
      const readme = readFileSync(join(repoRoot, 'services', svc, 'README.md'), 'utf8');
      // The schema's own members (two spaces in, NAME:), not the kit's shared ones it spreads in (...BaseEnv).
      const own = [...readFileSync(join(repoRoot, 'services', svc, 'src', 'config.ts'), 'utf8').matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1] ?? '');
      assert.ok(own.length >= 3, `only ${own.length} variables read in services/${svc}/src/config.ts`);
      for (const name of own) if (!readme.includes(`\`${name}\``)) unnamed.push(`services/${svc}: ${name}`);
    }
    assert.deepEqual(unnamed, []);
  });

  it('when a service has a test file, then its README names it', () => {
    const unnamed: string[] = [];
    for (const svc of withReadme) {
      const readme = readFileSync(join(repoRoot, 'services', svc, 'README.md'), 'utf8');
      for (const file of filesIn(svc, 'test').filter((f) => f.endsWith('.test.ts'))) if (!readme.includes(`\`${file}\``)) unnamed.push(`services/${svc}/${file}`);
    }
    assert.deepEqual(unnamed, []);
  });
});

describe('the folders a newcomer opens without a package of their own (deploy/<name>, scripts, docs)', () => {
  /** The entries of a folder a README would list: not its README, not the package's own manifests, builds or installs. */
  const entries = (folder: string) =>
    readdirSync(join(repoRoot, folder)).filter((name) => !NOT_SOURCES.has(name) && !['README.md', 'package.json', 'tsconfig.json'].includes(name) && !name.startsWith('.'));
  const folders = ['scripts', ...readdirSync(join(repoRoot, 'deploy')).filter((name) => isDir(join('deploy', name))).map((name) => `deploy/${name}`)];

  it('when a folder is scripts/ or deploy/<name>, then it has a README.md that names each file and folder in it (deploy/docker and scripts had none)', () => {
    assert.ok(folders.length >= 4, `only ${folders.join(', ')}`);
    const wrong: string[] = [];
    for (const folder of folders) {
      const file = join(repoRoot, folder, 'README.md');
      if (!existsSync(file)) {
        wrong.push(`${folder}/README.md is missing`);
        continue;
      }
      // `name`, `name/` or `name/...` in a code span (`Dockerfile` too, which pathSpans does not read as a path).
      const said = new Set([...readFileSync(file, 'utf8').matchAll(/`([^`\n]+)`/g)].map((m) => (m[1] ?? '').split('/')[0]));
      for (const name of entries(folder)) if (!said.has(name)) wrong.push(`${folder}/${name} is not in ${folder}/README.md`);
    }
    assert.deepEqual(wrong, []);
  });

  it('when a page is in docs/, then docs/README.md links it, and the README links docs/README.md', () => {
    const index = join(repoRoot, 'docs', 'README.md');
    assert.ok(existsSync(index), 'docs/README.md is missing');
    const linked = new Set(linksIn(readFileSync(index, 'utf8')).map((l) => l.path));
    assert.ok(docsPages.length >= 8, `only ${docsPages.length} pages`);
    assert.deepEqual(docsPages.filter((page) => page !== 'docs/README.md' && !linked.has(page.slice('docs/'.length))), []);
    assert.ok(readme.includes('(docs/README.md)') || readme.includes('`docs/README.md`'), "the README's map does not name docs/README.md");
  });
});

describe("the README's Where to start", () => {
  it('when a newcomer reads the README from the top, then a pointer to Where to start comes before Quick start, and the section answers each usual question with a path', () => {
    const quickStart = readme.indexOf('## Quick start');
    assert.ok(quickStart > 0 && readme.slice(0, quickStart).includes('(#where-to-start)'), 'no pointer to #where-to-start above Quick start');
    const at = readme.indexOf('## Where to start');
    assert.ok(at > 0, 'no "## Where to start" section');
    const section = readme.slice(at, readme.indexOf('\n## ', at + 1));
    const answers = section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| to find') && !line.startsWith('|---'));
    assert.ok(answers.length >= 12, `only ${answers.length} questions answered`);
    // Each answer names a file or folder (the paths themselves are checked above, with every README's).
    assert.deepEqual(answers.filter((line) => pathSpans(line.split('|')[2] ?? '').length === 0 && !/\]\((docs\/[\w-]+\.md)/.test(line)), []);
  });
});

describe("the kit's plugins as the READMEs list them", () => {
  it('when a file of packages/kit/src/plugins is a plugin, then the README map and packages/kit/README.md name it (preconditions was in neither)', () => {
    const plugins = readdirSync(join(repoRoot, 'packages', 'kit', 'src', 'plugins'))
      .filter((name) => name.endsWith('.ts') && name !== 'names.ts')
      .map((name) => name.replace(/\.ts$/, '').replace(/-/g, ' '));
    assert.ok(plugins.length >= 10, `only ${plugins.length} plugins`);
    const kitRow = rows.find((line) => pathsIn(line.split('|')[1]).includes('packages/kit')) ?? '';
    const kitReadme = readFileSync(join(repoRoot, 'packages', 'kit', 'README.md'), 'utf8');
    const pluginsRow = kitReadme.split('\n').find((line) => line.startsWith('| `src/plugins/`')) ?? '';
    const unnamed = [
      ...plugins.filter((p) => !kitRow.toLowerCase().includes(p)).map((p) => `README.md: ${p}`),
      ...plugins.filter((p) => !pluginsRow.toLowerCase().includes(p)).map((p) => `packages/kit/README.md: ${p}`),
    ];
    assert.deepEqual(unnamed, []);
  });
});

describe("a service's migrations row", () => {
  it('when a service has migrations, then its README names the first and the newest (`001_init.sql` to `<newest>`)', () => {
    const stale: string[] = [];
    for (const svc of readdirSync(join(repoRoot, 'services')).filter((name) => existsSync(join(repoRoot, 'services', name, 'migrations')))) {
      const files = readdirSync(join(repoRoot, 'services', svc, 'migrations')).filter((name) => name.endsWith('.sql')).sort();
      const text = readFileSync(join(repoRoot, 'services', svc, 'README.md'), 'utf8');
      const row = text.split('\n').find((line) => line.startsWith('| `migrations/`')) ?? '';
      if (!row.includes(`\`${files[0]}\` to \`${files.at(-1)}\``)) stale.push(`services/${svc}: ${row || 'no migrations/ row'} (newest: ${files.at(-1)})`);
    }
    assert.ok(stale.length === 0, stale.join('\n'));
  });
});
