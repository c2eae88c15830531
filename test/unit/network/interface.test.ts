import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { FakePeer, type FakeAnswer as Answer } from '../../helpers/fake-peer.ts';
import { collectingLogger, type CollectingLogger } from '../../helpers/logger.ts';
import { KoiNetEdge, RID, type KoiNetNode } from '../../../src/rid/index.ts';
import { Bundle, Event, EventType, type JsonObject } from '../../../src/knowledge/index.ts';
import { Cache } from '../../../src/cache/index.ts';
import type { NodeProfile } from '../../../src/protocol/index.ts';
import { NetworkGraph } from '../../../src/graph/index.ts';
import { EventQueues } from '../../../src/queues/index.ts';
import { RequestHandler } from '../../../src/peer/index.ts';
import { NetworkInterface } from '../../../src/network/network-interface.ts';

function nodeRid(name: string, n: number): KoiNetNode {
  return RID.fromString(`orn:koi-net.node:${name}+00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`) as KoiNetNode;
}

function profile(nodeType: 'FULL' | 'PARTIAL', baseUrl: string | null, state: string[] = []): NodeProfile {
  return { base_url: baseUrl, node_type: nodeType, provides: { event: [], state } };
}

function edge(source: KoiNetNode, target: KoiNetNode, edgeType: 'WEBHOOK' | 'POLL'): Bundle {
  const contents: JsonObject = {
    source: String(source),
    target: String(target),
    edge_type: edgeType,
    status: 'APPROVED',
    rid_types: [],
  };
  return Bundle.generate(KoiNetEdge.generate(source, target), contents);
}

const ridsOf = (events: readonly Event[]): string[] => events.map((e) => String(e.rid));
const wireRids = (body: unknown): string[] => (body as { events: { rid: string }[] }).events.map((e) => e.rid);

