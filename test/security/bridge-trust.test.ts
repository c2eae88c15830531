/**
 * What a `both` node (a bridge) takes from unsigned peers, through HTTP against a real node
 * (docs/VERSIONS.md, "What a bridge trusts"): a plain body never speaks for a signed node (its
 * profile, a profile claiming a key, its FORGET, an edge naming it), an approved edge to the bridge
 * counts only as the answer to its own proposal, and unsigned nodes' profiles are kept. Also the
 * delivery rule of PROTOCOL.md section 9: an unsigned node's profile is never pushed to a signed
 * peer as an event (a FORGET is).
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeInterface } from '../../src/node.ts';
import { Bundle, Event, EventType, KnowledgeSource, type JsonObject } from '../../src/knowledge/index.ts';
import { KoiNetEdge, KoiNetNode } from '../../src/rid/index.ts';
import { EdgeStatus, EdgeType, NodeType, type EdgeProfile } from '../../src/protocol/index.ts';
import { NodeKeyPair, signEnvelope } from '../../src/secure/index.ts';
import { withheldFrom } from '../../src/delivery/targets.ts';
import { startFakePeer, type FakePeer } from '../helpers/fake-peer.ts';
import { drain, postJson, rawPost, startRealNode, waitFor, type RealNode } from './helpers.ts';

const OLD = 'orn:koi-net.node:old+0d3f3ab0-1111-4222-8333-444455556666';
const OLD2 = 'orn:koi-net.node:older+0d3f3ab0-1111-4222-8333-444455556667';

const later = (ms: number): Date => new Date(Date.now() + ms);

function unsignedProfile(baseUrl = 'http://127.0.0.1:9/koi-net'): JsonObject {
  return { node_type: NodeType.FULL, base_url: baseUrl, provides: { event: [], state: [] } };
}

function signedNode(name: string, baseUrl = 'http://127.0.0.1:9/koi-net'): { key: NodeKeyPair; rid: KoiNetNode; bundle: Bundle } {
  const key = NodeKeyPair.generate();
  const rid = key.nodeRid(name);
  const bundle = Bundle.generate(rid, { ...unsignedProfile(baseUrl), public_key: key.publicKeyDerB64 });
  return { key, rid, bundle };
}

function edgeBundle(source: string, target: string, status: EdgeStatus, at = later(1000)): Bundle {
  const profile: EdgeProfile = { source, target, edge_type: EdgeType.WEBHOOK, status, rid_types: ['orn:koi-net.node'] };
  return Bundle.generate(KoiNetEdge.generate(source, target), profile as unknown as JsonObject, at);
}

function plainBroadcast(n: RealNode, events: Event[]): Promise<{ status: number }> {
  return postJson(`${n.url}/events/broadcast`, { events: events.map((e) => e.toJSON()) });
}

/** `who` broadcasts `events` to the bridge in an envelope it signed. */
function signedBroadcast(n: RealNode, who: { key: NodeKeyPair; rid: KoiNetNode }, events: Event[]): Promise<{ status: number; text: string }> {
  const body = signEnvelope({ type: 'events_payload', events: events.map((e) => e.toJSON()) } as never, { sourceNode: who.rid, targetNode: KoiNetNode.of(n.me), keyPair: who.key });
  return rawPost(`${n.url}/events/broadcast`, body);
}

