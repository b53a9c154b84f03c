// A loopback proxy in front of a real product service, for tests that need it to answer one call what it should
// not (poison-orders, stale-driver): each request is read whole, then a test's rule answers it here with a problem
// or forwards it, optionally with the reservation's lines taken out of a 200/201 answer (stock is taken, but the
// order service cannot read what it got), or after a delay (a product service slow to answer), or with its answer lost:
// the product service has committed and answered, the proxy runs the rule's `drop` step (a test SIGKILLs the order
// process there) and then cuts the connection without answering.
import { createServer, request as httpRequest, type Server } from 'node:http';

interface ProxiedCall {
  method: string;
  path: string;
  body: Buffer;
}

/** A problem answered by the proxy without reaching the product service, or the call forwarded. */
export type ProxyRule = (
  call: ProxiedCall,
) => { status: number; slug: string; members?: Record<string, unknown> } | { forward: true; garble?: boolean; delayMs?: number; drop?: () => Promise<unknown> };

export interface ProductProxy {
  base: string;
  close(): Promise<void>;
}

/** The order id of a reservation's path (`/internal/reservations/<orderId>`), or ''. */
export const reservationOrderId = (path: string): string => path.split('/')[3] ?? '';

export async function productProxy(target: string, rule: ProxyRule): Promise<ProductProxy> {
  const to = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const decided = rule({ method: req.method ?? 'GET', path: req.url ?? '', body });
      if (!('forward' in decided)) {
        res.writeHead(decided.status, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: `https://ecommerce.local/problems/${decided.slug}`, title: decided.slug, status: decided.status, ...decided.members }));
        return;
      }
      const forward = () => {
        const up = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
          const answer: Buffer[] = [];
          upRes.on('data', (c: Buffer) => answer.push(c));
          upRes.on('end', () => {
            if (decided.drop) {
              const cut = () => res.socket?.destroy();
              decided.drop().then(cut, cut);
              return;
            }
            let out = Buffer.concat(answer);
            if (decided.garble && (upRes.statusCode === 200 || upRes.statusCode === 201)) out = Buffer.from(JSON.stringify({ ...JSON.parse(out.toString()), items: [] }));
            const headers = { ...upRes.headers };
            delete headers['content-length'];
            res.writeHead(upRes.statusCode ?? 502, headers);
            res.end(out);
          });
        });
        up.on('error', () => res.destroy());
        up.end(body);
      };
      if (decided.delayMs) setTimeout(forward, decided.delayMs);
      else forward();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
