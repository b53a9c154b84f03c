// The proxy passes bodies through without parsing them, so Fastify's bodyLimit does not apply: a body
// announced larger than the services accept is refused before it is read (413, connection closed), and a
// chunked one is counted as it arrives and cut at the same limit (buffered-bodies reads it).
import { Transform } from 'node:stream';
import fp from 'fastify-plugin';
import { BODY_LIMIT, KIT_PLUGINS, ProblemError } from '@ecommerce/kit';

export const streamedBodyLimit = fp(
  async (app) => {
    app.addHook('onRequest', async (request) => {
      if (Number(request.headers['content-length'] ?? 0) > BODY_LIMIT) throw payloadTooLarge();
    });
    app.addHook('preParsing', async (request, _reply, payload) => {
      // Without Transfer-Encoding a body is at most its Content-Length (Node reads no more; checked above) or
      // absent (every GET): counting it would only cost a stream per request.
      if (request.headers['transfer-encoding'] === undefined) return payload;
      let seen = 0;
      return payload.pipe(
        new Transform({
          transform(chunk: Buffer, _enc, done) {
            seen += chunk.length;
            done(seen > BODY_LIMIT ? payloadTooLarge() : null, chunk);
          },
        }),
      );
    });
  },
  { name: 'gateway-streamed-body-limit', fastify: '5.x', dependencies: [KIT_PLUGINS.problemErrors] },
);

function payloadTooLarge(): ProblemError {
  return new ProblemError(413, 'payload-too-large', 'Payload too large', `Bodies over ${BODY_LIMIT / 1024 / 1024} MiB are refused`);
}
