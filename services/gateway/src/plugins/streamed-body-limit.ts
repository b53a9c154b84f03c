// The proxy passes bodies through without parsing them, so Fastify's bodyLimit does not apply: a body
// announced larger than the services accept is refused before it is read (413, connection closed), and a
// chunked one is counted as it arrives and cut at the same limit (buffered-bodies reads it).
import { Transform } from 'node:stream';
import fp from 'fastify-plugin';
import { BODY_LIMIT, KIT_PLUGINS, NO_BODY_LIMIT, payloadTooLarge } from '@ecommerce/kit';

/** A GET or HEAD takes no body beyond a token `{}` on any service (the kit reads at most NO_BODY_LIMIT of one). */
const limitOf = (method: string) => (method === 'GET' || method === 'HEAD' ? NO_BODY_LIMIT : BODY_LIMIT);

export const streamedBodyLimit = fp(
  async (app) => {
    app.addHook('onRequest', async (request) => {
      if (Number(request.headers['content-length'] ?? 0) > limitOf(request.method)) throw payloadTooLarge(limitOf(request.method));
    });
    app.addHook('preParsing', async (request, _reply, payload) => {
      // Without Transfer-Encoding a body is at most its Content-Length (Node reads no more; checked above) or
      // absent (nearly every GET): counting it would only cost a stream per request.
      if (request.headers['transfer-encoding'] === undefined) return payload;
      let seen = 0;
      const limit = limitOf(request.method);
      return payload.pipe(
        new Transform({
          transform(chunk: Buffer, _enc, done) {
            seen += chunk.length;
            done(seen > limit ? payloadTooLarge(limit) : null, chunk);
          },
        }),
      );
    });
  },
  { name: 'gateway-streamed-body-limit', fastify: '5.x', dependencies: [KIT_PLUGINS.problemErrors] },
);
