import path from 'node:path';

/** web/dist/tools -> web/ and the repository root. */
export const webRoot = path.resolve(import.meta.dirname, '..', '..');
export const repoRoot = path.resolve(webRoot, '..');
export const appDir = path.join(webRoot, 'dist', 'app');
export const apiDir = path.join(webRoot, 'src', 'api');
