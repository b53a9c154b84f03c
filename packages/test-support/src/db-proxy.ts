import { connect, createServer, type Socket } from 'node:net';
import { freePort } from '@ecommerce/kit';

/** When a cut goes off, relative to the statement that sets it off (DatabaseProxy.cutAt). */
export type CutPoint =
  /** The statement never reaches the server. */
  | 'before'
  /** It reaches the server (which runs it, a COMMIT commits), its answer does not reach the client. */
  | 'sent'
  /** Its answer reaches the client, then the connections go. */
  | 'answered'
  /**
   * It runs and its answer reaches the client up to its end (CommandComplete: a COMMIT committed), but the server ends
   * the session (FATAL 57P01) before it says it is ready for the next statement, then the connections go: a backend
   * terminated (pg_terminate_backend, a fast shutdown) while it finished the statement, its termination processed at
   * the next interrupt check (the log line of log_min_duration_statement, after the CommandComplete is written).
   */
  | 'ended';

/** The ErrorResponse a terminated backend sends (FATAL 57P01), as PostgreSQL writes it. */
function terminatedBackend(): Buffer {
  const fields = Buffer.from(['SFATAL', 'VFATAL', 'C57P01', 'Mterminating connection due to administrator command', 'Fpostgres.c', 'RProcessInterrupts'].map((f) => `${f}\0`).join('') + '\0');
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
}

/** Where the ReadyForQuery ('Z') message starts among the whole messages of `data`, or -1 while none has come. */
function readyForQueryAt(data: Buffer): number {
  for (let at = 0; at + 5 <= data.length; at += 1 + data.readInt32BE(at + 1)) if (data[at] === 0x5a) return at;
  return -1;
}

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
    let onAnswer: { at: CutPoint; then: () => void } | undefined;
    // 'ended': the answer held until its ReadyForQuery has come.
    let held = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      if (armed && chunk.includes(armed.marker) && armed.skip-- <= 0) {
        const { at, refuse, done } = armed;
        armed = undefined;
        const then = () => {
          cut(refuse);
          done();
        };
        if (at === 'before') return then();
        onAnswer = { at, then };
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      const answer = onAnswer;
      if (answer?.at === 'ended') {
        held = Buffer.concat([held, chunk]);
        const ready = readyForQueryAt(held);
        if (ready < 0) return;
        onAnswer = undefined;
        client.write(Buffer.concat([held.subarray(0, ready), terminatedBackend()]), () => setImmediate(answer.then));
        return;
      }
      onAnswer = undefined;
      if (!answer) client.write(chunk);
      else if (answer.at === 'answered') client.write(chunk, () => setImmediate(answer.then));
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