describe('security: what a both node trusts from unsigned peers', function () {
  this.timeout(30_000);
  let n: RealNode;
  const peers: FakePeer[] = [];
  beforeEach(async () => {
    n = await startRealNode({ name: 'bridge', protocol: 'both', provides: { event: ['orn:koi-net.node'], state: ['orn:koi-net.node'] } });
  });
  afterEach(async () => {
    await n.close();
    for (const p of peers.splice(0)) await p.stop();
  });

  it("keeps an unsigned node's profile (a signed node would drop it)", async () => {
    expect((await plainBroadcast(n, [Event.fromBundle(Bundle.generate(OLD, unsignedProfile()), EventType.NEW)])).status).to.equal(200);
    await drain(n);
    expect(await n.node.cache.exists(OLD)).to.equal(true);
    const signedOnly = await startRealNode({ name: 'signed', protocol: 'signed' });
    try {
      const s = signedNode('intro');
      expect((await signedBroadcast(signedOnly, s, [Event.fromBundle(s.bundle, EventType.NEW), Event.fromBundle(Bundle.generate(OLD, unsignedProfile()), EventType.NEW)])).status).to.equal(200);
      await waitFor('the introduced node', () => signedOnly.node.cache.exists(s.rid));
      await new Promise((r) => setTimeout(r, 200));
      expect(await signedOnly.node.cache.exists(OLD)).to.equal(false);
    } finally {
      await signedOnly.close();
    }
  });

  it("ignores a signed node's profile in a plain body, and takes the same one from its envelope", async () => {
    const s = signedNode('signer');
    // Self-consistent (its key hashes to its RID), so only the format tells it apart.
    expect((await plainBroadcast(n, [Event.fromBundle(s.bundle, EventType.NEW)])).status).to.equal(200);
    await drain(n);
    expect(await n.node.cache.exists(s.rid)).to.equal(false);
    expect((await signedBroadcast(n, s, [Event.fromBundle(s.bundle, EventType.NEW)])).status).to.equal(200);
    await drain(n);
    expect(await n.node.cache.exists(s.rid)).to.equal(true);
  });

  it('ignores, in plain bodies, a FORGET or UPDATE of a signed node and a profile claiming a public_key', async () => {
    const s = signedNode('victim');
    expect((await signedBroadcast(n, s, [Event.fromBundle(s.bundle, EventType.NEW)])).status).to.equal(200);
    await drain(n);
    const before = (await n.node.cache.read(s.rid))!.toJSON();
    const moved = Bundle.generate(s.rid, { ...unsignedProfile('http://127.0.0.1:1/evil'), public_key: s.key.publicKeyDerB64 }, later(60_000));
    const claimed = Bundle.generate(OLD2, { ...unsignedProfile(), public_key: s.key.publicKeyDerB64 });
    const status = (await plainBroadcast(n, [Event.fromRid(s.rid, EventType.FORGET), Event.fromBundle(moved, EventType.UPDATE), Event.fromBundle(claimed, EventType.NEW)])).status;
    expect(status).to.equal(200);
    await drain(n);
    expect((await n.node.cache.read(s.rid))!.toJSON()).to.deep.equal(before);
    expect(await n.node.cache.exists(OLD2)).to.equal(false);
  });

  it('ignores a plain edge naming a signed node; keeps one between unsigned nodes', async () => {
    const s = signedNode('subscriber');
    expect((await signedBroadcast(n, s, [Event.fromBundle(s.bundle, EventType.NEW)])).status).to.equal(200);
    expect((await plainBroadcast(n, [Event.fromBundle(Bundle.generate(OLD, unsignedProfile()), EventType.NEW), Event.fromBundle(Bundle.generate(OLD2, unsignedProfile()), EventType.NEW)])).status).to.equal(200);
    await drain(n);
    const naming = edgeBundle(OLD, String(s.rid), EdgeStatus.APPROVED);
    const between = edgeBundle(OLD, OLD2, EdgeStatus.PROPOSED);
    expect((await plainBroadcast(n, [Event.fromBundle(naming, EventType.NEW), Event.fromBundle(between, EventType.NEW)])).status).to.equal(200);
    await drain(n);
    expect(await n.node.cache.exists(naming.rid)).to.equal(false);
    expect(await n.node.cache.exists(between.rid)).to.equal(true);
  });

  it('takes an approved edge to itself from an unsigned peer only as the answer to its own proposal', async () => {
    expect((await plainBroadcast(n, [Event.fromBundle(Bundle.generate(OLD, unsignedProfile()), EventType.NEW)])).status).to.equal(200);
    await drain(n);
    const unasked = edgeBundle(OLD, n.me, EdgeStatus.APPROVED);
    expect((await plainBroadcast(n, [Event.fromBundle(unasked, EventType.NEW)])).status).to.equal(200);
    await drain(n);
    expect(await n.node.cache.exists(unasked.rid)).to.equal(false);
    // Our proposal (internal), then the peer's approval of the same terms: taken.
    await n.node.processor.handle({ bundle: edgeBundle(OLD, n.me, EdgeStatus.PROPOSED, new Date()), flush: true });
    const answer = edgeBundle(OLD, n.me, EdgeStatus.APPROVED, later(2000));
    expect((await plainBroadcast(n, [Event.fromBundle(answer, EventType.UPDATE)])).status).to.equal(200);
    await drain(n);
    const cached = (await n.node.cache.read(answer.rid))!;
    expect((cached.contents as unknown as EdgeProfile).status).to.equal(EdgeStatus.APPROVED);
  });

  it("never pushes an unsigned node's profile to a signed subscriber as an event; its FORGET goes", async () => {
    // The signed subscriber is a fake full node recording what it is sent.
    const sPeer = await startFakePeer({ '/events/broadcast': () => ({ json: null }) });
    peers.push(sPeer);
    const s = signedNode('sub', sPeer.baseUrl);
    expect((await signedBroadcast(n, s, [Event.fromBundle(s.bundle, EventType.NEW)])).status).to.equal(200);
    await drain(n);
    // Its subscription to node events (as if negotiated): the bridge then announces node events to it.
    await n.node.processor.handle({ bundle: edgeBundle(n.me, String(s.rid), EdgeStatus.APPROVED, new Date()), flush: true });
    const other = signedNode('other');
    expect((await plainBroadcast(n, [Event.fromBundle(Bundle.generate(OLD, unsignedProfile()), EventType.NEW)])).status).to.equal(200);
    expect((await signedBroadcast(n, other, [Event.fromBundle(other.bundle, EventType.NEW)])).status).to.equal(200);
    await drain(n);
    expect((await plainBroadcast(n, [Event.fromRid(OLD, EventType.FORGET)])).status).to.equal(200);
    await drain(n);
    const sent = (): { rid: string; event_type: string }[] =>
      sPeer.bodies('/events/broadcast').flatMap((b) => (b as { payload: { events: { rid: string; event_type: string }[] } }).payload.events);
    await waitFor('the FORGET at the signed subscriber', () => sent().some((e) => e.rid === OLD && e.event_type === 'FORGET'), 10_000);
    expect(sent().filter((e) => e.rid === OLD).map((e) => e.event_type)).to.deep.equal(['FORGET']);
    expect(sent().some((e) => e.rid === String(other.rid) && e.event_type === 'NEW')).to.equal(true);
    // Every delivery was an envelope addressed to the subscriber.
    for (const body of sPeer.bodies('/events/broadcast')) expect((body as { target_node: string }).target_node).to.equal(String(s.rid));
  });

  it('a 1.x node upgraded to 2.x under a new RID is a new node: both profiles kept, the old one unchanged', async () => {
    const url = 'http://127.0.0.1:9/koi-net';
    expect((await plainBroadcast(n, [Event.fromBundle(Bundle.generate(OLD, unsignedProfile(url)), EventType.NEW)])).status).to.equal(200);
    await drain(n);
    const old = (await n.node.cache.read(OLD))!.toJSON();
    const upgraded = signedNode('old', url);
    expect((await signedBroadcast(n, upgraded, [Event.fromBundle(upgraded.bundle, EventType.NEW)])).status).to.equal(200);
    await drain(n);
    expect(await n.node.cache.exists(upgraded.rid)).to.equal(true);
    expect((await n.node.cache.read(OLD))!.toJSON()).to.deep.equal(old);
    expect(n.node.graph.getNodeProfile(String(upgraded.rid))?.public_key).to.equal(upgraded.key.publicKeyDerB64);
    expect(n.node.graph.getNodeProfile(OLD)?.public_key).to.equal(undefined);
  });

  it('withheldFrom: only NEW/UPDATE events carrying a key-less node profile, only to signed peers', () => {
    const s = signedNode('peer');
    const profiles = new Map<string, JsonObject>([
      [String(s.rid), s.bundle.contents],
      [OLD2, unsignedProfile()],
    ]);
    const graph = { getNodeProfile: (rid: KoiNetNode | string) => profiles.get(String(rid)) as never };
    const unsignedNew = Event.fromBundle(Bundle.generate(OLD, unsignedProfile()), EventType.NEW);
    const unsignedUpdate = Event.fromBundle(Bundle.generate(OLD, unsignedProfile()), EventType.UPDATE);
    expect(withheldFrom(graph, s.rid, unsignedNew)).to.be.a('string');
    expect(withheldFrom(graph, s.rid, unsignedUpdate)).to.be.a('string');
    expect(withheldFrom(graph, KoiNetNode.of(OLD2), unsignedNew)).to.equal(undefined);
    expect(withheldFrom(graph, s.rid, Event.fromRid(OLD, EventType.FORGET))).to.equal(undefined);
    expect(withheldFrom(graph, s.rid, Event.fromBundle(signedNode('x').bundle, EventType.NEW))).to.equal(undefined);
    expect(withheldFrom(graph, s.rid, Event.fromBundle(Bundle.generate('orn:test.item:1', { a: 1 }), EventType.NEW))).to.equal(undefined);
  });
});

