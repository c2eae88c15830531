/**
 * Ports for tests, without assuming a port stays free. A server a test owns listens on port 0 and
 * keeps its socket; when a port must be known before the listener exists (a child process, a node
 * whose profile carries its URL), the start is retried on another port if the bind fails with
 * EADDRINUSE, because anything else on the machine may take a port between pick and bind.
 */
import type { Server } from 'node:http';
import { findFreePort } from '../../src/free-port.ts';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A port the OS reported free a moment ago. Only a candidate: pass it to something that binds it
 * inside {@link onFreePort}, which retries when someone else took it meanwhile.
 */
export function candidatePort(host = '127.0.0.1'): Promise<number> {
  return findFreePort(host);
}

/** An error (or a child's output inside one) saying the port was taken. */
export function isAddressInUse(err: unknown): boolean {
  if (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EADDRINUSE') return true;
  return /EADDRINUSE|address (is )?already in use/i.test(err instanceof Error ? err.message : String(err));
}

/**
 * Runs `start(port)` on candidate ports until it does not fail with EADDRINUSE (at most `tries`
 * times). `start` must clean up after itself when it fails.
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>, tries = 10): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    const port = await candidatePort();
    try {
      return await start(port);
    } catch (err) {
      if (!isAddressInUse(err)) throw err;
      last = err;
    }
  }
  throw new Error(`no free port after ${tries} tries: ${String(last)}`);
}

/**
 * Runs `start()` again while it fails with EADDRINUSE, for `timeoutMs`: for a restart that must
 * come back on its old port (peers cached the URL), which a just-stopped process may still hold.
 */
export async function retryWhileInUse<T>(start: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await start();
    } catch (err) {
      if (!isAddressInUse(err) || Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Listens on 127.0.0.1 port 0 and reports the port the OS gave. */
export function listenOnPortZero(server: Server | ReturnType<typeof createNetServer>): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export interface DeadPeer {
  port: number;
  /** `http://127.0.0.1:<port>/koi-net` */
  url: string;
  close(): Promise<void>;
}

/**
 * An unreachable peer whose port nobody else can take: it accepts each connection and resets it
 * at once, so every request to it fails the way a refused connection does, with no answer.
 */
export async function startDeadPeer(): Promise<DeadPeer> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    socket.on('error', () => {});
    socket.resetAndDestroy();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await listenOnPortZero(server);
  return {
    port,
    url: `http://127.0.0.1:${port}/koi-net`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A port that refuses connections (ECONNREFUSED) and that nobody else can take while it is held:
 * the local end of a connection this helper keeps open to its own listener is bound but not
 * listening, so a connect to it is refused and a listen on it fails with EADDRINUSE.
 */
export async function holdRefusingPort(): Promise<DeadPeer> {
  const accepted = new Set<Socket>();
  const server = createNetServer((s) => {
    accepted.add(s);
    s.on('error', () => {});
  });
  const serverPort = await listenOnPortZero(server);
  const client = connect(serverPort, '127.0.0.1');
  client.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  const port = client.localPort!;
  return {
    port,
    url: `http://127.0.0.1:${port}/koi-net`,
    close: () =>
      new Promise<void>((resolve) => {
        client.destroy();
        for (const s of accepted) s.destroy();
        server.close(() => resolve());
      }),
  };
}
