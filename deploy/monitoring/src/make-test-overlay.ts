// Usage: node deploy/monitoring/dist/src/make-test-overlay.js [outDir]
// Env: OVERLAY_FACTOR, ALERT_WEBHOOK_URL override the defaults.
import path from 'node:path';
import { defaultOverlayDir } from './paths.js';
import { defaultOverlayOptions, writeTestOverlay } from './overlay.js';

const outDir = path.resolve(process.argv[2] ?? defaultOverlayDir);
const factor = Number(process.env.OVERLAY_FACTOR ?? defaultOverlayOptions.factor);
if (!Number.isFinite(factor) || factor < 1) throw new Error('OVERLAY_FACTOR must be a number >= 1');
const written = await writeTestOverlay(outDir, {
  ...defaultOverlayOptions,
  factor,
  webhookUrl: process.env.ALERT_WEBHOOK_URL ?? defaultOverlayOptions.webhookUrl,
});
for (const file of written) console.log(path.relative(process.cwd(), file));
