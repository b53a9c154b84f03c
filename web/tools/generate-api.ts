// `npm run api -w web`: regenerates web/src/api/*.ts from a platform it starts on spare ports
// (or from WEB_OPENAPI_URL, e.g. http://127.0.0.1:8080, when one is running).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SERVICES, fetchDoc, renderTypes } from './openapi-types.js';
import { apiDir } from './paths.js';
import { startOwnStack } from './stack.js';

const given = process.env.WEB_OPENAPI_URL?.replace(/\/$/, '');
const stack = given ? undefined : await startOwnStack({ SEED_DEMO_DATA: 'false' });
try {
  const gateway = given ?? stack!.urls.gateway;
  for (const service of SERVICES) {
    const file = path.join(apiDir, `${service}.ts`);
    await writeFile(file, await renderTypes(service, await fetchDoc(gateway, service)));
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
} finally {
  await stack?.stop();
}
