/**
 * The fast path of the fetch endpoints (withFastPath, fast-accept.ts) must be invisible: for any
 * request, the server with it answers byte for byte what the full express pipeline (route, body,
 * caps, express-openapi-validator, handler) answers. Checked over generated bodies, valid and not,
 * against two servers on the same handlers: one with the fast path (startServer) and one serving
 * the express app alone.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import fc from 'fast-check';
import { createKoiNetApp, startServer, withFastPath, type RunningServer } from '../../../src/server/index.ts';
import { SerializedJson } from '../../../src/server/serialized.ts';
import { fastAccept } from '../../../src/server/fast-accept.ts';
import { acceptedEventsOf, isContractChecked, rawBodyOf } from '../../../src/server/checked-body.ts';
import { silentLogger } from '../../../src/logger.ts';
import { COORDINATOR_RID, InMemoryNode, send } from './helpers.ts';

const PATHS = {
  fetchRids: '/koi-net/rids/fetch',
  fetchManifests: '/koi-net/manifests/fetch',
  fetchBundles: '/koi-net/bundles/fetch',
  pollEvents: '/koi-net/events/poll',
} as const;

const ridish = fc.oneof(
  fc.constantFrom(COORDINATOR_RID, 'orn:test.doc:a', 'https://example.com/x', 'urn:isbn:0451450523', 'orn:koi-net.edge:abc'),
  fc.constantFrom('', 'orn', 'orn:', 'orn::x', 'orn:koi-net.node', 'a:b', 'a:😀', '😀:😀', ':x', 'https:', 'ORN:koi-net.node', 'orn:koi-net.node:a+b+c'),
  fc.string({ maxLength: 12 }),
);
const list = fc.oneof(fc.array(ridish, { maxLength: 4 }), fc.constant(null), fc.integer(), fc.string({ maxLength: 4 }), fc.array(fc.integer(), { maxLength: 2 }));
const limit = fc.oneof(fc.integer({ min: -3, max: 3000 }), fc.constantFrom(1.5, -0, 1e300, '3', null, true));
const body = fc.oneof(
  fc.record({ rid_types: list, rids: list, extra: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] }),
  fc.record({ rid: ridish, limit, extra: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] }),
  fc.jsonValue({ maxDepth: 2 }),
);

const manifestish = fc.record(
  {
    rid: ridish,
    timestamp: fc.constantFrom('2025-04-08T14:10:19.123456Z', '2025-04-08T14:10:19Z', '2025-02-30T00:00:00Z', 'yesterday', 7),
    sha256_hash: fc.constantFrom('a'.repeat(64), 'ab', 'A'.repeat(64), null),
  },
  { requiredKeys: [] },
);
const eventish = fc.oneof(
  fc.record(
    {
      rid: ridish,
      event_type: fc.constantFrom('NEW', 'UPDATE', 'FORGET', 'new', 'DELETE', null),
      manifest: fc.oneof(manifestish, fc.constant(null)),
      contents: fc.oneof(fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), fc.constant(null), fc.integer()),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 1 }),
);
/** Contents nested `depth` levels deep (the contents object is level 1). */
function nested(depth: number): unknown {
  let v: unknown = {};
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
}

