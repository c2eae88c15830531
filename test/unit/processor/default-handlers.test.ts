import { expect } from 'chai';
import { KoiNetEdge, KoiNetNode, RID } from '../../../src/rid/index.ts';
import { Bundle, Event, EventType, KnowledgeObject, KnowledgeSource, Manifest } from '../../../src/knowledge/index.ts';
import { EdgeStatus, EdgeType, NodeType, type NodeProfile } from '../../../src/protocol/index.ts';
import {
  STOP_CHAIN,
  basicManifestHandler,
  basicNetworkOutputFilter,
  basicRidHandler,
  defaultHandlers,
  edgeNegotiationHandler,
  forgetNodeHandler,
  secureProfileHandler,
  type HandlerContext,
  type HandlerResult,
  type KnowledgeHandler,
} from '../../../src/processor/index.ts';
import { readFileSync } from 'node:fs';
import { NodeKeyPair } from '../../../src/secure/index.ts';
import { edgeBundle, edgeProfile, makeHarness, nodeBundle, nodeProfile, sleep, type Harness } from './fixtures/harness.ts';

const { EXTERNAL, INTERNAL } = KnowledgeSource;
const thing = (ref: string): RID => RID.fromString(`orn:test.thing:${ref}`);

/** The context the processor would give, for calling a handler directly. */
function ctxOf(h: Harness, sourceNode?: string): HandlerContext {
  return {
    cache: h.cache,
    identity: h.identity,
    graph: h.graph,
    network: h.network,
    processor: h.processor,
    logger: h.logger,
    sourceNode,
    handle: (input) => h.processor.handle(input),
  };
}

const call = async (handler: KnowledgeHandler, h: Harness, kobj: KnowledgeObject): Promise<HandlerResult> =>
  handler.fn(ctxOf(h), kobj);

