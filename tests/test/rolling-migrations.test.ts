// docs/deploy.md, "Rolling updates and migrations": a new pod runs its service's migrations at start-up while the
// previous release's pods keep serving on the same schema and keep calling the other services. A statement that takes
// something the previous release still uses (a DROP, a RENAME, a changed type, a NOT NULL it does not write) or locks
// a table the previous release writes for longer than a moment (a rewrite, an index built without CONCURRENTLY, a
// whole-table UPDATE, a validated constraint) must say, in a `-- Rolling update:` comment of its migration, why the
// previous release keeps working and what it sees meanwhile. A static check, so it runs in npm test without building
// an older commit.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../src/paths.js';

const RISKY: { what: string; pattern: RegExp }[] = [
  { what: 'DROP (a table, column, function, index, type, constraint or view the previous release may use)', pattern: /\bDROP\s+(TABLE|COLUMN|FUNCTION|INDEX|TYPE|CONSTRAINT|VIEW|TRIGGER)\b/i },
  { what: 'RENAME', pattern: /\bRENAME\b/i },
  { what: 'a column type changed', pattern: /\bALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE\b/i },
  { what: 'SET NOT NULL', pattern: /\bSET\s+NOT\s+NULL\b/i },
  { what: 'a stored generated column (a table rewrite under ACCESS EXCLUSIVE)', pattern: /\bGENERATED\s+ALWAYS\s+AS\s*\([\s\S]*?\bSTORED\b/i },
  { what: 'an index built without CONCURRENTLY on a table of an earlier migration (blocks writes while it builds)', pattern: /\bCREATE\s+(UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY)(IF\s+NOT\s+EXISTS\s+)?\w+\s+ON\s+(\w+)/i },
  { what: 'an UPDATE or DELETE of existing rows (row locks on them until the migration commits)', pattern: /^\s*(UPDATE|DELETE\s+FROM)\s+(\w+)/im },
  { what: 'a constraint validated on existing rows (ADD CONSTRAINT without NOT VALID)', pattern: /\bADD\s+CONSTRAINT\b(?![^;]*\bNOT\s+VALID\b)/i },
];

/** The SQL without comments and with dollar-quoted bodies emptied (a function body holds statements of its own). */
function code(sql: string): string {
  return sql.replace(/--[^\n]*/g, '').replace(/\$\$[\s\S]*?\$\$/g, '$$$$');
}

const migrationFiles = readdirSync(join(repoRoot, 'services'))
  .map((svc) => join(repoRoot, 'services', svc, 'migrations'))
  .filter((dir) => existsSync(dir))
  .flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.sql')).sort().map((f) => join(dir, f)));

describe('migrations are safe while the previous release serves (rolling update)', () => {
  it('every migration after the first that drops, renames, retypes, rewrites or locks what the previous release uses says why that is safe in a "-- Rolling update:" comment', () => {
    assert.ok(migrationFiles.length > 10, `found ${migrationFiles.length} migration files`);
    const missing: string[] = [];
    for (const file of migrationFiles) {
      if (/[/\\]001_[^/\\]*\.sql$/.test(file)) continue; // the first release: no previous release to serve
      const sql = readFileSync(file, 'utf8');
      const created = new Set([...sql.matchAll(/\bCREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(\w+)/gi)].map((m) => m[2]!.toLowerCase()));
      const hits = new Set<string>();
      for (const { what, pattern } of RISKY) {
        for (const m of code(sql).matchAll(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`))) {
          // An index or an UPDATE on a table this very migration creates locks nothing anyone uses yet.
          const table = (what.startsWith('an index') ? m[3] : what.startsWith('an UPDATE') ? m[2] : undefined)?.toLowerCase();
          if (!table || !created.has(table)) hits.add(what);
        }
      }
      if (hits.size > 0 && !/^--\s*Rolling update:/im.test(sql)) missing.push(`${file.slice(repoRoot.length)}: ${[...hits].join('; ')}`);
    }
    assert.deepEqual(missing, [], 'migrations without a "-- Rolling update:" note (docs/deploy.md, "Rolling updates and migrations")');
  });
});
