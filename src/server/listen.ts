/**
 * Listening: a node:http server with the server timeouts, trying the fast path of an app made by
 * createKoiNetApp first. No express here, so a full node can listen and answer its fast path
 * while express is still loading (full-node.ts).
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { resolveServerTimeouts, serverTimeoutOptions, type ServerTimeouts } from './timeouts.ts';
import { withFastPath } from './fast-path.ts';

export interface StartServerOptions {
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Header, request and keep-alive timeouts; each defaults to {@link DEFAULT_SERVER_TIMEOUTS}. */
  timeouts?: Partial<ServerTimeouts>;
}

export interface RunningServer {
  /** `http://host:port`, no trailing slash. */
  url: string;
  port: number;
  server: Server;
  /** Stops accepting, drops idle keep-alive connections, resolves when closed. */
  close(): Promise<void>;
}

/** Listens with `app`; resolves once the port is bound. */
export function startServer(app: RequestListener | Express, options: StartServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  // Resolved before listening, so a bad value fails the start rather than the first slow client.
  const timeouts = resolveServerTimeouts(options.timeouts);
  const server = createServer(serverTimeoutOptions(timeouts), withFastPath(app as Express, app));
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', onError);
      const { port } = server.address() as AddressInfo;
      const hostPart = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${hostPart}:${port}`,
        port,
        server,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeIdleConnections();
          }),
      });
    });
  });
}
