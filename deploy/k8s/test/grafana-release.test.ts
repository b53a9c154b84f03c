// The generated dashboards and the provisioning against the Grafana release compose and the manifests pin, as that
// release's source says it reads them (src/grafana-release.ts). Grafana skips migrations for a dashboard whose
// schemaVersion is newer than it knows and reads it as it is, so a dashboard from a newer schema loads, with
// options it may ignore or misread: the dashboards must be at most at the pinned release's newest schemaVersion,
// built with the foundation SDK made from that release line, with panel and data source types it ships.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseYaml, podTemplate, repoRoot, type K8sObject } from '../src/manifests.js';
import { grafanaReleases, grafanaTag, type GrafanaRelease } from '../src/grafana-release.js';
import { checkPanelSchema } from '../src/dashboard-schema.js';

const monitoringDir = join(repoRoot, 'deploy/monitoring');
const dashboardsDir = join(monitoringDir, 'grafana/dashboards');
const dashboards: Record<string, string> = Object.fromEntries(
  readdirSync(dashboardsDir).filter((f) => f.endsWith('.json')).sort().map((f) => [f, readFileSync(join(dashboardsDir, f), 'utf8')]),
);

interface PanelJson {
  type: string;
  title?: string;
  options?: Record<string, unknown>;
  fieldConfig?: { defaults?: { custom?: Record<string, unknown> } };
  panels?: PanelJson[];
}
interface DashboardJson {
  schemaVersion: unknown;
  panels?: PanelJson[];
}

/** Every image of grafana/grafana that compose and the base manifests run, by where it is. */
function pinnedImages(): Map<string, string> {
  const images = new Map<string, string>();
  const compose = parseYaml(readFileSync(join(repoRoot, 'deploy/docker/compose.yaml'), 'utf8'))[0] as { services: Record<string, { image?: string }> };
  for (const [name, service] of Object.entries(compose.services)) {
    if (service.image?.includes('grafana/grafana')) images.set(`compose ${name}`, service.image);
  }
  const baseDir = join(repoRoot, 'deploy/k8s/base');
  for (const file of readdirSync(baseDir).filter((f) => f.endsWith('.yaml'))) {
    for (const object of parseYaml(readFileSync(join(baseDir, file), 'utf8')) as K8sObject[]) {
      for (const c of podTemplate(object)?.spec.containers ?? []) {
        if (c.image?.includes('grafana/grafana')) images.set(`${file} ${object.metadata.name}/${c.name}`, c.image);
      }
    }
  }
  return images;
}

/** The release entry of the one Grafana every runtime pins. */
function pinnedRelease(): GrafanaRelease {
  const images = pinnedImages();
  assert.ok(images.size >= 2, `Grafana images found: ${[...images].join(', ')}`);
  const tags = new Set([...images.values()].map((image) => grafanaTag(image)));
  assert.equal(tags.size, 1, `compose and the manifests pin different Grafanas: ${[...images].map(([w, i]) => `${w}: ${i}`).join('; ')}`);
  const [tag] = [...tags];
  const release = grafanaReleases.find((r) => r.version === tag);
  assert.ok(release, `grafana/grafana:${tag} is not in src/grafana-release.ts: read its newest schemaVersion and plugins from its source first`);
  return release;
}

/** The dashboards whose schemaVersion is newer than `release` knows, as messages. */
function newerThanRelease(files: Readonly<Record<string, string>>, release: GrafanaRelease): string[] {
  return Object.entries(files).flatMap(([file, json]) => {
    const version = (JSON.parse(json) as DashboardJson).schemaVersion;
    return typeof version === 'number' && Number.isInteger(version) && version <= release.newestSchemaVersion
      ? []
      : [`${file}: schemaVersion ${JSON.stringify(version)}, newer than Grafana ${release.version} knows (${release.newestSchemaVersion}: ${release.newestSchemaVersionSource})`];
  });
}

