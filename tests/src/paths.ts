import { fileURLToPath } from 'node:url';

/** The repository root (tests/dist/src -> ../../..), where scripts/stack.js starts the platform. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