describe('security: what a both node takes from unsigned peers it asks (fetches and polls)', function () {
  this.timeout(30_000);
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it("asks only signed providers for a signed node's state, and still asks unsigned ones for the rest", async () => {
    const forged = signedNode('victim', 'http://127.0.0.1:1/evil');
    const note = Bundle.generate('orn:koi-net.node:plain+0d3f3ab0-1111-4222-8333-444455556666', unsignedProfile());
    const provider = await startFakePeer({
      '/manifests/fetch': (body) => ({ json: { manifests: [forged.bundle, note].filter((b) => (body as { rids: string[] }).rids.includes(String(b.rid))).map((b) => b.manifest.toJSON()), not_found: [] } }),
      '/bundles/fetch': (body) => ({ json: { bundles: [forged.bundle, note].filter((b) => (body as { rids: string[] }).rids.includes(String(b.rid))).map((b) => b.toJSON()), not_found: [], deferred: [] } }),
    });
    cleanup.push(() => provider.stop());
    const n = await startRealNode({ name: 'bridge', protocol: 'both' });
    cleanup.push(() => n.close());
    // An unsigned full node providing node state.
    const providerRid = 'orn:koi-net.node:provider+0d3f3ab0-1111-4222-8333-444455550000';
    const providerProfile = { node_type: NodeType.FULL, base_url: provider.baseUrl, provides: { event: [], state: ['orn:koi-net.node'] } };
    expect((await plainBroadcast(n, [Event.fromBundle(Bundle.generate(providerRid, providerProfile), EventType.NEW)])).status).to.equal(200);
    await drain(n);
    // Told of both RIDs without contents (as a manifest-less event would): the pipeline fetches.
    await n.node.processor.handle({ rid: forged.rid, source: KnowledgeSource.EXTERNAL, flush: true });
    await n.node.processor.handle({ rid: note.rid, source: KnowledgeSource.EXTERNAL, flush: true });
    await n.node.settle();
    expect(await n.node.cache.exists(forged.rid)).to.equal(false);
    expect(await n.node.cache.exists(note.rid)).to.equal(true);
    const asked = provider.seen.flatMap((s) => ((s.body as { rids?: string[] }).rids ?? []));
    expect(asked).to.include(String(note.rid));
    expect(asked).to.not.include(String(forged.rid));
  });

  it('start-up catch-up: takes from an unsigned provider only what unsigned peers may say', async () => {
    const n = await startRealNode({ name: 'bridge', protocol: 'both' });
    cleanup.push(() => n.close());
    const s = signedNode('provider');
    expect((await plainBroadcast(n, [Event.fromBundle(Bundle.generate(OLD, unsignedProfile()), EventType.NEW)])).status).to.equal(200);
    expect((await signedBroadcast(n, s, [Event.fromBundle(s.bundle, EventType.NEW)])).status).to.equal(200);
    await drain(n);
    await waitFor('both providers known', () => n.node.cache.exists(OLD) && n.node.cache.exists(s.rid));
    const other = signedNode('other');
    const doc = Bundle.generate('orn:test.doc:catch-up', { text: 'anyone may say this' });
    const network = n.node.network;
    const unsigned = KoiNetNode.of(OLD);
    // From the unsigned provider: documents and unsigned profiles, never a signed node's profile or an edge naming one.
    expect(await network.takesStateFrom(unsigned, doc)).to.equal(true);
    expect(await network.takesStateFrom(unsigned, Bundle.generate(OLD2, unsignedProfile()))).to.equal(true);
    expect(await network.takesStateFrom(unsigned, other.bundle)).to.equal(false);
    expect(await network.takesStateFrom(unsigned, edgeBundle(String(other.rid), OLD2, EdgeStatus.APPROVED))).to.equal(false);
    // From the signed provider (its answers are envelopes it signed): all of it.
    expect(await network.takesStateFrom(s.rid, other.bundle)).to.equal(true);
    expect(await network.takesStateFrom(s.rid, doc)).to.equal(true);
  });

  it('takes from a plain poll answer only what unsigned peers may say', async () => {
    const forged = signedNode('victim', 'http://127.0.0.1:1/evil');
    const plainNode = Bundle.generate(OLD, unsignedProfile());
    const contact = await startFakePeer({
      '/events/broadcast': () => ({ json: null }),
      '/events/poll': () => ({ json: { events: [Event.fromBundle(forged.bundle, EventType.NEW).toJSON(), Event.fromBundle(plainNode, EventType.NEW).toJSON()] } }),
    });
    cleanup.push(() => contact.stop());
    const dir = await mkdtemp(join(tmpdir(), 'koi-both-partial-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    // A partial bridge whose first contact is a 1.0.x node (no first_contact_rid: plain polls).
    const node = new NodeInterface({ name: 'partial-bridge', protocol: 'both', dataDir: dir, firstContact: contact.baseUrl, profile: { node_type: NodeType.PARTIAL, provides: { event: [], state: [] } } });
    await node.initialize();
    cleanup.push(() => node.finalize());
    const polled = await node.network.pollNeighborsWithSources();
    expect(polled.map((p) => String(p.event.rid))).to.deep.equal([OLD]);
    // The poll itself was plain, naming this node in `rid`.
    expect(contact.bodies('/events/poll')[0]).to.deep.equal({ rid: String(node.identity.rid), limit: 0 });
  });
});
