import { connect, createServer, type Socket } from 'node:net';
import { freePort } from '@ecommerce/kit';

/** When a cut goes off, relative to the statement that sets it off (DatabaseProxy.cutAt). */
export type CutPoint =
  /** The statement never reaches the server. */
  | 'before'
  /** It reaches the server (which runs it, a COMMIT commits), its answer does not reach the client. */
  | 'sent'
  /** Its answer reaches the client, then the connections go. */
  | 'answered';

export interface DatabaseProxy {
  /** A database URL like `target` that goes through the proxy. */
  url: string;
  /**
   * Arms a cut: the first time a statement named `statement` (a prepared statement's name, or a simple query's whole
   * text such as COMMIT) goes through, every connection is cut at `at` (default before). With `refuse` (default
   * true) the proxy then refuses connections, its port closed, as a database gone away does, until restore().
   * With `skip`, that many messages naming the statement pass first (the second transition of a cancel: skip 1).
   * Resolves once the cut is done.
   */
  cutAt(statement: string, opts?: { at?: CutPoint; refuse?: boolean; skip?: number }): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of the test's PostgreSQL that cuts its connections between two statements of a service, as a
 * database that goes away (or a connection lost) at that moment does.
 */
export async function databaseProxy(target: string): Promise<DatabaseProxy> {
  const sockets = new Set<Socket>();
  let armed: { marker: Buffer; at: CutPoint; refuse: boolean; skip: number; done: () => void } | undefined;
  const cut = (refuse: boolean) => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    if (refuse) server.close();
  };
  const server = createServer((client) => {
    const to = new URL(target);
    const upstream = connect(Number(to.port || 5432), to.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    // Set when the statement that sets the cut off was sent on this connection: what to do with its answer.
    let onAnswer: { pass: boolean; then: () => void } | undefined;
    client.on('data', (chunk: Buffer) => {
      if (armed && chunk.includes(armed.marker) && armed.skip-- <= 0) {
        const { at, refuse, done } = armed;
        armed = undefined;
        const then = () => {
          cut(refuse);
          done();
        };
        if (at === 'before') return then();
        onAnswer = { pass: at === 'answered', then };
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      const answer = onAnswer;
      onAnswer = undefined;
      if (!answer) client.write(chunk);
      else if (answer.pass) client.write(chunk, () => setImmediate(answer.then));
      else answer.then();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  // The port is given up at every cut and listened on again by restore(), the service's DATABASE_URL naming it. A
  // port of the kernel's (listen on 0) is in its ephemeral range: while the proxy is cut, another test file's listen
  // on 0, or any connection's local port, may take it, and restore() fails with EADDRINUSE. The kit's freePort picks
  // below that range and reserves the port for this process, so no other picker of ours takes it meanwhile.
  const port = await freePort('127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => {
    server.off('error', reject);
    resolve();
  }));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    cutAt: (statement, { at = 'before', refuse = true, skip = 0 } = {}) =>
      new Promise<void>((resolve) => (armed = { marker: Buffer.from(`${statement}\0`), at, refuse, skip, done: resolve })),
    restore: () =>
      new Promise<void>((resolve, reject) => {
        if (server.listening) return resolve();
        // The listener goes with the listen it watches: one left per restore() warned of a leak after ten.
        server.once('error', reject).listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      }),
    close: async () => {
      cut(true);
      await new Promise((resolve) => setTimeout(resolve, 10));
    },
  };
}
