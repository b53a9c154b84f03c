import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { INSTALL_HINT, missingTools, type Tool } from '../src/tools.js';

/**
 * True when the tools are installed. Otherwise fails with the install hint,
 * or skips when MONITORING_TOOLS=optional (machines that cannot install them).
 */
export function needTools(t: TestContext, tools: readonly Tool[]): boolean {
  const missing = missingTools(tools);
  if (missing.length === 0) return true;
  const message = `missing ${missing.join(', ')}: ${INSTALL_HINT}`;
  if (process.env.MONITORING_TOOLS === 'optional') {
    t.skip(`MONITORING_TOOLS=optional and ${message}`);
    return false;
  }
  assert.fail(message);
}
