// `npm run lighthouse -w web`: the scores of docs/web.md, on a platform it starts on spare ports
// (or WEB_URL, e.g. http://127.0.0.1:8080, when one runs). Heavy: run under flock /tmp/ecommerce-heavy.lock.
import { audit, table } from './lighthouse.js';
import { startOwnStack } from './stack.js';

const given = process.env.WEB_URL?.replace(/\/$/, '');
const stack = given ? undefined : await startOwnStack({ SEED_DEMO_DATA: 'true' });
try {
  const base = given ?? stack!.urls.gateway;
  const list = (await (await fetch(`${base}/product?q=keyboard`)).json()) as { items: { id: string }[] };
  const scores = await audit({ home: `${base}/`, product: `${base}/products/${list.items[0]!.id}` }, { attempts: 5, target: 95 });
  console.log(table(scores));
  for (const s of scores) if (s.failedAudits.length) console.log(`${s.page}/${s.preset} audits below 0.9: ${s.failedAudits.join(', ')}`);
} finally {
  await stack?.stop();
}