function allPanels(json: string): PanelJson[] {
  return ((JSON.parse(json) as DashboardJson).panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}

test('compose and the manifests pin one Grafana release, and what its source says it reads is recorded', () => {
  const release = pinnedRelease();
  assert.ok(release.newestSchemaVersion > 0 && release.newestSchemaVersionSource.includes(`v${release.version}`));
});

test("no dashboard's schemaVersion is newer than the pinned Grafana's newest", () => {
  const release = pinnedRelease();
  assert.ok(Object.keys(dashboards).length >= 5, Object.keys(dashboards).join(', '));
  assert.deepEqual(newerThanRelease(dashboards, release), []);
});

test('the schemaVersion check fails for any dashboard newer than the release, and only then', async () => {
  const fc = (await import('fast-check')).default;
  const release = pinnedRelease();
  const sample = Object.values(dashboards)[0] ?? '{}';
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: release.newestSchemaVersion + 10 }), { minLength: 1, maxLength: 6 }), (versions) => {
      const files = Object.fromEntries(versions.map((v, i) => [`d${i}.json`, JSON.stringify({ ...JSON.parse(sample), schemaVersion: v })]));
      const newer = versions.filter((v) => v > release.newestSchemaVersion).length;
      assert.equal(newerThanRelease(files, release).length, newer);
    }),
    { numRuns: 200 },
  );
  // Not a number is not a version Grafana migrates from either.
  assert.equal(newerThanRelease({ 'x.json': '{"schemaVersion": "41"}' }, release).length, 1);
  // The previous pin and the dashboards it was given: 42 against 11.3.1's 39.
  const old = grafanaReleases.find((r) => r.version === '11.3.1');
  assert.ok(old);
  assert.equal(newerThanRelease({ 'old.json': '{"schemaVersion": 42}' }, old).length, 1);
});

test('the dashboards are built with the foundation SDK made from the pinned release line', () => {
  const release = pinnedRelease();
  assert.ok(release.foundationSdkLine, `no foundation SDK build for Grafana ${release.version}`);
  const declared = (JSON.parse(readFileSync(join(monitoringDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> })
    .dependencies['@grafana/grafana-foundation-sdk'];
  // Exact: a range could resolve to the 0.0.x line, which writes schemaVersion 42.
  assert.ok(declared?.startsWith(release.foundationSdkLine) && /^[\w.-]+$/.test(declared), `deploy/monitoring declares ${declared}`);
  // The package's exports leave out its package.json: found from a module of it, as the generator resolves it.
  let dir = dirname(createRequire(join(monitoringDir, 'package.json')).resolve('@grafana/grafana-foundation-sdk/dashboard'));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  const installed = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; version: string });
  assert.equal(installed.name, '@grafana/grafana-foundation-sdk');
  assert.equal(installed.version, declared);
});

test('every panel type and data source type the dashboards and the provisioning use ships with the pinned release', () => {
  const release = pinnedRelease();
  const panelTypes = new Set(Object.values(dashboards).flatMap((json) => allPanels(json).map((p) => p.type)));
  assert.deepEqual([...panelTypes].filter((t) => !release.panelTypes.includes(t)), []);
  const datasourceTypes = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const type = (node as { datasource?: { type?: unknown } }).datasource?.type;
    if (typeof type === 'string') datasourceTypes.add(type);
    Object.values(node).forEach(visit);
  };
  Object.values(dashboards).forEach((json) => visit(JSON.parse(json)));
  const provisioning = readFileSync(join(monitoringDir, 'grafana/provisioning/datasources/datasources.yml'), 'utf8');
  for (const doc of parseYaml(provisioning) as { datasources?: { type: string }[] }[]) for (const d of doc.datasources ?? []) datasourceTypes.add(d.type);
  assert.ok(['prometheus', 'alertmanager', 'jaeger'].every((t) => datasourceTypes.has(t)), [...datasourceTypes].join(', '));
  assert.deepEqual([...datasourceTypes].filter((t) => !release.datasourceTypes.includes(t)), []);
});

test("every panel's options and custom field config are in its panel type's schema (the SDK build of the pinned release line)", () => {
  assert.deepEqual(checkPanelSchema(dashboards), []);
});

test('the panel schema check reports an unknown option, a wrong type, an unknown custom field and an unchecked panel type', () => {
  const [file, json] = Object.entries(dashboards).find(([, j]) => allPanels(j).some((p) => p.type === 'timeseries')) ?? [];
  assert.ok(file && json);
  const cases: [string, (panel: PanelJson) => void, RegExp][] = [
    ['an option the panel does not have', (p) => void ((p.options ??= {})['legendz'] = true), /legendz/],
    ['an option of the wrong type', (p) => void ((p.options ??= {})['legend'] = { showLegend: 'yes' }), /'string' is not assignable to type 'boolean/],
    ['a custom field the panel does not have', (p) => void (((p.fieldConfig ??= {}).defaults ??= {}).custom = { fillOpacityz: 10 }), /fillOpacityz/],
    ['a panel type with no schema here', (p) => void (p.type = 'barchart'), /no schema checked for panel type "barchart"/],
  ];
  for (const [what, mutate, message] of cases) {
    const dashboard = JSON.parse(json) as DashboardJson;
    const panel = (dashboard.panels ?? []).find((p) => p.type === 'timeseries');
    assert.ok(panel);
    mutate(panel);
    const problems = checkPanelSchema({ [file]: JSON.stringify(dashboard) }).map((p) => p.message);
    assert.ok(problems.length > 0, `${what}: accepted`);
    assert.match(problems.join('\n'), message, what);
  }
});
