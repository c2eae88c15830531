import { createServer } from 'node:net';

/**
 * A port that was free a moment ago (bind 0, read it, release it). A node's profile announces its
 * URL before the server listens, so "any free port" has to be settled first.
 */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}