describe('network/network-interface: NetworkInterface with real peers', () => {
  const THING = 'orn:test.thing';
  const me = nodeRid('me', 1);
  const a = nodeRid('a', 2); // FULL, peerA
  const b = nodeRid('b', 3); // FULL, peerB
  const p = nodeRid('p', 4); // PARTIAL
  const c = nodeRid('c', 5); // FULL, peerC
  const unknown = nodeRid('unknown', 9);
  const ev = (n: number): Event => Event.fromRid(`${THING}:${n}`, EventType.NEW);

  let dir: string;
  let cache: Cache;
  let graph: NetworkGraph;
  let queues: EventQueues;
  let peerA: FakePeer;
  let peerB: FakePeer;
  let peerC: FakePeer;
  let log: CollectingLogger;
  let net: NetworkInterface;

  async function writeAll(bundles: Bundle[]): Promise<void> {
    for (const bundle of bundles) {
      await cache.write(bundle);
      graph.applyWrite(bundle);
    }
  }

  function makeInterface(firstContact?: string): NetworkInterface {
    const logger = log;
    return new NetworkInterface({
      cache,
      identity: { rid: me, profile: profile('FULL', 'http://127.0.0.1:9/koi-net') },
      graph,
      queues,
      requestHandler: new RequestHandler({ graph, timeoutMs: 2_000, logger }),
      firstContact,
      logger,
    });
  }

  beforeEach(async () => {
    [peerA, peerB, peerC] = [new FakePeer(), new FakePeer(), new FakePeer()];
    await Promise.all([peerA.start(), peerB.start(), peerC.start()]);
    dir = await mkdtemp(join(tmpdir(), 'koi-interface-'));
    cache = await Cache.open(join(dir, 'cache'), { logger: { warn: () => {} } });
    graph = new NetworkGraph(cache, me);
    queues = await EventQueues.open(join(dir, 'event_queues.json'));
    log = collectingLogger();
    // Insertion order matters for the state-provider tests: the cache lists in write order.
    await writeAll([
      Bundle.generate(me, profile('FULL', 'http://127.0.0.1:9/koi-net', [THING]) as unknown as JsonObject),
      Bundle.generate(a, profile('FULL', peerA.baseUrl, [THING]) as unknown as JsonObject),
      Bundle.generate(b, profile('FULL', peerB.baseUrl, ['orn:other.type']) as unknown as JsonObject),
      Bundle.generate(p, profile('PARTIAL', null, [THING]) as unknown as JsonObject),
      Bundle.generate(c, profile('FULL', peerC.baseUrl, [THING]) as unknown as JsonObject),
    ]);
    net = makeInterface();
  });

  afterEach(async () => {
    await queues.flushed();
    await Promise.all([peerA.stop(), peerB.stop(), peerC.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  describe('pushEventTo: queue choice', () => {
    it('without an edge: FULL nodes get webhook, PARTIAL nodes poll', async () => {
      expect(await net.pushEventTo(ev(1), a)).to.equal('webhook');
      expect(await net.pushEventTo(ev(2), String(p))).to.equal('poll');
      expect(ridsOf(queues.peekWebhook(a))).to.deep.equal([`${THING}:1`]);
      expect(ridsOf(queues.peekPoll(p))).to.deep.equal([`${THING}:2`]);
    });

    it("an edge from this node overrides: its edge_type picks the queue", async () => {
      await writeAll([edge(me, a, 'POLL'), edge(me, p, 'WEBHOOK')]);
      expect(await net.pushEventTo(ev(1), a)).to.equal('poll');
      expect(await net.pushEventTo(ev(2), p)).to.equal('webhook');
      expect(ridsOf(queues.peekPoll(a))).to.deep.equal([`${THING}:1`]);
      expect(ridsOf(queues.peekWebhook(p))).to.deep.equal([`${THING}:2`]);
    });

    it('an edge towards this node does not count (only me -> target)', async () => {
      await writeAll([edge(a, me, 'POLL')]);
      expect(await net.pushEventTo(ev(1), a)).to.equal('webhook');
    });

    it('an unknown node without an edge: dropped with a warning, nothing queued', async () => {
      expect(await net.pushEventTo(ev(1), unknown)).to.equal(undefined);
      expect(queues.webhookNodes()).to.deep.equal([]);
      expect(log.messages().join('\n')).to.match(/unknown node/);
    });

    it('flush = true delivers a webhook event at once', async () => {
      peerA.responders.set('/events/broadcast', () => ({ json: null }));
      await net.pushEventTo(ev(1), a, true);
      expect(peerA.bodies('/events/broadcast').map(wireRids)).to.deep.equal([[`${THING}:1`]]);
      expect(queues.peekWebhook(a)).to.deep.equal([]);
    });
  });

  describe('flushPollQueue', () => {
    it('drains oldest first, honouring limit (0 = all)', async () => {
      for (let i = 1; i <= 3; i++) await net.pushEventTo(ev(i), p);
      expect(ridsOf(await net.flushPollQueue(p, 2))).to.deep.equal([`${THING}:1`, `${THING}:2`]);
      expect(ridsOf(await net.flushPollQueue(p))).to.deep.equal([`${THING}:3`]);
      expect(await net.flushPollQueue(p)).to.deep.equal([]);
    });
  });

  describe('flushWebhookQueue', () => {
    it('delivers the queue in order to the node base_url and empties it', async () => {
      peerA.responders.set('/events/broadcast', () => ({ json: null }));
      for (let i = 1; i <= 3; i++) await net.pushEventTo(ev(i), a);
      expect(await net.flushWebhookQueue(a)).to.equal(true);
      expect(peerA.bodies('/events/broadcast').map(wireRids)).to.deep.equal([[1, 2, 3].map((i) => `${THING}:${i}`)]);
      expect(queues.peekWebhook(a)).to.deep.equal([]);
      expect(queues.depths().webhookInflight).to.deep.equal({});
    });

    it('an empty queue sends nothing', async () => {
      expect(await net.flushWebhookQueue(a)).to.equal(true);
      expect(peerA.seen).to.deep.equal([]);
    });

    it('on a 500 the batch goes back to the front, ahead of later events, and is retried in order', async () => {
      let fail = true;
      peerA.responders.set('/events/broadcast', () => (fail ? { status: 500, json: { detail: 'boom' } } : { json: null }));
      await net.pushEventTo(ev(1), a);
      await net.pushEventTo(ev(2), a);
      expect(await net.flushWebhookQueue(a)).to.equal(false);
      await net.pushEventTo(ev(3), a);
      expect(ridsOf(queues.peekWebhook(a))).to.deep.equal([1, 2, 3].map((i) => `${THING}:${i}`));
      expect(log.messages().join('\n')).to.match(/requeued/);
      fail = false;
      expect(await net.flushWebhookQueue(a)).to.equal(true);
      expect(wireRids(peerA.bodies('/events/broadcast').at(-1))).to.deep.equal([1, 2, 3].map((i) => `${THING}:${i}`));
    });

    it('on a connection failure the batch is requeued', async () => {
      await peerA.stop();
      await net.pushEventTo(ev(1), a);
      expect(await net.flushWebhookQueue(a)).to.equal(false);
      expect(ridsOf(queues.peekWebhook(a))).to.deep.equal([`${THING}:1`]);
    });

    it('a 422 (the peer refuses the payload) drops the batch instead of blocking the queue forever', async () => {
      peerA.responders.set('/events/broadcast', () => ({ status: 422, json: { detail: [] } }));
      await net.pushEventTo(ev(1), a);
      expect(await net.flushWebhookQueue(a)).to.equal(false);
      expect(queues.peekWebhook(a)).to.deep.equal([]);
      expect(log.messages().join('\n')).to.match(/dropped/);
    });

    it('a node that cannot be called keeps its queue untouched', async () => {
      await writeAll([edge(me, p, 'WEBHOOK')]);
      await net.pushEventTo(ev(1), p);
      expect(await net.flushWebhookQueue(p)).to.equal(false);
      expect(ridsOf(queues.peekWebhook(p))).to.deep.equal([`${THING}:1`]);
    });

    it('concurrent flushes of one node never reorder events, even when the first fails', async () => {
      let calls = 0;
      // The first delivery fails slowly; everything after succeeds.
      peerA.responders.set('/events/broadcast', () => (++calls === 1 ? { status: 503, json: null, delayMs: 150 } : { json: null }));
      await net.pushEventTo(ev(1), a);
      const first = net.flushWebhookQueue(a);
      // Push the second event only once the first batch is on the wire, so the batches differ.
      while (peerA.seen.length === 0) await new Promise((r) => setTimeout(r, 5));
      await net.pushEventTo(ev(2), a);
      const second = net.flushWebhookQueue(a);
      expect(await first).to.equal(false);
      expect(await second).to.equal(true);
      const delivered = peerA.bodies('/events/broadcast').map(wireRids);
      expect(delivered).to.deep.equal([[`${THING}:1`], [`${THING}:1`, `${THING}:2`]]);
    });

    it('flushAllWebhookQueues flushes every node with queued events; one failing peer does not stop the others', async () => {
      peerA.responders.set('/events/broadcast', () => ({ status: 500, json: null }));
      peerC.responders.set('/events/broadcast', () => ({ json: null }));
      await net.pushEventTo(ev(1), a);
      await net.pushEventTo(ev(2), c);
      await net.flushAllWebhookQueues();
      expect(peerC.bodies('/events/broadcast').map(wireRids)).to.deep.equal([[`${THING}:2`]]);
      expect(ridsOf(queues.peekWebhook(a))).to.deep.equal([`${THING}:1`]);
      expect(queues.peekWebhook(c)).to.deep.equal([]);
    });
  });

  describe('state providers and remote fetches', () => {
    const wanted = Bundle.generate(`${THING}:x`, { hello: 'world' });

    it('getStateProviders: known FULL nodes listing the type in provides.state, never this node', async () => {
      expect((await net.getStateProviders(THING)).map(String)).to.deep.equal([String(a), String(c)]);
      expect((await net.getStateProviders('orn:other.type')).map(String)).to.deep.equal([String(b)]);
      expect(await net.getStateProviders('orn:nobody.provides')).to.deep.equal([]);
    });

    it('fetchRemoteBundle: a provider that answers not_found, then one that has it', async () => {
      peerA.responders.set('/bundles/fetch', (body) => ({
        json: { bundles: [], not_found: (body as { rids: string[] }).rids, deferred: [] },
      }));
      peerC.responders.set('/bundles/fetch', () => ({ json: { bundles: [wanted.toJSON()], not_found: [], deferred: [] } }));
      const got = await net.fetchRemoteBundle(wanted.rid);
      expect(got?.toJSON()).to.deep.equal(wanted.toJSON());
      expect(peerA.bodies('/bundles/fetch')).to.deep.equal([{ rids: [String(wanted.rid)] }]);
      expect(peerC.bodies('/bundles/fetch')).to.have.length(1);
    });

    it('fetchRemoteBundle survives garbage, errors, an empty list and a wrong bundle; undefined when nobody has it', async () => {
      const other = Bundle.generate(`${THING}:other`, {});
      for (const [peerA_answer, peerC_answer] of [
        [{ text: 'garbage' }, { status: 500, json: null }],
        [{ json: { bundles: [] } }, { json: { manifests: [other.toJSON()] } }],
        [{ json: { bundles: [{ manifest: 'nope' }] } }, { json: {} }],
      ] as [Answer, Answer][]) {
        peerA.responders.set('/bundles/fetch', () => peerA_answer);
        peerC.responders.set('/bundles/fetch', () => peerC_answer);
        expect(await net.fetchRemoteBundle(wanted.rid)).to.equal(undefined);
      }
      await peerA.stop();
      peerC.responders.set('/bundles/fetch', () => ({ json: { manifests: [wanted.toJSON()] } }));
      expect((await net.fetchRemoteBundle(String(wanted.rid)))?.toJSON()).to.deep.equal(wanted.toJSON());
    });

    it('fetchRemoteManifest: skips not_found, returns the first matching manifest', async () => {
      peerA.responders.set('/manifests/fetch', () => ({ json: { manifests: [], not_found: [String(wanted.rid)] } }));
      peerC.responders.set('/manifests/fetch', () => ({ json: { manifests: [wanted.manifest.toJSON()], not_found: [] } }));
      expect((await net.fetchRemoteManifest(wanted.rid))?.toJSON()).to.deep.equal(wanted.manifest.toJSON());
      expect(peerA.bodies('/manifests/fetch')).to.deep.equal([{ rid_types: [], rids: [String(wanted.rid)] }]);
    });

    it('fetchRemoteManifest: undefined when no provider exists or none has it', async () => {
      expect(await net.fetchRemoteManifest('orn:nobody.provides:1')).to.equal(undefined);
      peerA.responders.set('/manifests/fetch', () => ({ json: { manifests: [] } }));
      peerC.responders.set('/manifests/fetch', () => ({ status: 500, json: null }));
      expect(await net.fetchRemoteManifest(wanted.rid)).to.equal(undefined);
    });
  });

  describe('pollNeighbors', () => {
    it('polls FULL neighbors that are the source of an edge to this node, tagging each event with its source', async () => {
      // a -> me (polled), me -> c (c is my subscriber: not polled), p -> me (partial: not polled)
      await writeAll([edge(a, me, 'POLL'), edge(me, c, 'WEBHOOK'), edge(p, me, 'POLL')]);
      peerA.responders.set('/events/poll', () => ({ json: { events: [ev(1).toJSON(), ev(2).toJSON()] } }));
      peerC.responders.set('/events/poll', () => ({ json: { events: [ev(3).toJSON()] } }));
      const sourced = await net.pollNeighborsWithSources();
      expect(sourced.map((s) => [String(s.event.rid), s.source])).to.deep.equal([
        [`${THING}:1`, String(a)],
        [`${THING}:2`, String(a)],
      ]);
      expect(peerA.bodies('/events/poll')).to.deep.equal([{ rid: String(me), limit: 0 }]);
      expect(peerC.seen).to.deep.equal([]);
    });

    it('pollNeighbors returns the events only; a failing neighbor is skipped', async () => {
      await writeAll([edge(a, me, 'POLL'), edge(c, me, 'POLL')]);
      peerA.responders.set('/events/poll', () => ({ text: 'not json' }));
      peerC.responders.set('/events/poll', () => ({ json: { events: [ev(7).toJSON()] } }));
      const events = await net.pollNeighbors();
      expect(events.every((e) => e instanceof Event)).to.equal(true);
      expect(ridsOf(events)).to.deep.equal([`${THING}:7`]);
      expect(log.messages().join('\n')).to.match(/poll failed/);
    });

    it('with no neighbors, polls the first-contact URL', async () => {
      const withContact = makeInterface(peerB.baseUrl);
      peerB.responders.set('/events/poll', () => ({ json: { events: [ev(5).toJSON()] } }));
      const sourced = await withContact.pollNeighborsWithSources();
      expect(sourced.map((s) => [String(s.event.rid), s.source])).to.deep.equal([[`${THING}:5`, peerB.baseUrl]]);
      expect(peerB.bodies('/events/poll')).to.deep.equal([{ rid: String(me), limit: 0 }]);
    });

    it('with no neighbors and no first contact, polls nobody', async () => {
      expect(await net.pollNeighbors()).to.deep.equal([]);
      expect([...peerA.seen, ...peerB.seen, ...peerC.seen]).to.deep.equal([]);
    });
  });
});
