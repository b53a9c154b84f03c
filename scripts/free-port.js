// A port free on loopback right now (the OS picks it): for the bench scripts' platforms and servers.
import { createServer } from 'node:net';

export const freePort = () =>
  new Promise((ok, fail) => {
    const s = createServer().once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
