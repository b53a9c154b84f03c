// A request body is read whole before its request goes upstream, as an ingress does (nginx's
// proxy_request_buffering, on by default). Streamed through, an upload held one of the upstream's pooled
// connections for as long as its client took to send it: 128 clients dripping a byte a second held all of
// them, and every other request to that service (a GET of the JWKS too) waited for the request timeout.
import { PassThrough, Readable } from 'node:stream';
import fp from 'fastify-plugin';
import { KIT_PLUGINS, ServiceUnavailable } from '@ecommerce/kit';

export interface BufferedBodiesOptions {
  /** Bytes all bodies being read at one time may hold; past it a body's request is refused (503). */
  maxBytes: number;
}

/**
 * Most a body's buffer starts with; it doubles as bytes arrive, so an announced length costs nothing before they do.
 * One buffer, not the chunks as they came: a body dripped a byte per packet would cost a Buffer object per byte.
 */
const FIRST_CAPACITY = 16 * 1024;

const bodies = new WeakMap<object, Buffer>();

/** The body read for this request (undefined when it had none to read), as it goes upstream. */
export function bufferedBodyOf(request: object): Buffer | undefined {
  return bodies.get(request);
}

export const bufferedBodies = fp<BufferedBodiesOptions>(
  async (app, { maxBytes }) => {
    let held = 0;
    // preHandler: after the gateway's body limit (preParsing) has wrapped the stream, right before the proxy's handler.
    app.addHook('preHandler', async (request, reply) => {
      const payload = request.body;
      if (!(payload instanceof Readable)) return;
      let charged = 0;
      const charge = (bytes: number) => {
        if (held + bytes > maxBytes) {
          throw new ServiceUnavailable('The gateway is receiving too many request bodies at once; try again shortly', {});
        }
        held += bytes;
        charged += bytes;
      };
      // Given back when the answer is done or the connection gone, whichever comes first (the body is sent upstream
      // from the buffer until then).
      reply.raw.once('close', () => {
        held -= charged;
        charged = 0;
      });
      // An announced length smaller than that is the buffer's size (an order's few hundred bytes, not 16 KiB).
      const announced = Number(request.headers['content-length']);
      const first = announced > 0 && announced < FIRST_CAPACITY ? announced : FIRST_CAPACITY;
      let buffer = Buffer.alloc(0);
      let length = 0;
      try {
        await new Promise<void>((resolve, reject) => {
          const onData = (chunk: Buffer) => {
            if (length + chunk.length > buffer.length) {
              const capacity = Math.max(first, buffer.length * 2, length + chunk.length);
              try {
                charge(capacity - buffer.length);
              } catch (err) {
                // Not destroyed: the refusal is still to be answered on this connection.
                payload.off('data', onData).pause();
                return reject(err as Error);
              }
              const grown = Buffer.allocUnsafe(capacity);
              buffer.copy(grown, 0, 0, length);
              buffer = grown;
            }
            chunk.copy(buffer, length);
            length += chunk.length;
          };
          payload.on('data', onData).once('end', resolve).once('error', reject);
          // The answer closes before it is written only when the connection is gone (a chunked body's counting stream
          // is piped, so the client's abort does not reach it as an error).
          reply.raw.once('close', () => reject(new Error('the client closed the connection before its body was read')));
        });
      } catch (err) {
        // Refused for the budget: the rest of the body is not read, so this connection cannot carry another request.
        if (err instanceof ServiceUnavailable) reply.header('connection', 'close');
        throw err;
      }
      const body = new PassThrough();
      body.end(buffer.subarray(0, length));
      bodies.set(request, buffer.subarray(0, length));
      request.body = body;
      // The length is known now: a chunked upload goes upstream with a Content-Length (Transfer-Encoding is
      // hop-by-hop and not forwarded).
      request.raw.headers['content-length'] = String(length);
    });
  },
  { name: 'gateway-buffered-bodies', fastify: '5.x', dependencies: [KIT_PLUGINS.problemErrors] },
);
