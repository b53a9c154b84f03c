import path from 'node:path';

/** postman/dist/src -> repository root. */
export const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
export const collectionPath = path.join(repoRoot, 'postman', 'ecommerce.postman_collection.json');
export const environmentPath = path.join(repoRoot, 'postman', 'local.postman_environment.json');
