/**
 * A fake KOI-net peer for tests: a real HTTP server on 127.0.0.1 (port 0, kept for its whole life)
 * that answers only the five protocol operations, by method and path, with what each test sets.
 * Anything else (another path, another method, a request meant for some other server that reached
 * this port) is a 404 JSON answer and is recorded as such, never a crash.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listenOnPortZero } from './ports.ts';

/** The operation paths under the root path, as the protocol names them. */
export const KOI_PATHS = ['/events/broadcast', '/events/poll', '/rids/fetch', '/manifests/fetch', '/bundles/fetch'] as const;
export type KoiPath = (typeof KOI_PATHS)[number];

export interface FakeAnswer {
  status?: number;
  /** Sent as JSON (default `null`). */
  json?: unknown;
  /** Sent as is, with a JSON content type; wins over `json`. */
  text?: string;
  delayMs?: number;
  /** Never answered: the request hangs until the client gives up or the peer stops. */
  hang?: boolean;
  /** Called once the answer was written (not when the client left before it). */
  onAnswered?: () => void;
}

/** Builds the answer to one request; `body` is the parsed JSON, or undefined if it did not parse. */
export type FakeResponder = (body: unknown, call: number) => FakeAnswer;

export interface SeenRequest {
  method: string;
  /** Path under the root path for protocol requests, else the full URL path. */
  path: string;
  body: unknown;
  /** The body as sent (signed envelopes are checked on their exact text). */
  text: string;
  contentType: string | undefined;
  /** False for requests that got the 404. */
  routed: boolean;
}

export class FakePeer {
  readonly seen: SeenRequest[] = [];
  readonly responders = new Map<KoiPath | string, FakeResponder>();
  /** While true, every connection is reset on arrival (the peer looks down; it keeps its port). */
  down = false;
  port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly callCounts = new Map<string, number>();

  constructor(readonly rootPath = '/koi-net') {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}${this.rootPath}`;
  }

  /** Parsed bodies of the routed requests to `path`, in arrival order. */
  bodies(path: KoiPath | string): unknown[] {
    return this.seen.filter((s) => s.routed && s.path === path).map((s) => s.body);
  }

  /** Requests this peer answered 404 (not a protocol operation). */
  get strays(): SeenRequest[] {
    return this.seen.filter((s) => !s.routed);
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.onRequest(req, res));
    server.on('connection', (socket) => {
      if (this.down) {
        socket.on('error', () => {});
        socket.resetAndDestroy();
        return;
      }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.port = await listenOnPortZero(server);
    this.server = server;
  }

  /** Looks down from now on: open connections are reset too. */
  goDown(): void {
    this.down = true;
    for (const s of this.sockets) s.resetAndDestroy();
  }

  comeBack(): void {
    this.down = false;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const sub = url.pathname.startsWith(`${this.rootPath}/`) ? url.pathname.slice(this.rootPath.length) : undefined;
      const routed = req.method === 'POST' && sub !== undefined && (KOI_PATHS as readonly string[]).includes(sub);
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const path = routed ? sub! : url.pathname;
      this.seen.push({ method: req.method ?? '', path, body, text, contentType: req.headers['content-type'], routed });
      if (!routed) return send(res, { status: 404, json: { detail: 'Not Found' } });
      const call = (this.callCounts.get(path) ?? 0) + 1;
      this.callCounts.set(path, call);
      const responder = this.responders.get(path);
      const answer = responder ? responder(body, call) : { status: 404, json: { detail: 'Not Found' } };
      if (answer.delayMs) setTimeout(() => send(res, answer), answer.delayMs);
      else send(res, answer);
    });
  }
}

function send(res: ServerResponse, answer: FakeAnswer): void {
  if (res.destroyed || answer.hang) return;
  const text = answer.text ?? JSON.stringify(answer.json ?? null);
  res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' }).end(text);
  answer.onAnswered?.();
}

/** Starts a {@link FakePeer} with the given responders. */
export async function startFakePeer(responders: Partial<Record<KoiPath, FakeResponder>> = {}): Promise<FakePeer> {
  const peer = new FakePeer();
  for (const [path, responder] of Object.entries(responders)) peer.responders.set(path, responder);
  await peer.start();
  return peer;
}

/**
 * A peer that only takes broadcasts (webhook deliveries), answering each with the status
 * `answer(call, rids)` decides, or never (`'hang'`). `received` keeps the RIDs of each broadcast
 * answered 200, as the client saw the answer.
 */
export class BroadcastPeer extends FakePeer {
  received: string[][] = [];
  answer: (call: number, rids: string[]) => number | 'hang' = () => 200;
  delayMs = 0;

  constructor() {
    super();
    this.responders.set('/events/broadcast', (body, call) => {
      // A body that is not a broadcast still gets an answer, reported with no RIDs.
      const events = (body as { events?: { rid?: unknown }[] } | undefined)?.events;
      const rids = Array.isArray(events) ? events.map((e) => String(e.rid)) : [];
      const status = this.answer(call, rids);
      if (status === 'hang') return { hang: true };
      return {
        status,
        json: status === 200 ? null : { detail: 'busy' },
        delayMs: this.delayMs,
        onAnswered: () => {
          if (status === 200) this.received.push(rids);
        },
      };
    });
  }

  /** Broadcasts received so far, whatever their answer. */
  get calls(): number {
    return this.bodies('/events/broadcast').length;
  }

  flat(): string[] {
    return this.received.flat();
  }
}
