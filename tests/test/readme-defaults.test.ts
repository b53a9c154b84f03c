// The README's numbers a newcomer acts on without reading code: the defaults of its "Configuration" table (the
// ports `npm start` asks for, the admin it makes, the services' own defaults), the supervisor's back-off and
// crash-loop limit, and the Postman environment it says to import and fill in with two values. Each is read from
// the README and compared with what the code does, so a change to either side alone fails here.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { GatewayEnv } from '@ecommerce/gateway-service/config';
import { OrderEnv } from '@ecommerce/order-service/config';
import { ProductEnv } from '@ecommerce/product-service/config';
import { UserEnv } from '@ecommerce/user-service/config';
import { repoRoot } from '../src/paths.js';

interface StackDefaults {
  DEFAULT_PORTS: Record<string, number>;
  DEFAULT_ADMIN_EMAIL: string;
  ORDER_CLIENT_ID: string;
  SUPERVISION: { initialDelayMs: number; maxDelayMs: number; resetAfterMs: number; crashLoopLimit: number };
  backoffDelay: (exits: number) => number;
  localSecrets: (dataDir: string) => Record<string, string>;
}
const stack = async () => (await import(pathToFileURL(join(repoRoot, 'scripts', 'stack.js')).href)) as StackDefaults;
const { defaultDataDir } = (await import(pathToFileURL(join(repoRoot, 'scripts', 'platform-lock.js')).href)) as { defaultDataDir: (env: NodeJS.ProcessEnv) => string };

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const section = (heading: string) => {
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has no "${heading}"`);
  const end = readme.indexOf('\n## ', start + heading.length + 2);
  return readme.slice(start, end < 0 ? undefined : end);
};
/** The README's "Configuration" table as { names, defaults }: the code spans of its first two cells. */
const configRows = section('## Configuration')
  .split('\n')
  .filter((line) => line.startsWith('| `'))
  .map((line) => {
    const [, names = '', defaults = ''] = line.split('|');
    const spans = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
    return { names: spans(names), defaults: defaults.trim(), defaultSpans: spans(defaults) };
  });
const row = (name: string) => {
  const found = configRows.find((r) => r.names.includes(name));
  assert.ok(found, `the README's Configuration table has no row for ${name}`);
  return found;
};

describe("the README's Configuration table", () => {
  it('when it gives the ports npm start asks for, then they are the ones the start asks for, variable by variable', async () => {
    const { DEFAULT_PORTS } = await stack();
    const ports = row('GATEWAY_PORT');
    const said = ports.defaults.split(/,\s*/).map(Number);
    assert.equal(said.length, ports.names.length, `${ports.names.length} variables, ${said.length} defaults: "${ports.defaults}"`);
    assert.deepEqual(Object.fromEntries(ports.names.map((name, i) => [name, said[i]])), DEFAULT_PORTS);
  });

  it('when it gives the admin npm start ensures, then that is the email the start gives the user service', async () => {
    const { DEFAULT_ADMIN_EMAIL } = await stack();
    assert.equal(row('ADMIN_EMAIL').defaultSpans[0], DEFAULT_ADMIN_EMAIL);
  });

  it("when it gives a service variable's default, then every process that reads it applies that default", () => {
    const schemas: Record<string, Record<string, { default?: unknown }>> = { user: UserEnv, product: ProductEnv, order: OrderEnv, gateway: GatewayEnv };
    const checked: string[] = [];
    for (const name of ['SEED_DEMO_DATA', 'LOG_LEVEL']) {
      const said = row(name).defaultSpans[0];
      for (const [process, schema] of Object.entries(schemas)) {
        if (!(name in schema)) continue;
        assert.equal(String(schema[name]?.default), said, `${name} in ${process}`);
        checked.push(`${name}/${process}`);
      }
    }
    assert.ok(checked.length >= 5, `only ${checked.join(', ')}`);
  });

  it('when it says where local data lives (.data/), then npm start keeps it there when DATA_DIR is unset', () => {
    assert.match(readme, /Local data \(embedded database, generated secrets, logs\) lives in `\.data\/`/);
    assert.equal(defaultDataDir({}), join(repoRoot, '.data'));
    // Set empty (`DATA_DIR=` in an env file) is unset too, as in the services' config: it was the working folder.
    assert.equal(defaultDataDir({ DATA_DIR: '' }), join(repoRoot, '.data'));
  });
});

describe("docs/configuration.md's npm start defaults", () => {
  it('when it gives the ports npm start asks for, then they are the ones the README gives and the start asks for', async () => {
    const { DEFAULT_PORTS } = await stack();
    const doc = readFileSync(join(repoRoot, 'docs', 'configuration.md'), 'utf8').replace(/\s+/g, ' ');
    const said = /`USER_PORT`, `PRODUCT_PORT`, `ORDER_PORT`, `GATEWAY_PORT` \((\d+)-(\d+), (\d+)\), `GATEWAY_METRICS_PORT` \((\d+)\) and `EMBEDDED_PG_PORT` \((\d+)\)/.exec(doc);
    assert.ok(said, 'docs/configuration.md no longer says "`USER_PORT`, ..., `GATEWAY_PORT` (<a>-<c>, <g>), `GATEWAY_METRICS_PORT` (<m>) and `EMBEDDED_PG_PORT` (<p>)"');
    const [from, to, gateway, metrics, pg] = said.slice(1).map(Number);
    assert.deepEqual(
      { USER_PORT: from, PRODUCT_PORT: (from ?? 0) + 1, ORDER_PORT: to, GATEWAY_PORT: gateway, GATEWAY_METRICS_PORT: metrics, EMBEDDED_PG_PORT: pg },
      DEFAULT_PORTS,
    );
    assert.equal((to ?? 0) - (from ?? 0), 2, 'three service ports');
  });
});

describe('the npm scripts the Markdown names', () => {
  it('when a README or a page of docs/ says `npm run <script>` (or `npm run <script> -w <workspace>`), then that package.json has the script', () => {
    const pages = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    for (const top of ['packages', 'services', 'deploy']) for (const d of readdirSync(join(repoRoot, top))) if (existsSync(join(repoRoot, top, d, 'README.md'))) pages.push(`${top}/${d}/README.md`);
    for (const d of ['postman', 'web', 'tests']) if (existsSync(join(repoRoot, d, 'README.md'))) pages.push(`${d}/README.md`);
    const scriptsOf = (dir: string) => Object.keys((JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {});
    const missing: string[] = [];
    let named = 0;
    for (const page of pages) {
      for (const m of readFileSync(join(repoRoot, page), 'utf8').matchAll(/npm run ([\w:-]+)(?: -w ([\w@/.-]+))?/g)) {
        named++;
        const workspace = m[2] === undefined ? '.' : m[2].replace(/^@ecommerce\//, '');
        if (!existsSync(join(repoRoot, workspace, 'package.json'))) missing.push(`${page}: npm run ${m[1]} -w ${m[2]} (no such workspace folder)`);
        else if (!scriptsOf(workspace).includes(m[1] ?? '')) missing.push(`${page}: npm run ${m[1]}${m[2] ? ` -w ${m[2]}` : ''}`);
      }
    }
    assert.ok(named >= 20, `only ${named} read`);
    assert.deepEqual(missing, []);
  });
});

describe("the README's supervision of npm start", () => {
  const said = /back-off \((\d+(?:\.\d+)?) s doubling to (\d+) s, back to (\d+(?:\.\d+)?) s after a minute up\)/.exec(readme.replace(/\s+/g, ' '));
  it('when it says the back-off (0.5 s doubling to 30 s, back to 0.5 s after a minute up), then the supervisor waits that long', async () => {
    assert.ok(said, 'README no longer says "back-off (<a> s doubling to <b> s, back to <a> s after a minute up)"');
    const { SUPERVISION, backoffDelay } = await stack();
    const [first, max, again] = [said[1], said[2], said[3]].map((s) => Number(s) * 1000);
    const waits = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((exits) => backoffDelay(exits));
    assert.equal(waits[0], first);
    for (let i = 1; i < waits.length - 1; i++) assert.equal(waits[i], Math.min(max ?? 0, 2 * (waits[i - 1] ?? 0)), `after exit ${i + 1}: ${waits.join(', ')}`);
    assert.equal(Math.max(...waits), max, 'capped at the README maximum, and reaching it');
    assert.equal(again, first);
    assert.equal(SUPERVISION.resetAfterMs, 60_000, 'a minute up resets the back-off');
    // The README's example line is what the first exit says.
    assert.match(readme, new RegExp(`restarting in ${String(backoffDelay(1) / 1000).replace('.', '\\.')} s\``));
  });

  it('when it says a child dying N times in a row before becoming ready is a crash loop, then N is the limit', async () => {
    const n = /when a child dies (\d+) times in a row before becoming ready \(a crash loop\)/.exec(readme.replace(/\s+/g, ' '));
    assert.ok(n, 'README no longer says "when a child dies <n> times in a row before becoming ready (a crash loop)"');
    assert.equal((await stack()).SUPERVISION.crashLoopLimit, Number(n[1]));
  });
});

describe("the README's Monitoring section", () => {
  const monitoring = async () =>
    (await import(pathToFileURL(join(repoRoot, 'deploy', 'monitoring', 'dist', 'src', 'stack.js')).href)) as {
      PORTS: { prometheus: number; alertmanager: number };
      TARGET_PORTS: { user: number; product: number; order: number; gateway: number };
    };
  it('when it gives the ports npm run monitoring serves Prometheus and Alertmanager on, then they are the ones it takes', async () => {
    const said = /starts Prometheus \(http:\/\/127\.0\.0\.1:(\d+)\),\s+Alertmanager \(:(\d+)\)/.exec(section('## Monitoring'));
    assert.ok(said, 'README no longer says "starts Prometheus (http://127.0.0.1:<port>), Alertmanager (:<port>)"');
    const { PORTS } = await monitoring();
    assert.deepEqual([Number(said[1]), Number(said[2])], [PORTS.prometheus, PORTS.alertmanager]);
  });

  it('when it gives the alert webhook\'s URL and the OTLP receiver\'s port, then they are the ones npm run monitoring serves by default', async () => {
    const said = /an alert webhook \((http:\/\/[^\s)]+) lists what Alertmanager sent\) and an OTLP trace receiver \(:(\d+)\)/.exec(section('## Monitoring').replace(/\s+/g, ' '));
    assert.ok(said, 'README no longer says "an alert webhook (<url> lists what Alertmanager sent) and an OTLP trace receiver (:<port>)"');
    const { DEFAULT_WEBHOOK_URL, otlpReceiverPort } = (await monitoring()) as unknown as { DEFAULT_WEBHOOK_URL: string; otlpReceiverPort: (env: NodeJS.ProcessEnv) => number };
    assert.equal(said[1], DEFAULT_WEBHOOK_URL);
    const script = readFileSync(join(repoRoot, 'scripts', 'monitoring.js'), 'utf8');
    assert.match(script, /port: otlpReceiverPort\(\)/, 'scripts/monitoring.js no longer starts the receiver on otlpReceiverPort()');
    assert.equal(Number(said[2]), otlpReceiverPort({}));
  });

  it('when it (or a page of docs/) says where the trace receiver writes its waterfalls, then that is the file npm run monitoring appends them to', async () => {
    const { DEFAULT_DATA_DIR, tracesLogOf } = (await monitoring()) as unknown as { DEFAULT_DATA_DIR: string; tracesLogOf: (dataDir: string) => string };
    const script = readFileSync(join(repoRoot, 'scripts', 'monitoring.js'), 'utf8');
    assert.match(script, /const tracesLog = tracesLogOf\(stack\.dataDir\);/, 'scripts/monitoring.js no longer writes the traces to tracesLogOf(stack.dataDir)');
    assert.match(script, /startMonitoringStack\(\{(?![^}]*dataDir)[^}]*\}\)/, 'scripts/monitoring.js gives the stack a data folder of its own, not the default');
    const said = new Set<string>();
    for (const file of ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))]) {
      for (const [path] of readFileSync(join(repoRoot, file), 'utf8').matchAll(/\.data\/[\w./-]*traces\.log/g)) said.add(path);
    }
    assert.match(section('## Monitoring'), /`\.data\/monitoring\/traces\.log`/, 'README no longer says where the traces are written');
    assert.deepEqual([...said].map((p) => join(repoRoot, p)), [tracesLogOf(DEFAULT_DATA_DIR)]);
  });

  it("when docs/monitoring.md says which taken ports fail npm run monitoring's start, then those are the ones it checks (PORT_VARIABLES, at their defaults), and the OTLP receiver's is said not to", async () => {
    // It said a taken OTLP_RECEIVER_PORT failed the start too; the start goes on without the receiver
    // ("OTLP receiver not started: listen EADDRINUSE ...", scripts/monitoring.js), as docs/tracing.md says.
    const { PORTS, PORT_VARIABLES } = (await monitoring()) as unknown as { PORTS: Record<string, number>; PORT_VARIABLES: Record<string, string> };
    const doc = readFileSync(join(repoRoot, 'docs', 'monitoring.md'), 'utf8');
    const bullets = doc.split('\n- ').map((b) => b.split('\n\n')[0]?.replace(/\s+/g, ' ') ?? '');
    const failing = bullets.filter((b) => /A taken port fails the start at once/.test(b));
    assert.equal(failing.length, 1, 'docs/monitoring.md has one bullet saying "A taken port fails the start at once"');
    const names = [...(failing[0] ?? '').matchAll(/`([A-Z][A-Z_]*_PORT)`/g)].map((m) => m[1]);
    const ports = /\((\d+(?:, \d+)*)\)/.exec(failing[0] ?? '')?.[1]?.split(', ').map(Number);
    assert.deepEqual(names, Object.values(PORT_VARIABLES));
    assert.deepEqual(ports, Object.keys(PORT_VARIABLES).map((key) => PORTS[key]));
    const otlp = bullets.find((b) => b.startsWith('`OTLP_RECEIVER_PORT`'));
    assert.match(otlp ?? '', /does not fail the start/);
    const script = readFileSync(join(repoRoot, 'scripts', 'monitoring.js'), 'utf8');
    assert.match(script, /OTLP receiver not started: .*OTLP_RECEIVER_PORT/, 'the message names the variable that moves it, as the doc says');
  });

  it('when a block of the Markdown runs both npm start and npm run monitoring, then npm start comes first (monitoring reads its .data/stack.json once, at start)', () => {
    // docs/tracing.md started npm run monitoring first: in a fresh checkout it then ran without postgres_exporter
    // ("no database URL (MONITORING_DATABASE_URL, DATABASE_URL or .data/stack.json)").
    const pages = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), 'deploy/monitoring/README.md'];
    const wrong: string[] = [];
    let both = 0;
    for (const page of pages) {
      for (const [, body = ''] of readFileSync(join(repoRoot, page), 'utf8').matchAll(/```(?:bash|sh)?\n([\s\S]*?)```/g)) {
        const lines = body.split('\n');
        const start = lines.findIndex((l) => /(^|\s)npm start\b/.test(l.replace(/#.*/, '')));
        const monitoring = lines.findIndex((l) => /^npm run monitoring\b/.test(l.replace(/#.*/, '').trim()));
        if (start < 0 || monitoring < 0) continue;
        both++;
        if (monitoring < start) wrong.push(`${page}: ${lines[monitoring]}`);
      }
    }
    assert.ok(both >= 2, `only ${both} blocks run both`);
    assert.deepEqual(wrong, []);
  });

  it('when npm run monitoring finds no running stack to read, then it scrapes the ports npm start takes by default', async () => {
    const [{ TARGET_PORTS }, { DEFAULT_PORTS }] = await Promise.all([monitoring(), stack()]);
    assert.deepEqual(TARGET_PORTS, { user: DEFAULT_PORTS.USER_PORT, product: DEFAULT_PORTS.PRODUCT_PORT, order: DEFAULT_PORTS.ORDER_PORT, gateway: DEFAULT_PORTS.GATEWAY_METRICS_PORT });
  });
});

describe("the README's Postman instructions", () => {
  const postman = section('## Using the API');
  const env = JSON.parse(readFileSync(join(repoRoot, 'postman', 'local.postman_environment.json'), 'utf8')) as { values: { key: string; value: string }[] };
  const value = (key: string) => env.values.find((v) => v.key === key)?.value;

  it('when it says which values of the environment to set, then the environment has them, and the rest already match what npm start makes', async () => {
    const { DEFAULT_ADMIN_EMAIL, DEFAULT_PORTS, ORDER_CLIENT_ID } = await stack();
    for (const key of ['adminPassword', 'serviceClientSecret', 'baseUrl']) {
      assert.match(postman, new RegExp(`\`${key}\``), `README no longer names ${key}`);
      assert.notEqual(value(key), undefined, `postman/local.postman_environment.json has no ${key}`);
    }
    assert.equal(value('baseUrl'), `http://127.0.0.1:${DEFAULT_PORTS.GATEWAY_PORT}`, 'baseUrl: "set baseUrl too when the gateway is not on port 8080"');
    assert.match(postman, new RegExp(`not on port ${DEFAULT_PORTS.GATEWAY_PORT}\\b`));
    assert.equal(value('adminEmail'), DEFAULT_ADMIN_EMAIL, 'the admin npm start makes when ADMIN_EMAIL is unset');
    assert.equal(value('serviceClientId'), ORDER_CLIENT_ID, 'the client npm start registers for the order service');
  });

  it('when it says the service secret is orderClientSecret in .data/secrets.json, then npm start keeps it there (and the admin password), readable only by its owner', async () => {
    const key = /`serviceClientSecret` to `(\w+)` in `\.data\/(secrets\.json)`/.exec(postman.replace(/\s+/g, ' '));
    assert.ok(key, 'README no longer says "`serviceClientSecret` to `<key>` in `.data/secrets.json`"');
    const { localSecrets } = await stack();
    const dir = mkdtempSync(join(tmpdir(), 'readme-secrets-'));
    try {
      const made = localSecrets(dir);
      const file = join(dir, key[2] ?? '');
      const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      assert.equal(typeof stored[key[1] ?? ''], 'string');
      assert.equal(stored[key[1] ?? ''], made.orderClientSecret, 'the secret npm start gives the order service');
      assert.equal(stored.adminPassword, made.adminPassword);
      assert.equal(statSync(file).mode & 0o077, 0, 'no access for group or others');
      // The README's JWT_PRIVATE_KEY row: "generated once into `.data/` by `npm start`", an Ed25519 key.
      assert.equal(made.keyFile, join(dir, 'jwt-private.pem'));
      const signingKey = createPrivateKey(readFileSync(made.keyFile ?? ''));
      assert.equal(signingKey.asymmetricKeyType, 'ed25519');
      assert.match(row('JWT_PRIVATE_KEY').defaults, /generated once into `\.data\/` by `npm start`/);
      // A second start keeps them (sessions, the signing key and the Postman environment stay valid).
      const again = localSecrets(dir);
      assert.equal(again.orderClientSecret, made.orderClientSecret);
      assert.equal(readFileSync(again.keyFile ?? '', 'utf8'), readFileSync(made.keyFile ?? '', 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("postman/README.md's pace against npm start", () => {
  // It said "10 registrations and 30 logins per address and minute ... at most twice a minute" long after the
  // user service's budgets became 100 and 200, and it never counted the failed logins, whose own limit per address
  // (50 in 15 minutes) is the one a repeated run meets first.
  const text = readFileSync(join(repoRoot, 'postman', 'README.md'), 'utf8').replace(/\s+/g, ' ');
  interface Item { name: string; item?: Item[]; request?: { method: string; url: { path: string[] } }; event?: { listen: string; script: { exec: string[] } }[] }
  const collection = JSON.parse(readFileSync(join(repoRoot, 'postman', 'ecommerce.postman_collection.json'), 'utf8')) as { item: Item[] };
  const requests: Item[] = [];
  const walk = (items: Item[]) => items.forEach((item) => (item.item ? walk(item.item) : requests.push(item)));
  walk(collection.item);
  const to = (method: string, path: string) => requests.filter((r) => r.request?.method === method && `/${r.request.url.path.join('/')}` === path);
  const expects = (r: Item, status: number) => (r.event ?? []).some((e) => e.listen === 'test' && e.script.exec.join('\n').includes(`to.have.status(${status})`));
  const defaultOf = (name: string) => Number((UserEnv as unknown as Record<string, { default?: unknown }>)[name]?.default);

  it('when it counts the registrations, logins and failed logins of one run, then the collection sends that many', () => {
    const said = /One run sends (\d+) registrations .*? and (\d+) logins \((\d+) of them failed/.exec(text);
    assert.ok(said, 'postman/README.md no longer says "One run sends <n> registrations ... and <m> logins (<f> of them failed"');
    const logins = to('POST', '/user/login');
    assert.deepEqual(
      { registrations: Number(said[1]), logins: Number(said[2]), failed: Number(said[3]) },
      { registrations: to('POST', '/user/register').length, logins: logins.length, failed: logins.filter((r) => expects(r, 401)).length },
    );
  });

  it("when it gives npm start's budgets and how often a run may be repeated, then they are the user service's defaults (npm start sets none) and the pace they allow", () => {
    const budgets = /\(the user service's defaults: (\d+) registrations and (\d+) logins per address and minute, and (\d+) failed logins per address in (\d+) minutes\) run it at most (\d+) times in (\d+) minutes/.exec(text);
    assert.ok(budgets, "postman/README.md no longer gives npm start's budgets in the words this test reads");
    const [registrations, logins, failures, failureMinutes, runs, runMinutes] = budgets.slice(1).map(Number);
    assert.deepEqual(
      { registrations, logins, perSeconds: 60, failures, failureSeconds: (failureMinutes ?? 0) * 60 },
      {
        registrations: defaultOf('REGISTER_MAX_PER_ADDRESS'),
        logins: defaultOf('LOGIN_MAX_PER_ADDRESS'),
        perSeconds: defaultOf('AUTH_RATE_WINDOW_SECONDS'),
        failures: defaultOf('LOGIN_MAX_FAILURES_PER_ADDRESS'),
        failureSeconds: defaultOf('LOGIN_FAILURE_WINDOW_SECONDS'),
      },
    );
    const stackSource = readFileSync(join(repoRoot, 'scripts', 'stack.js'), 'utf8');
    for (const name of ['REGISTER_MAX_PER_ADDRESS', 'LOGIN_MAX_PER_ADDRESS', 'LOGIN_MAX_FAILURES_PER_ADDRESS', 'AUTH_RATE_WINDOW_SECONDS', 'LOGIN_FAILURE_WINDOW_SECONDS']) {
      assert.ok(!stackSource.includes(name), `npm start (scripts/stack.js) sets ${name}: the README's "defaults" are not what it runs with`);
    }
    // The pace it gives is the one the failed logins allow: every run in the window but the last keeps its 401s.
    const failed = to('POST', '/user/login').filter((r) => expects(r, 401)).length;
    assert.ok(failed > 0, 'the collection sends failed logins');
    assert.equal(runMinutes, failureMinutes, 'the pace is given over the failed logins window');
    assert.equal(runs, Math.floor((failures ?? 0) / failed), `${failures} failed logins per window, ${failed} per run`);
  });
});

describe("the README's counts of what the repository holds", () => {
  const flat = readme.replace(/\s+/g, ' ');
  const WORDS: Record<string, number> = { one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10 };
  const count = (said: string) => WORDS[said.toLowerCase()] ?? Number(said.replace(/,/g, ''));

  it('when it counts the Grafana dashboards (5, "the five"), then that many are generated into deploy/monitoring/grafana/dashboards', () => {
    const said = [...flat.matchAll(/\b(\d+|[a-z]+) Grafana dashboards\b/gi)].map((m) => count(m[1] ?? ''));
    assert.ok(said.length >= 2, `only ${said.length} counts of the dashboards read`);
    const generated = readdirSync(join(repoRoot, 'deploy', 'monitoring', 'grafana', 'dashboards')).filter((f) => f.endsWith('.json'));
    assert.deepEqual([...new Set(said)], [generated.length], `the README says ${said.join(', ')}; generated: ${generated.join(', ')}`);
  });

  it('when it says which Kubernetes manifests are generated (not written by hand), then those are what deploy/k8s/src/generate-configmaps.ts writes, as many as it says', async () => {
    const { renderGenerated } = (await import(pathToFileURL(join(repoRoot, 'deploy', 'k8s', 'dist', 'src', 'generate-configmaps.js')).href)) as { renderGenerated: () => Record<string, string> };
    const generated = renderGenerated();
    const said = /written by hand \(only the (\w+) monitoring (ConfigMaps|files)(.*?) are generated/.exec(flat);
    assert.ok(said, 'README no longer says "written by hand (only the <n> monitoring ConfigMaps|files ... are generated"');
    const [, number = '', what, named = ''] = said;
    // ConfigMaps: every one the generator writes counts; files: the files it writes, each named.
    const configMaps = Object.values(generated).flatMap((text) => text.match(/^kind: ConfigMap$/gm) ?? []).length;
    assert.equal(count(number), what === 'files' ? Object.keys(generated).length : configMaps, `the README says "${said[0]}"; the generator writes ${Object.keys(generated).join(', ')} with ${configMaps} ConfigMaps`);
    const names = [...named.matchAll(/`deploy\/k8s\/base\/([\w.-]+\.yaml)`/g)].map((m) => m[1]);
    assert.deepEqual(names.sort(), Object.keys(generated).sort());
    // The ones it says are written by hand are not generated.
    const row = readme.split('\n').find((line) => line.includes(said[0].slice(0, 20))) ?? '';
    for (const [, file] of row.split('written by hand')[0]!.matchAll(/`deploy\/k8s\/base\/([\w.-]+\.yaml)`/g)) assert.ok(!(file! in generated), `${file} is said to be written by hand`);
  });

  it('when it says how many requests the fuzz suite sends on every npm test, then that is its default (FUZZ_REQUESTS unset)', () => {
    const said = [...flat.matchAll(/sends ([\d,]+) requests|the fuzz suite [^|]*?\(([\d,]+) requests\)/g)].map((m) => count(m[1] ?? m[2] ?? ''));
    assert.ok(said.length >= 2, `only ${said.length} counts of the fuzz requests read`);
    const source = readFileSync(join(repoRoot, 'tests', 'test', 'fuzz.test.ts'), 'utf8');
    const fallback = /process\.env\.FUZZ_REQUESTS \?\? ([\d_]+)\)/.exec(source);
    assert.ok(fallback, 'tests/test/fuzz.test.ts no longer reads "process.env.FUZZ_REQUESTS ?? <n>"');
    assert.deepEqual([...new Set(said)], [Number((fallback[1] ?? '').replace(/_/g, ''))]);
  });
});
