/**
 * A real full node (NodeInterface + startFullNode on 127.0.0.1, temp data dir) and raw HTTP access
 * to it, for the security tests: they must see exactly what a hostile peer's bytes do to the node.
 */
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { NodeInterface, type ProtocolMode } from '../../src/node.ts';
import { startFullNode, createNodeHandlers } from '../../src/full-node.ts';
import { createKoiNetApp, startServer, type ServerLimits, type ServerTimeouts } from '../../src/server/index.ts';
import { onFreePort } from '../helpers/ports.ts';
import { NodeType, type NodeProfile } from '../../src/protocol/index.ts';
import { silentLogger, type Logger } from '../../src/logger.ts';
import type { KnowledgeHandler } from '../../src/processor/index.ts';

export interface RealNode {
  node: NodeInterface;
  /** `http://127.0.0.1:<port>/koi-net` */
  url: string;
  /** The temp directory holding `data/` (and anything a test puts beside it). */
  root: string;
  dataDir: string;
  cacheDir: string;
  me: string;
  close(): Promise<void>;
}

export interface RealNodeOptions {
  name?: string;
  logger?: Logger;
  /** Serve through createKoiNetApp with these limits instead of startFullNode's defaults. */
  limits?: Partial<ServerLimits>;
  handlers?: KnowledgeHandler[];
  provides?: { event: string[]; state: string[] };
  /** Largest accepted body (startFullNode's `bodyLimit`). */
  bodyLimit?: string;
  /** Server timeouts (startFullNode's `timeouts`). */
  timeouts?: Partial<ServerTimeouts>;
  /** Wire format (default unsigned); `signed` and `both` make the node's key in its data dir. */
  protocol?: ProtocolMode;
}

export async function startRealNode(options: RealNodeOptions = {}): Promise<RealNode> {
  const root = await mkdtemp(join(tmpdir(), 'koi-security-'));
  const dataDir = join(root, 'data');
  const logger = options.logger ?? silentLogger;
  // The profile carries the URL, so the port is picked before binding; another process may take
  // it meanwhile, and then the start is tried again on another port.
  const { node, url, stop } = await onFreePort(async (port) => {
    const profile = {
      node_type: NodeType.FULL,
      base_url: `http://127.0.0.1:${port}/koi-net`,
      provides: options.provides ?? { event: [], state: [] },
    } as NodeProfile;
    const node = new NodeInterface({ name: options.name ?? 'victim', profile, dataDir, logger, handlers: options.handlers, ...(options.protocol ? { protocol: options.protocol } : {}) });
    if (options.limits === undefined) {
      const running = await startFullNode(node, { host: '127.0.0.1', port, logger, bodyLimit: options.bodyLimit, timeouts: options.timeouts });
      return { node, url: running.url, stop: () => running.close() };
    }
    // Bound before the node initializes (requests wait for it), so a taken port leaves nothing behind.
    let initialized!: () => void;
    const ready = new Promise<void>((r) => (initialized = r));
    const { idle, ...endpoints } = createNodeHandlers(node, { logger, ready });
    const server = await startServer(createKoiNetApp({ handlers: endpoints, limits: options.limits, logger }), { host: '127.0.0.1', port });
    await node.initialize();
    initialized();
    return {
      node,
      url: `${server.url}/koi-net`,
      stop: async () => {
        await server.close();
        await idle();
      },
    };
  });
  return {
    node,
    url,
    root,
    dataDir,
    cacheDir: join(dataDir, 'cache'),
    me: String(node.identity.rid),
    async close() {
      await stop();
      await node.finalize();
      await rm(root, { recursive: true, force: true });
    },
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

export interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
  json: unknown;
}

/**
 * POSTs raw bytes; `contentType: null` sends no Content-Type at all (seed-era clients do that).
 * Not fetch(): it would refuse some of the header and byte shapes the fuzzer sends.
 */
export function rawPost(url: string, body: string | Buffer, contentType: string | null = 'application/json', method = 'POST'): Promise<RawAnswer> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-length': bytes.length };
    if (contentType !== null) headers['content-type'] = contentType;
    const req = request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(bytes);
  });
}

export async function postJson(url: string, body: unknown): Promise<RawAnswer> {
  return rawPost(url, JSON.stringify(body));
}

/** Every file under `dir` (relative path -> sha256), so any write anywhere shows up. */
export async function treeHashes(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        // A node's own temporary file (an atomic write's *.tmp-*) may be renamed away mid-walk.
        const bytes = await readFile(p).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT' && /\.tmp-/.test(e.name)) return undefined;
          throw err;
        });
        if (bytes !== undefined) out.set(relative(dir, p), createHash('sha256').update(bytes).digest('hex'));
      }
    }
  };
  await walk(dir);
  return out;
}

/** What a hostile request must never change: cache index, cache files, event queues. */
export async function nodeState(n: RealNode): Promise<string> {
  const cache = n.node.cache;
  const index = cache
    .listRids()
    .map((r) => `${String(r)} ${cache.readManifest(r)?.sha256Hash ?? ''}`)
    .sort();
  const files = [...(await treeHashes(n.cacheDir)).entries()].sort();
  const q = n.node.queues;
  const queues = {
    depths: q.depths(),
    webhook: q.webhookNodes().map((k) => [k, q.peekWebhook(k).map((e) => e.toJSON())]),
    poll: q.pollNodes().map((k) => [k, q.peekPoll(k).map((e) => e.toJSON())]),
  };
  return JSON.stringify({ index, files, queues });
}

/** The cheap part of {@link nodeState}, for checking after every single request. */
export function quickState(n: RealNode): string {
  const cache = n.node.cache;
  return JSON.stringify({ size: cache.size, depths: n.node.queues.depths() });
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let sentinelCounter = 0;

/**
 * Broadcasts a harmless NEW bundle and waits until it is cached. The node processes knowledge in
 * arrival order, so everything broadcast before it has been processed by then.
 */
export async function drain(n: RealNode): Promise<void> {
  const { Bundle, Event, EventType } = await import('../../src/knowledge/index.ts');
  const rid = `orn:test.sentinel:${process.pid}-${++sentinelCounter}`;
  const event = Event.fromBundle(Bundle.generate(rid, { n: sentinelCounter }), EventType.NEW).toJSON();
  const res = await postJson(`${n.url}/events/broadcast`, { events: [event] });
  if (res.status !== 200) throw new Error(`sentinel broadcast answered ${res.status}: ${res.text}`);
  await waitFor(`sentinel ${rid}`, () => n.node.cache.exists(rid));
  // The sentinel is not part of any test's state.
  await n.node.cache.delete(rid);
}
