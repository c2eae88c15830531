/**
 * The ingest load generator's client: POSTs of bodies serialized before the clock starts, over
 * one raw keep-alive socket per client, each request written only after the answer to the last
 * was read in full (status line, headers, Content-Length or chunked body). The node sees the same
 * requests as from fetch(); the generator, which shares the two cores with the node, spends a
 * fraction of fetch's CPU per request (measured by ingest-probe.ts, `generatorCpuUsPerEvent`).
 */
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  body: Buffer;
}

/** One kept-alive HTTP/1.1 connection; `post` calls must not overlap (one request at a time). */
export class RawHttpConnection {
  private readonly socket: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (a: RawAnswer) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;
  private readonly hostHeader: string;

  private constructor(
    socket: Socket,
    private readonly url: URL,
  ) {
    this.socket = socket;
    this.hostHeader = url.host;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.tryAnswer();
    });
    const fail = (err: Error): void => {
      this.failure ??= err;
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed by the server')));
  }

  /** Connects to the host and port of `base` (an http:// URL; its path prefixes every request). */
  static open(base: string): Promise<RawHttpConnection> {
    const url = new URL(base);
    if (url.protocol !== 'http:') throw new Error(`raw client speaks http only, not ${url.protocol}`);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port) });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawHttpConnection(socket, url));
      });
      socket.once('error', reject);
    });
  }

  /** The head of a POST of `length` JSON bytes to `path` (under the base URL's path). */
  head(path: string, length: number): Buffer {
    const prefix = this.url.pathname.replace(/\/$/, '');
    return Buffer.from(
      `POST ${prefix}${path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`,
      'latin1',
    );
  }

  /** Sends `head` + `body` and resolves with the answer; rejects on a non-2xx status. */
  async post(head: Buffer, body: Buffer): Promise<RawAnswer> {
    if (this.failure) throw this.failure;
    if (this.waiting) throw new Error('one request at a time per connection');
    const answer = new Promise<RawAnswer>((resolve, reject) => (this.waiting = { resolve, reject }));
    this.socket.cork();
    this.socket.write(head);
    this.socket.write(body);
    this.socket.uncork();
    const a = await answer;
    if (a.status < 200 || a.status >= 300) throw new Error(`POST -> ${a.status}: ${a.body.toString('utf8', 0, 300)}`);
    return a;
  }

  close(): void {
    this.socket.destroy();
  }

  private tryAnswer(): void {
    if (!this.waiting) return;
    const buf = this.buffered;
    const headEnd = buf.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const head = buf.toString('latin1', 0, headEnd);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? NaN);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const start = headEnd + 4;
    let body: Buffer;
    let end: number;
    if (length) {
      end = start + Number(length[1]);
      if (buf.length < end) return;
      body = buf.subarray(start, end);
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const parts: Buffer[] = [];
      let at = start;
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', at);
        if (lineEnd < 0) return;
        const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
        if (buf.length < lineEnd + 2 + size + 2) return;
        if (size === 0) {
          end = lineEnd + 4;
          break;
        }
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      this.failure = new Error(`answer without a length: ${head.slice(0, 200)}`);
      this.waiting.reject(this.failure);
      this.waiting = undefined;
      return;
    }
    this.buffered = buf.subarray(end);
    const w = this.waiting;
    this.waiting = undefined;
    w.resolve({ status, body });
  }
}

/**
 * Sends every body (pre-serialized) as a POST to `path`, `clients` connections each taking the
 * next body once its last one was answered. Returns each request's latency in ms (from the first
 * byte written to the answer read), in completion order.
 */
export async function postAll(base: string, path: string, bodies: readonly Buffer[], clients: number): Promise<number[]> {
  const connections = await Promise.all(Array.from({ length: clients }, () => RawHttpConnection.open(base)));
  const latencies: number[] = [];
  let next = 0;
  try {
    await Promise.all(
      connections.map(async (c) => {
        while (next < bodies.length) {
          const body = bodies[next++]!;
          const head = c.head(path, body.length);
          const t0 = performance.now();
          await c.post(head, body);
          latencies.push(performance.now() - t0);
        }
      }),
    );
  } finally {
    for (const c of connections) c.close();
  }
  return latencies;
}
