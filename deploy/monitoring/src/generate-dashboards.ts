// Writes grafana/dashboards/*.json from src/dashboards. Run through the root
// script `npm run dashboards`; the dashboards test fails when the committed
// files differ from this output.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { allDashboards, renderDashboard } from './dashboards/index.js';
import { dashboardsDir } from './paths.js';

await mkdir(dashboardsDir, { recursive: true });
const generated = allDashboards();
const keep = new Set(generated.map((d) => d.file));
// A dashboard removed from the code must leave the provisioned folder too.
for (const name of await readdir(dashboardsDir)) {
  if (name.endsWith('.json') && !keep.has(name)) await rm(path.join(dashboardsDir, name));
}
for (const { file, dashboard } of generated) {
  await writeFile(path.join(dashboardsDir, file), renderDashboard(dashboard));
  console.log(`wrote ${path.relative(process.cwd(), path.join(dashboardsDir, file))}`);
}
