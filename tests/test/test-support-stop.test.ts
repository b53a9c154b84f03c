// The shared test kit's stop helpers (packages/test-support/src/services.ts): what a test started is stopped even when
// one of them fails to stop, or the start after them fails; a server left listening holds the file's process until the
// runner's 20 min timeout.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stopAll, stopAllIfItFails } from '@ecommerce/test-support';

async function listening(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** A stand-in for a started thing that records its stop, and fails it when told. */
function stoppable(log: number[], id: number, fails: boolean) {
  return {
    async close() {
      log.push(id);
      if (fails) throw new Error(`close ${id} failed`);
    },
  };
}

describe('stopAll and stopAllIfItFails', () => {
  it('when any of the closes throw, then every one is still closed, in order, and the first failure is thrown', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.boolean(), { nil: undefined }), { maxLength: 8 }), async (plan) => {
        const log: number[] = [];
        const started = plan.map((fails, i) => (fails === undefined ? undefined : stoppable(log, i, fails)));
        const firstFailing = plan.findIndex((fails) => fails === true);
        const outcome = await stopAll(...started).then(() => undefined, (err: Error) => err.message);
        assert.deepEqual(log, plan.flatMap((fails, i) => (fails === undefined ? [] : [i])));
        assert.equal(outcome, firstFailing === -1 ? undefined : `close ${firstFailing} failed`);
      }),
      { numRuns: 200 },
    );
  });

  it('when a close before a real server throws, then the server is closed all the same', async () => {
    const server = await listening();
    await assert.rejects(stopAll({ close: () => Promise.reject(new Error('gone')) }, server), /gone/);
    assert.equal(server.listening, false);
  });

  it('when the start fails and so does a close, then the start\'s failure is the one thrown and the servers before it are closed', async () => {
    const first = await listening();
    const second = await listening();
    const failing = { close: () => Promise.reject(new Error('close failed')) };
    await assert.rejects(stopAllIfItFails(Promise.reject(new Error('not ready in time')), first, failing, second), /not ready in time/);
    assert.equal(first.listening, false);
    assert.equal(second.listening, false);
  });

  it('when the start succeeds, then its value is returned and nothing is closed', async () => {
    const server = await listening();
    try {
      assert.equal(await stopAllIfItFails(Promise.resolve(42), server), 42);
      assert.equal(server.listening, true);
    } finally {
      await stopAll(server);
    }
  });
});
