/**
 * The load generator's HTTP/1.1 client: POSTs over kept-alive TCP sockets and frames each answer
 * by its Content-Length (or chunked encoding) itself, as wrk and autocannon do. It shares the 2
 * cores with the node it measures, and node:http's client (llhttp, IncomingMessage streams, the
 * agent's bookkeeping) cost it 0.2-0.3 ms per request: more than the node's own time to answer a
 * cached listing. Measured back to back against one node with 2,000 cached (fetch_rids of all,
 * p50): node:http 0.52-0.72 ms, this client 0.18-0.39 ms. Requests are never pipelined: a socket
 * carries one request at a time, so each latency is one request's round trip.
 */
import { connect, type Socket } from 'node:net';

interface Pending {
  resolve: (body: Buffer) => void;
  reject: (err: Error) => void;
  path: string;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** One kept-alive connection; `busy` while a request waits for its answer. */
class Connection {
  readonly socket: Socket;
  busy = false;
  closed = false;
  /** Bytes received and not yet taken, as they came (joined only once an answer is whole). */
  private chunks: Buffer[] = [];
  private received = 0;
  /** Once the head is parsed: the answer's total length (head + body), when it has one. */
  private expected: number | undefined;
  private pending: Pending | undefined;

  constructor(host: string, port: number, onClosed: (c: Connection) => void) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.received += chunk.length;
      // A 25 MB listing comes in hundreds of chunks: joining on every one would copy it hundreds of times.
      if (this.expected === undefined || this.received >= this.expected) this.parse();
    });
    const fail = (err: Error): void => {
      this.closed = true;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(err);
      onClosed(this);
    };
    this.socket.on('error', (err) => fail(err));
    this.socket.on('close', () => fail(new Error('connection closed before the answer')));
  }

  send(head: string, payload: Buffer, pending: Pending): void {
    this.busy = true;
    this.pending = pending;
    this.socket.cork();
    this.socket.write(head);
    this.socket.write(payload);
    this.socket.uncork();
  }

  /** Takes one whole answer off the buffer when it is there. */
  private parse(): void {
    if (this.pending === undefined) return;
    const buffer = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [buffer];
    const end = buffer.indexOf(HEADER_END);
    if (end < 0) return;
    const head = buffer.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    let body: Buffer;
    let rest: Buffer;
    if (length !== null) {
      const n = Number(length[1]);
      this.expected = end + 4 + n;
      if (buffer.length < end + 4 + n) return;
      body = buffer.subarray(end + 4, end + 4 + n);
      rest = buffer.subarray(end + 4 + n);
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const chunked = dechunk(buffer, end + 4);
      if (chunked === undefined) return;
      [body, rest] = chunked;
    } else {
      this.pending.reject(new Error(`answer without a length: ${head.split('\r\n')[0]}`));
      this.pending = undefined;
      this.socket.destroy();
      return;
    }
    this.chunks = rest.length === 0 ? [] : [rest];
    this.received = rest.length;
    this.expected = undefined;
    const p = this.pending;
    this.pending = undefined;
    this.busy = false;
    if (/\r\nconnection: *close/i.test(head)) this.socket.end();
    if (status >= 300) p.reject(new Error(`POST ${p.path} -> ${status}: ${body.toString('utf8', 0, 300)}`));
    else p.resolve(body);
  }
}

/** Body and what follows it, or undefined while the last chunk has not arrived. */
function dechunk(buffer: Buffer, start: number): [Buffer, Buffer] | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(buffer.toString('latin1', at, lineEnd), 16);
    if (buffer.length < lineEnd + 2 + size + 2) return undefined;
    if (size === 0) return [Buffer.concat(parts), buffer.subarray(lineEnd + 4)];
    parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

export class HttpClient {
  private readonly host: string;
  private readonly port: number;
  private readonly prefix: string;
  private readonly connections: Connection[] = [];
  private readonly waiting: (() => void)[] = [];

  constructor(base: string, private readonly maxConnections = 1) {
    const url = new URL(base.endsWith('/') ? base : `${base}/`);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.prefix = url.pathname.replace(/\/$/, '');
  }

  /** Body bytes of a 2xx answer; throws otherwise. */
  async post(path: string, body: string | Buffer): Promise<Buffer> {
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    const conn = await this.idle();
    const head =
      `POST ${this.prefix}${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n`;
    try {
      return await new Promise<Buffer>((resolve, reject) => conn.send(head, payload, { resolve, reject, path }));
    } finally {
      conn.busy = false;
      this.waiting.shift()?.();
    }
  }

  async postJson<T>(path: string, body: unknown): Promise<T> {
    return JSON.parse((await this.post(path, JSON.stringify(body))).toString('utf8')) as T;
  }

  close(): void {
    for (const c of this.connections) c.socket.destroy();
    this.connections.length = 0;
  }

  /** A free connection: an idle one, a new one below the cap, else the next one freed. */
  private async idle(): Promise<Connection> {
    for (;;) {
      const free = this.connections.find((c) => !c.busy && !c.closed);
      if (free !== undefined) {
        free.busy = true;
        return free;
      }
      if (this.connections.length < this.maxConnections) {
        const conn = new Connection(this.host, this.port, (c) => {
          const i = this.connections.indexOf(c);
          if (i >= 0) this.connections.splice(i, 1);
          this.waiting.shift()?.();
        });
        this.connections.push(conn);
        conn.busy = true;
        return conn;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }
}
