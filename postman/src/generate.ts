// `npm run postman`: regenerates the collection and the environment from the OpenAPI documents of a
// running platform (POSTMAN_OPENAPI_URL, e.g. http://127.0.0.1:8080) or of one it starts on free ports.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildCollection, buildEnvironment, render } from './collection.js';
import { FLOW } from './flow.js';
import { fetchOpenApiDocs, type OpenApiDocs } from './openapi.js';
import { collectionPath, environmentPath, repoRoot } from './paths.js';
import { startStack } from './stack.js';
import { dropDatabase } from '@ecommerce/kit';

async function docsFromOwnStack(): Promise<OpenApiDocs> {
  // On a shared server (DATABASE_URL), a throwaway database of its own, dropped afterwards.
  const database = process.env.DATABASE_URL ? `postman_generate_${process.pid}` : undefined;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(database ? { DATABASE_NAME: database } : {}),
    SEED_DEMO_DATA: 'false',
    LOG_LEVEL: 'warn',
  };
  const stack = await startStack({ env, freePorts: true, dataDir: path.join(repoRoot, '.data', 'postman-generate') });
  try {
    return await fetchOpenApiDocs(stack.urls.gateway);
  } finally {
    await stack.stop();
    if (database) await dropDatabase(process.env.DATABASE_URL!, database);
  }
}

const from = process.env.POSTMAN_OPENAPI_URL;
const docs = from ? await fetchOpenApiDocs(from.replace(/\/$/, '')) : await docsFromOwnStack();
const collection = buildCollection(docs, FLOW);
await writeFile(collectionPath, render(collection));
await writeFile(environmentPath, render(buildEnvironment()));
const requests = collection.item.reduce((n, folder) => n + (folder.item?.length ?? 0), 0);
console.log(`wrote ${path.relative(repoRoot, collectionPath)} (${requests} requests) and ${path.relative(repoRoot, environmentPath)}`);
