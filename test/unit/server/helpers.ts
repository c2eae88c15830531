import { createHash } from 'node:crypto';
import type { Express } from 'express';
import { RID } from '../../../src/rid/index.ts';
import { silentLogger } from '../../../src/logger.ts';
import type { KoiNetHandlers, OperationId } from '../../../generated/stubs/operations.ts';
import { createKoiNetApp, startServer, type KoiNetAppOptions, type RunningServer } from '../../../src/server/index.ts';

type Body<Op extends OperationId> = Parameters<KoiNetHandlers[Op]>[0];
type Manifest = { rid: string; timestamp: string; sha256_hash: string };
type Event = Body<'broadcastEvents'>['events'][number];

/** What each handler was called with, so tests can assert no invalid input ever reached one. */
export interface HandlerCall {
  op: OperationId;
  body: unknown;
}

export const COORDINATOR_RID = 'orn:koi-net.node:coordinator+6142d26d-48e1-4064-877e-4b8d1fc12b66';

/**
 * A small but real in-memory node: a store of bundles and per-node poll queues. Good enough for
 * the server to be exercised end to end without the real node behind it.
 */
export class InMemoryNode implements KoiNetHandlers {
  readonly calls: HandlerCall[] = [];
  readonly bundles = new Map<string, { manifest: Manifest; contents: Record<string, unknown> }>();
  readonly queues = new Map<string, Event[]>();
  readonly received: Event[] = [];

  constructor() {
    this.put(COORDINATOR_RID, {
      node_type: 'FULL',
      base_url: 'http://127.0.0.1:8000/koi-net',
      provides: { event: ['orn:koi-net.node', 'orn:koi-net.edge'], state: ['orn:koi-net.node'] },
    });
  }

  put(rid: string, contents: Record<string, unknown>): Manifest {
    const manifest = {
      rid,
      timestamp: '2025-04-08T14:10:19.123456Z',
      sha256_hash: createHash('sha256').update(JSON.stringify(contents)).digest('hex'),
    };
    this.bundles.set(rid, { manifest, contents });
    return manifest;
  }

  private record(op: OperationId, body: unknown): void {
    this.calls.push({ op, body: structuredClone(body) });
  }

  private ridsOfTypes(types: readonly string[] | undefined): string[] {
    const all = [...this.bundles.keys()];
    if (!types || types.length === 0) return all;
    return all.filter((r) => types.includes(RID.fromString(r).type.toString()));
  }

  async broadcastEvents(body: Body<'broadcastEvents'>): Promise<null> {
    this.record('broadcastEvents', body);
    this.received.push(...body.events);
    return null;
  }

  async pollEvents(body: Body<'pollEvents'>): Promise<{ events: Event[] }> {
    this.record('pollEvents', body);
    const queue = this.queues.get(body.rid) ?? [];
    const n = body.limit && body.limit > 0 ? body.limit : queue.length;
    return { events: queue.splice(0, n) };
  }

  async fetchRids(body: Body<'fetchRids'>): Promise<{ rids: string[] }> {
    this.record('fetchRids', body);
    return { rids: this.ridsOfTypes(body.rid_types) };
  }

  async fetchManifests(body: Body<'fetchManifests'>): Promise<{ manifests: Manifest[]; not_found: string[] }> {
    this.record('fetchManifests', body);
    if (body.rids && body.rids.length > 0) {
      const manifests: Manifest[] = [];
      const notFound: string[] = [];
      for (const r of body.rids) {
        const b = this.bundles.get(r);
        if (b) manifests.push(b.manifest);
        else notFound.push(r);
      }
      return { manifests, not_found: notFound };
    }
    return { manifests: this.ridsOfTypes(body.rid_types).map((r) => this.bundles.get(r)!.manifest), not_found: [] };
  }

  async fetchBundles(body: Body<'fetchBundles'>): Promise<{
    bundles: { manifest: Manifest; contents: Record<string, unknown> }[];
    manifests: { manifest: Manifest; contents: Record<string, unknown> }[];
    not_found: string[];
    deferred: string[];
  }> {
    this.record('fetchBundles', body);
    const found = [];
    const notFound: string[] = [];
    for (const r of body.rids) {
      const b = this.bundles.get(r);
      if (b) found.push(b);
      else notFound.push(r);
    }
    return { bundles: found, manifests: found, not_found: notFound, deferred: [] };
  }
}

export interface TestServer extends RunningServer {
  node: InMemoryNode;
  app: Express;
}

export async function startTestServer(
  options: Partial<KoiNetAppOptions> & { handlers?: KoiNetHandlers } = {},
): Promise<TestServer> {
  const node = new InMemoryNode();
  const app = createKoiNetApp({ logger: silentLogger, ...options, handlers: options.handlers ?? node });
  const running = await startServer(app, { host: '127.0.0.1', port: 0 });
  return { ...running, node, app };
}

export interface RawResponse {
  status: number;
  contentType: string | null;
  text: string;
  json: unknown;
}

/** POST (or other method) with full control of body and Content-Type; `contentType: null` sends none. */
export async function send(
  url: string,
  init: { method?: string; body?: string | Uint8Array; contentType?: string | null } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = {};
  const method = init.method ?? 'POST';
  let body: string | Uint8Array | undefined = init.body;
  if (method === 'GET' || method === 'HEAD') body = undefined;
  if (init.contentType !== null) headers['content-type'] = init.contentType ?? 'application/json';
  // fetch adds text/plain for string bodies; a Uint8Array body goes out without a Content-Type.
  if (init.contentType === null && typeof body === 'string') body = new TextEncoder().encode(body);
  // A fresh copy types as Uint8Array<ArrayBuffer>, which fetch's BodyInit accepts.
  const res = await fetch(url, { method, headers, body: typeof body === 'string' ? body : body && new Uint8Array(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type'), text, json };
}
