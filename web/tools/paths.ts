import path from 'node:path';

/** web/dist/tools -> web/ and the repository root. */
const webRoot = path.resolve(import.meta.dirname, '..', '..');
export const repoRoot = path.resolve(webRoot, '..');
export const apiDir = path.join(webRoot, 'src', 'api');