describe('server: the fast path of fetches answers exactly as the full pipeline', function () {
  this.timeout(120_000);
  const node = new InMemoryNode();
  node.put('orn:test.doc:a', { title: 'a' });
  let fast: RunningServer;
  let plain: Server;
  let plainUrl: string;

  before(async () => {
    fast = await startServer(createKoiNetApp({ logger: silentLogger, handlers: node }), { host: '127.0.0.1', port: 0 });
    const app = createKoiNetApp({ logger: silentLogger, handlers: node });
    plain = createServer(app);
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
    plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  });
  after(async () => {
    await fast.close();
    await new Promise<void>((r) => plain.close(() => r()));
  });

  async function both(path: string, init: { body: string; contentType?: string | null }): Promise<void> {
    const [a, b] = await Promise.all([send(fast.url + path, init), send(plainUrl + path, init)]);
    expect({ status: a.status, type: a.contentType, text: a.text }, `${path} ${init.body}`).to.deep.equal({ status: b.status, type: b.contentType, text: b.text });
  }

  for (const [op, path] of Object.entries(PATHS)) {
    it(`${op}: generated bodies, with and without Content-Type`, async () => {
      await fc.assert(
        fc.asyncProperty(body, fc.constantFrom<string | null>('application/json', null, 'text/plain'), async (b, contentType) => {
          await both(path, { body: JSON.stringify(b), contentType });
        }),
        { numRuns: 150 },
      );
    });
  }

  it('broadcastEvents: generated bodies, with and without Content-Type', async () => {
    const broadcast = fc.oneof(fc.record({ events: fc.array(eventish, { maxLength: 4 }), extra: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: ['events'] }), body);
    await fc.assert(
      fc.asyncProperty(broadcast, fc.constantFrom<string | null>('application/json', null, 'text/plain'), async (b, contentType) => {
        await both('/koi-net/events/broadcast', { body: JSON.stringify(b), contentType });
      }),
      { numRuns: 200 },
    );
  });

  it('broadcastEvents: contents at, and past, the nesting limits; lists past their cap', async () => {
    const event = (contents: unknown): unknown => ({ rid: 'orn:test.doc:a', event_type: 'NEW', contents });
    for (const depth of [99, 100, 101, 102]) {
      await both('/koi-net/events/broadcast', { body: JSON.stringify({ events: [event({}), event(nested(depth))] }) });
    }
    await both('/koi-net/events/broadcast', { body: JSON.stringify({ events: [event({})], extra: nested(104) }) });
    await both('/koi-net/events/broadcast', { body: JSON.stringify({ events: Array.from({ length: 1001 }, () => event({})) }) });
  });

  it('broadcastEvents: a valid broadcast reaches the handler checked, with its events built and its bytes kept for the inbox', async () => {
    const seen: { checked: boolean; raw: string | undefined; built: number | undefined }[] = [];
    const app = createKoiNetApp({
      logger: silentLogger,
      handlers: {
        ...node,
        pollEvents: node.pollEvents.bind(node),
        fetchRids: node.fetchRids.bind(node),
        fetchManifests: node.fetchManifests.bind(node),
        fetchBundles: node.fetchBundles.bind(node),
        broadcastEvents: async (b) => {
          seen.push({ checked: isContractChecked(b), raw: rawBodyOf(b)?.toString('utf8'), built: acceptedEventsOf(b)?.length });
          return null;
        },
      },
    });
    // Whatever the fast path hands on is answered 599 here.
    const server = createServer(
      withFastPath(app, (_req: IncomingMessage, res: ServerResponse) => {
        res.statusCode = 599;
        res.end();
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const text = JSON.stringify({ events: [{ rid: 'orn:test.doc:a', event_type: 'NEW', manifest: null, contents: { title: 'a' } }, { rid: 'orn:test.doc:b', event_type: 'FORGET' }] });
      const res = await send(`${url}/koi-net/events/broadcast`, { body: text });
      expect({ status: res.status, type: res.contentType, text: res.text }).to.deep.equal({ status: 200, type: 'application/json; charset=utf-8', text: 'null' });
      expect(seen).to.deep.equal([{ checked: true, raw: text, built: 2 }]);
      // A signed envelope's shape is never the fast path's.
      const envelope = await send(`${url}/koi-net/events/broadcast`, { body: JSON.stringify({ payload: { type: 'events_payload', events: [] }, source_node: COORDINATOR_RID, target_node: COORDINATOR_RID, signature: 'x' }) });
      expect(envelope.status).to.equal(599);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('bodies that are not JSON, empty, or null', async () => {
    for (const path of [...Object.values(PATHS), '/koi-net/events/broadcast']) {
      for (const raw of ['{bad json', '', 'null', '[]', '{"rids": ["orn:test.doc:a"]', '\u00ff']) await both(path, { body: raw });
    }
  });

  it('pollEvents: the handler gets the same capped limit, and the same events, on either path', async () => {
    const queued = (n: number): ReturnType<InMemoryNode['pollEvents']> extends Promise<{ events: infer E }> ? E : never =>
      Array.from({ length: n }, (_, i) => ({ rid: `orn:test.doc:${i}`, event_type: 'NEW' }) as never);
    for (const asked of [undefined, 0, 2, 5000]) {
      const sent = JSON.stringify(asked === undefined ? { rid: COORDINATOR_RID } : { rid: COORDINATOR_RID, limit: asked });
      const answers: string[] = [];
      const limits: unknown[] = [];
      for (const url of [fast.url, plainUrl]) {
        node.queues.set(COORDINATOR_RID, queued(3));
        node.calls.length = 0;
        answers.push((await send(url + PATHS.pollEvents, { body: sent })).text);
        limits.push((node.calls[0]?.body as { limit?: unknown } | undefined)?.limit);
      }
      expect(answers[0], sent).to.equal(answers[1]);
      expect(limits[0], sent).to.equal(limits[1]);
      expect(limits[0]).to.be.a('number').and.to.be.greaterThan(0);
    }
  });

  it('fastAccept never accepts what the contract refuses, and fills in the defaults', () => {
    const rids = { rid_types: ['orn:test.doc'] } as Record<string, unknown>;
    expect(fastAccept('fetchManifests', rids)).to.equal(true);
    expect(rids).to.deep.equal({ rid_types: ['orn:test.doc'], rids: [] });
    for (const bad of [{ rid_types: ['orn'] }, { rid_types: 'orn:x' }, { rid_types: [1] }, { rid_types: null }, [], null, 'x']) {
      const copy = structuredClone(bad);
      expect(fastAccept('fetchRids', bad), JSON.stringify(bad)).to.equal(false);
      // Refused bodies go on to the validator untouched.
      expect(bad).to.deep.equal(copy);
    }
    expect(fastAccept('fetchBundles', {})).to.equal(false);
    const poll = { rid: COORDINATOR_RID } as Record<string, unknown>;
    expect(fastAccept('pollEvents', poll)).to.equal(true);
    expect(poll).to.deep.equal({ rid: COORDINATOR_RID, limit: 0 });
    // Not a node RID (the pipeline answers an empty list), a bad limit, an unknown key: not here.
    for (const bad of [{ rid: 'orn:test.doc:a' }, { rid: COORDINATOR_RID, limit: -1 }, { rid: COORDINATOR_RID, limit: 1.5 }, { rid: COORDINATOR_RID, x: 1 }, {}]) {
      expect(fastAccept('pollEvents', bad), JSON.stringify(bad)).to.equal(false);
    }
    expect(fastAccept('broadcastEvents', { events: [] })).to.equal(false);
  });

  it('a handler that fails answers the pipeline’s 500 JSON; a handler’s SerializedJson goes out as it is', async () => {
    const failing = createKoiNetApp({
      logger: silentLogger,
      handlers: {
        ...node,
        broadcastEvents: node.broadcastEvents.bind(node),
        pollEvents: node.pollEvents.bind(node),
        fetchManifests: node.fetchManifests.bind(node),
        fetchRids: () => Promise.reject(new Error('boom')),
        fetchBundles: () => Promise.resolve(new SerializedJson('{"bundles":[],"not_found":[],"deferred":[]}') as never),
      },
    });
    const server = await startServer(failing, { host: '127.0.0.1', port: 0 });
    try {
      const res = await send(`${server.url}/koi-net/rids/fetch`, { body: '{}' });
      expect(res.status).to.equal(500);
      expect(res.json).to.deep.equal({ detail: 'Internal Server Error' });
      const ok = await send(`${server.url}/koi-net/bundles/fetch`, { body: '{"rids":[]}' });
      expect(ok.status).to.equal(200);
      expect(ok.contentType).to.equal('application/json; charset=utf-8');
      expect(ok.text).to.equal('{"bundles":[],"not_found":[],"deferred":[]}');
    } finally {
      await server.close();
    }
  });
});