describe('processor/default-handlers', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('exports the six handlers in order, with their phases and filters', () => {
    expect(defaultHandlers.map((d) => [d.name, d.handlerType])).to.deep.equal([
      ['basicRidHandler', 'RID'],
      ['basicManifestHandler', 'Manifest'],
      ['secureProfileHandler', 'Bundle'],
      ['edgeNegotiationHandler', 'Bundle'],
      ['basicNetworkOutputFilter', 'Network'],
      ['forgetNodeHandler', 'Final'],
    ]);
    expect(edgeNegotiationHandler.ridTypes?.map(String)).to.deep.equal(['orn:koi-net.edge']);
    expect(secureProfileHandler.ridTypes?.map(String)).to.deep.equal(['orn:koi-net.node']);
    expect(forgetNodeHandler.ridTypes?.map(String)).to.deep.equal(['orn:koi-net.node']);
  });

  describe('basicRidHandler', () => {
    beforeEach(async () => {
      h = await makeHarness();
    });

    it("stops external knowledge about this node's own RID", async () => {
      expect(await call(basicRidHandler, h, KnowledgeObject.fromBundle(h.identity.bundle, EventType.NEW, EXTERNAL))).to.equal(STOP_CHAIN);
      expect(await call(basicRidHandler, h, KnowledgeObject.fromRid(h.me, EventType.FORGET, EXTERNAL))).to.equal(STOP_CHAIN);
    });

    it('lets internal knowledge about itself through (start-up writes its own bundle)', async () => {
      expect(await call(basicRidHandler, h, KnowledgeObject.fromBundle(h.identity.bundle))).to.equal(undefined);
      await h.processor.handle({ bundle: h.identity.bundle, flush: true });
      expect(h.cache.exists(h.me)).to.equal(true);
    });

    it('FORGET of a cached RID: normalized FORGET', async () => {
      await h.cache.write(Bundle.generate(thing('a'), { v: 1 }));
      const kobj = KnowledgeObject.fromRid(thing('a'), EventType.FORGET, EXTERNAL);
      const out = await call(basicRidHandler, h, kobj);
      expect(out).to.be.instanceOf(KnowledgeObject);
      expect((out as KnowledgeObject).normalizedEventType).to.equal('FORGET');
    });

    it('FORGET of an unknown RID: stop', async () => {
      expect(await call(basicRidHandler, h, KnowledgeObject.fromRid(thing('a'), EventType.FORGET, EXTERNAL))).to.equal(STOP_CHAIN);
    });

    it('anything else: unchanged', async () => {
      const kobj = KnowledgeObject.fromRid(thing('a'), EventType.NEW, EXTERNAL);
      expect(await call(basicRidHandler, h, kobj)).to.equal(undefined);
      expect(kobj.normalizedEventType).to.equal(undefined);
    });
  });

  describe('basicManifestHandler', () => {
    const rid = thing('m');
    const at = (iso: string, hash = 'a'.repeat(64)): Manifest => new Manifest({ rid, timestamp: iso, sha256Hash: hash });
    beforeEach(async () => {
      h = await makeHarness();
    });

    it('unknown RID: NEW', async () => {
      const out = (await call(basicManifestHandler, h, KnowledgeObject.fromManifest(at('2025-01-01T00:00:00Z')))) as KnowledgeObject;
      expect(out.normalizedEventType).to.equal('NEW');
    });

    describe('cached', () => {
      let cached: Bundle;
      beforeEach(async () => {
        cached = Bundle.generate(rid, { v: 1 }, new Date('2025-01-01T00:00:00.500Z'));
        await h.cache.write(cached);
      });

      it('same hash: stop (even if newer)', async () => {
        const m = new Manifest({ rid, timestamp: '2030-01-01T00:00:00Z', sha256Hash: cached.manifest.sha256Hash });
        expect(await call(basicManifestHandler, h, KnowledgeObject.fromManifest(m))).to.equal(STOP_CHAIN);
      });

      it('older: stop', async () => {
        expect(await call(basicManifestHandler, h, KnowledgeObject.fromManifest(at('2024-12-31T23:59:59Z')))).to.equal(STOP_CHAIN);
      });

      it('same instant: stop', async () => {
        expect(await call(basicManifestHandler, h, KnowledgeObject.fromManifest(at('2025-01-01T00:00:00.500000Z')))).to.equal(STOP_CHAIN);
      });

      it('compares instants, not strings: a later-looking local time with an offset can be older', async () => {
        // 01:00:00.4+01:00 is 00:00:00.4Z, 100 ms before the cached one.
        expect(await call(basicManifestHandler, h, KnowledgeObject.fromManifest(at('2025-01-01T01:00:00.4+01:00')))).to.equal(STOP_CHAIN);
      });

      it('one microsecond newer with another hash: UPDATE', async () => {
        const out = (await call(basicManifestHandler, h, KnowledgeObject.fromManifest(at('2025-01-01T00:00:00.500001Z')))) as KnowledgeObject;
        expect(out.normalizedEventType).to.equal('UPDATE');
      });
    });
  });

  describe('edgeNegotiationHandler', () => {
    let peer: KoiNetNode;
    let partial: KoiNetNode;

    beforeEach(async () => {
      h = await makeHarness({ profile: nodeProfile({ events: ['orn:test.thing'] }) });
      peer = KoiNetNode.generate('peer');
      partial = KoiNetNode.generate('partial');
      await h.seed(
        nodeBundle(h.me, h.identity.profile),
        nodeBundle(peer, nodeProfile()),
        nodeBundle(partial, nodeProfile({ nodeType: NodeType.PARTIAL })),
      );
    });

    const proposal = (target: KoiNetNode, opts: Parameters<typeof edgeProfile>[2] = {}, at?: Date): Bundle =>
      edgeBundle(edgeProfile(h.me, target, opts), at);
    const external = (b: Bundle): KnowledgeObject => KnowledgeObject.fromBundle(b, EventType.NEW, EXTERNAL);

    it('ignores internal edges', async () => {
      expect(await call(edgeNegotiationHandler, h, KnowledgeObject.fromBundle(proposal(partial)))).to.equal(undefined);
      expect(h.processor.queueDepth).to.equal(0);
    });

    it('ignores edges where this node is not the source', async () => {
      const b = edgeBundle(edgeProfile(peer, h.me));
      expect(await call(edgeNegotiationHandler, h, external(b))).to.equal(undefined);
    });

    it('drops an external APPROVED edge from this node: only this node approves its edges', async () => {
      expect(await call(edgeNegotiationHandler, h, external(proposal(peer, { status: EdgeStatus.APPROVED })))).to.equal(STOP_CHAIN);
      expect(h.network.pushed).to.deep.equal([]);
    });

    it('stops an edge with an invalid profile', async () => {
      const b = Bundle.generate(KoiNetEdge.generate(h.me, peer), { source: String(h.me), nonsense: true });
      expect(await call(edgeNegotiationHandler, h, external(b))).to.equal(STOP_CHAIN);
    });

    it('stops a proposal from an unknown peer, sending nothing', async () => {
      const stranger = KoiNetNode.generate('stranger');
      expect(await call(edgeNegotiationHandler, h, external(proposal(stranger)))).to.equal(STOP_CHAIN);
      expect(h.network.pushed).to.deep.equal([]);
    });

    it('refuses a WEBHOOK edge to a PARTIAL node: FORGET of the edge pushed (flush) to the peer, stop', async () => {
      const b = proposal(partial, { edgeType: EdgeType.WEBHOOK });
      expect(await call(edgeNegotiationHandler, h, external(b))).to.equal(STOP_CHAIN);
      expect(h.network.pushedSummary()).to.deep.equal([`FORGET ${String(b.rid)} -> ${String(partial)} (flush)`]);
    });

    it('refuses RID types this node does not provide', async () => {
      const b = proposal(peer, { ridTypes: ['orn:test.thing', 'orn:test.secret'] });
      expect(await call(edgeNegotiationHandler, h, external(b))).to.equal(STOP_CHAIN);
      expect(h.network.pushedSummary()).to.deep.equal([`FORGET ${String(b.rid)} -> ${String(peer)} (flush)`]);
    });

    it('still stops when the refusal cannot be delivered', async () => {
      h.network.failPushTo.add(String(partial));
      expect(await call(edgeNegotiationHandler, h, external(proposal(partial)))).to.equal(STOP_CHAIN);
      expect(h.logger.at('warn').map((l) => l.msg)).to.include('could not send edge refusal');
    });

    for (const [label, target, opts] of [
      ['POLL from a PARTIAL node for node and edge types', () => partial, { edgeType: EdgeType.POLL, ridTypes: ['orn:koi-net.node', 'orn:koi-net.edge'] }],
      ['WEBHOOK from a FULL node for a provided type', () => peer, { edgeType: EdgeType.WEBHOOK, ridTypes: ['orn:test.thing'] }],
    ] as const) {
      it(`accepts ${label}: queues an internal APPROVED bundle of the same edge`, async () => {
        const b = proposal(target(), opts);
        let queued: KnowledgeObject | undefined;
        const ctx = ctxOf(h);
        const result = await edgeNegotiationHandler.fn(
          {
            ...ctx,
            handle: async (input) => {
              queued = KnowledgeObject.fromBundle(input.bundle!, input.eventType);
            },
          },
          external(b),
        );
        expect(result).to.equal(undefined);
        expect(String(queued?.rid)).to.equal(String(b.rid));
        expect(queued?.source).to.equal(INTERNAL);
        expect(queued?.contents).to.deep.equal({ ...b.contents, status: 'APPROVED' });
        expect(queued!.manifest!.timeMicros).to.be.greaterThan(b.manifest.timeMicros);
      });
    }

    it('the approval supersedes the proposal even when the peer clock runs ahead', async () => {
      const future = new Date(Date.now() + 60_000);
      const b = proposal(peer, {}, future);
      await h.processor.handle({ bundle: b, eventType: EventType.NEW, source: EXTERNAL, sourceNode: peer, flush: true });
      expect((await h.cache.read(b.rid))?.contents['status']).to.equal('APPROVED');
    });

    it('end to end: a proposal event is cached, approved, and the approval (not the proposal) reaches the peer', async () => {
      const b = proposal(peer);
      await h.processor.handle({ event: Event.fromBundle(b, EventType.NEW), sourceNode: peer, flush: true });
      expect((await h.cache.read(b.rid))?.contents['status']).to.equal('APPROVED');
      expect(h.graph.getEdgeProfile({ rid: String(b.rid) })?.status).to.equal('APPROVED');
      expect(h.network.pushedSummary()).to.deep.equal([`UPDATE ${String(b.rid)} -> ${String(peer)}`]);
      expect(h.network.pushed[0]?.event.contents?.['status']).to.equal('APPROVED');
    });

    it('end to end: a refused proposal is never cached', async () => {
      const b = proposal(partial);
      await h.processor.handle({ event: Event.fromBundle(b, EventType.NEW), source: EXTERNAL, flush: true });
      expect(h.cache.exists(b.rid)).to.equal(false);
      expect(h.processor.counters.stopped).to.equal(1);
    });
  });

  describe('basicNetworkOutputFilter', () => {
    let sub: KoiNetNode; // subscribes to node events and test.thing
    let other: KoiNetNode; // subscribes to test.other only
    let provider: KoiNetNode; // this node subscribes to it (in-edge)

    async function setup(events: string[]): Promise<void> {
      h = await makeHarness({ profile: nodeProfile({ events }) });
      sub = KoiNetNode.generate('sub');
      other = KoiNetNode.generate('other');
      provider = KoiNetNode.generate('provider');
      await h.seed(
        nodeBundle(sub, nodeProfile()),
        nodeBundle(other, nodeProfile()),
        nodeBundle(provider, nodeProfile()),
        edgeBundle(edgeProfile(h.me, sub, { status: EdgeStatus.APPROVED, ridTypes: ['orn:koi-net.node', 'orn:test.thing'] })),
        edgeBundle(edgeProfile(h.me, other, { status: EdgeStatus.APPROVED, ridTypes: ['orn:test.other'] })),
        edgeBundle(edgeProfile(provider, h.me, { status: EdgeStatus.APPROVED, ridTypes: ['orn:test.thing', 'orn:koi-net.node'] })),
      );
    }
    const targets = async (kobj: KnowledgeObject): Promise<string[]> => {
      const out = (await call(basicNetworkOutputFilter, h, kobj)) as KnowledgeObject;
      return [...out.networkTargets].sort();
    };

    it("own node RID (internal) involves me: node-type subscribers, even if not provided", async () => {
      await setup([]);
      expect(await targets(KnowledgeObject.fromBundle(h.identity.bundle))).to.deep.equal([String(sub)]);
    });

    it('own node RID (external) does not involve me', async () => {
      await setup([]);
      expect(await targets(KnowledgeObject.fromBundle(h.identity.bundle, EventType.NEW, EXTERNAL))).to.deep.equal([]);
    });

    it("another node's RID: only when this node provides node events", async () => {
      await setup([]);
      const n = KoiNetNode.generate('n');
      expect(await targets(KnowledgeObject.fromBundle(nodeBundle(n, nodeProfile())))).to.deep.equal([]);
      await h.close();
      await setup(['orn:koi-net.node']);
      expect(await targets(KnowledgeObject.fromBundle(nodeBundle(n, nodeProfile()), EventType.NEW, EXTERNAL))).to.deep.equal([String(sub)]);
    });

    it('provided type: only out-neighbors whose edge asks for it', async () => {
      await setup(['orn:test.thing', 'orn:test.other']);
      expect(await targets(KnowledgeObject.fromBundle(Bundle.generate(thing('x'), { v: 1 }), EventType.NEW, EXTERNAL))).to.deep.equal([String(sub)]);
      expect(await targets(KnowledgeObject.fromBundle(Bundle.generate('orn:test.other:y', { v: 1 })))).to.deep.equal([String(other)]);
    });

    it('unprovided type: nobody', async () => {
      await setup([]);
      expect(await targets(KnowledgeObject.fromBundle(Bundle.generate(thing('x'), { v: 1 })))).to.deep.equal([]);
    });

    it('internal edge with me as source: its target (plus edge-type subscribers: none here)', async () => {
      await setup([]);
      const stranger = KoiNetNode.generate('stranger');
      const e = edgeBundle(edgeProfile(h.me, stranger, { status: EdgeStatus.APPROVED }));
      expect(await targets(KnowledgeObject.fromBundle(e))).to.deep.equal([String(stranger)]);
    });

    it('internal edge with me as target: its source', async () => {
      await setup([]);
      const stranger = KoiNetNode.generate('stranger');
      const e = edgeBundle(edgeProfile(stranger, h.me));
      expect(await targets(KnowledgeObject.fromBundle(e))).to.deep.equal([String(stranger)]);
    });

    it('edge involving me adds subscribers of edge events too', async () => {
      await setup([]);
      await h.seed(edgeBundle(edgeProfile(h.me, other, { status: EdgeStatus.APPROVED, ridTypes: ['orn:koi-net.edge'] })));
      const stranger = KoiNetNode.generate('stranger');
      const e = edgeBundle(edgeProfile(stranger, h.me));
      expect(await targets(KnowledgeObject.fromBundle(e))).to.deep.equal([String(other), String(stranger)].sort());
    });

    it('internal edge between two other nodes, or an external edge: nobody', async () => {
      await setup([]);
      const e1 = edgeBundle(edgeProfile(sub, other));
      expect(await targets(KnowledgeObject.fromBundle(e1))).to.deep.equal([]);
      const e2 = edgeBundle(edgeProfile(h.me, sub));
      expect(await targets(KnowledgeObject.fromBundle(e2, EventType.NEW, EXTERNAL))).to.deep.equal([]);
    });

    it('through the pipeline: FORGET of my edge goes to the other end; the sender is never echoed', async () => {
      await setup(['orn:test.thing']);
      const e = edgeBundle(edgeProfile(h.me, sub, { status: EdgeStatus.APPROVED, ridTypes: ['orn:koi-net.node', 'orn:test.thing'] }));
      await h.processor.handle({ rid: e.rid, eventType: EventType.FORGET, flush: true });
      expect(h.network.pushedSummary()).to.deep.equal([`FORGET ${String(e.rid)} -> ${String(sub)}`]);

      h.network.pushed.length = 0;
      // sub sends us a thing: sub subscribes to things, but must not get its own event back.
      await h.processor.handle({ event: Event.fromBundle(Bundle.generate(thing('z'), { v: 1 }), EventType.NEW), sourceNode: sub, flush: true });
      await sleep(0);
      expect(h.network.pushed).to.deep.equal([]);
      expect(h.cache.exists(thing('z'))).to.equal(true);
    });
  });

  /** Keys and RIDs made by the Python reference (test/fixtures/pydantic_json.json). */
  const vectors = JSON.parse(readFileSync(new URL('../../fixtures/pydantic_json.json', import.meta.url), 'utf8')) as {
    node_rids: Record<string, { rid: string; public_key_der_b64: string }>;
  };
  const [vecA, vecB] = Object.values(vectors.node_rids) as [{ rid: string; public_key_der_b64: string }, { rid: string; public_key_der_b64: string }];

  describe('secureProfileHandler (koi-net 2.x secure profile handler)', () => {
    const MY_URL = 'http://127.0.0.1:7001/koi-net';
    const signedProfile = (key: string, baseUrl?: string): NodeProfile =>
      ({ node_type: baseUrl ? NodeType.FULL : NodeType.PARTIAL, ...(baseUrl ? { base_url: baseUrl } : {}), provides: { event: [], state: [] }, public_key: key }) as NodeProfile;
    const kobjOf = (rid: string, profile: NodeProfile): KnowledgeObject =>
      KnowledgeObject.fromBundle(nodeBundle(KoiNetNode.fromString(rid), profile), EventType.NEW, EXTERNAL);

    describe('signed mode', () => {
      beforeEach(async () => {
        h = await makeHarness({ profile: signedProfile(NodeKeyPair.generate().publicKeyDerB64, MY_URL) });
      });

      it('keeps a profile whose public_key hashes to its RID (reference vectors A and B)', async () => {
        expect(await call(secureProfileHandler, h, kobjOf(vecA.rid, signedProfile(vecA.public_key_der_b64)))).to.equal(undefined);
        expect(await call(secureProfileHandler, h, kobjOf(vecB.rid, signedProfile(vecB.public_key_der_b64, 'http://127.0.0.1:7002/koi-net')))).to.equal(undefined);
      });

      it("drops a profile carrying another node's key, or none", async () => {
        expect(await call(secureProfileHandler, h, kobjOf(vecA.rid, signedProfile(vecB.public_key_der_b64)))).to.equal(STOP_CHAIN);
        const noKey = { node_type: NodeType.PARTIAL, provides: { event: [], state: [] } } as NodeProfile;
        expect(await call(secureProfileHandler, h, kobjOf(vecA.rid, noKey))).to.equal(STOP_CHAIN);
        expect(h.logger.at('warn').map((l) => l.msg)).to.include('node bundle whose public_key does not hash to its RID dropped');
      });

      it("drops a valid profile that claims this node's base_url (also with a trailing slash)", async () => {
        expect(await call(secureProfileHandler, h, kobjOf(vecB.rid, signedProfile(vecB.public_key_der_b64, MY_URL)))).to.equal(STOP_CHAIN);
        expect(await call(secureProfileHandler, h, kobjOf(vecB.rid, signedProfile(vecB.public_key_der_b64, `${MY_URL}/`)))).to.equal(STOP_CHAIN);
      });

      it('through the pipeline: a forged profile is not cached and not in the graph', async () => {
        await h.processor.handle({ bundle: nodeBundle(KoiNetNode.fromString(vecA.rid), signedProfile(vecB.public_key_der_b64, 'http://127.0.0.1:7666/koi-net')), sourceNode: vecB.rid, flush: true });
        expect(h.cache.exists(vecA.rid)).to.equal(false);
        expect(h.graph.getNodeProfile(vecA.rid)).to.equal(undefined);
        await h.processor.handle({ bundle: nodeBundle(KoiNetNode.fromString(vecA.rid), signedProfile(vecA.public_key_der_b64)), sourceNode: vecB.rid, flush: true });
        expect(h.cache.exists(vecA.rid)).to.equal(true);
      });
    });

    describe('unsigned mode', () => {
      beforeEach(async () => {
        h = await makeHarness({ profile: nodeProfile({ baseUrl: MY_URL }) });
      });

      it('does not ask for keys, but still drops a profile claiming our base_url', async () => {
        const other = KoiNetNode.generate('other');
        expect(await call(secureProfileHandler, h, kobjOf(String(other), nodeProfile({ baseUrl: 'http://127.0.0.1:7002/koi-net' })))).to.equal(undefined);
        expect(await call(secureProfileHandler, h, kobjOf(String(other), nodeProfile({ baseUrl: MY_URL })))).to.equal(STOP_CHAIN);
      });

      it('a partial node does not take every other partial node for an impostor', async () => {
        await h.close();
        h = await makeHarness({ profile: nodeProfile({ nodeType: NodeType.PARTIAL }) });
        const other = KoiNetNode.generate('other');
        expect(await call(secureProfileHandler, h, kobjOf(String(other), nodeProfile({ nodeType: NodeType.PARTIAL })))).to.equal(undefined);
      });
    });
  });

  describe('forgetNodeHandler (koi-net 2.x forget-node handler)', () => {
    beforeEach(async () => {
      h = await makeHarness();
    });

    it("a FORGET of a node removes every edge it is an end of, from cache and graph, and tells our edges' other end", async () => {
      const x = KoiNetNode.generate('x');
      const y = KoiNetNode.generate('y');
      const z = KoiNetNode.generate('z');
      const toMe = edgeBundle(edgeProfile(x, h.me, { status: EdgeStatus.APPROVED }));
      const fromMe = edgeBundle(edgeProfile(h.me, x, { status: EdgeStatus.APPROVED }));
      const xy = edgeBundle(edgeProfile(x, y, { status: EdgeStatus.APPROVED }));
      const yz = edgeBundle(edgeProfile(y, z, { status: EdgeStatus.APPROVED }));
      await h.seed(nodeBundle(x, nodeProfile()), nodeBundle(y, nodeProfile()), nodeBundle(z, nodeProfile()), toMe, fromMe, xy, yz);
      expect(h.graph.getNeighbors().map(String)).to.deep.equal([String(x)]);

      await h.processor.handle({ rid: x, eventType: EventType.FORGET, sourceNode: y, flush: true });
      for (const e of [toMe, fromMe, xy]) {
        expect(h.cache.exists(e.rid), String(e.rid)).to.equal(false);
        expect(h.graph.getEdgeProfile({ rid: e.rid })).to.equal(undefined);
      }
      expect(h.cache.exists(yz.rid)).to.equal(true);
      expect(h.graph.getEdgeProfile({ rid: yz.rid })?.source).to.equal(String(y));
      expect(h.graph.getNeighbors()).to.deep.equal([]);
      expect(h.graph.hasNode(x)).to.equal(false);
    });

    it('a FORGET of an unknown node, or of an edge, changes no edge', async () => {
      const y = KoiNetNode.generate('y');
      const e = edgeBundle(edgeProfile(y, h.me, { status: EdgeStatus.APPROVED }));
      await h.seed(nodeBundle(y, nodeProfile()), e);
      await h.processor.handle({ rid: KoiNetNode.generate('ghost'), eventType: EventType.FORGET, sourceNode: y, flush: true });
      expect(h.cache.exists(e.rid)).to.equal(true);
    });
  });
});
