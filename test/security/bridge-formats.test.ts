/**
 * Formats on the wire, through HTTP against real full nodes: a `both` node answers each request in
 * the format it arrived in (plain 1.0.x body, with or without Content-Type, or a signed envelope,
 * answered signed to its sender), and a node that speaks one format answers the other with the
 * reference's refusal (422, or 400 error_response), never a 500.
 */
import { expect } from 'chai';
import { Bundle, Event, EventType } from '../../src/knowledge/index.ts';
import { KoiNetNode } from '../../src/rid/index.ts';
import { NodeType } from '../../src/protocol/index.ts';
import { NodeKeyPair, openEnvelope, signEnvelope } from '../../src/secure/index.ts';
import { drain, postJson, rawPost, startRealNode, type RealNode } from './helpers.ts';

/** A signed client: its key, key-bound RID and profile (a 2.x partial node). */
function signedClient(name: string): { key: NodeKeyPair; rid: KoiNetNode; bundle: Bundle } {
  const key = NodeKeyPair.generate();
  const rid = key.nodeRid(name);
  const bundle = Bundle.generate(rid, { node_type: NodeType.PARTIAL, base_url: null, provides: { event: [], state: [] }, public_key: key.publicKeyDerB64 });
  return { key, rid, bundle };
}

const PATHS = ['/events/broadcast', '/events/poll', '/rids/fetch', '/manifests/fetch', '/bundles/fetch'] as const;

describe('security: wire formats of a both node, and the wrong format to a one-format node', function () {
  this.timeout(30_000);
  const nodes: RealNode[] = [];
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.close();
  });
  async function start(protocol: 'unsigned' | 'signed' | 'both'): Promise<RealNode> {
    const n = await startRealNode({ name: `fmt-${protocol}`, protocol, provides: { event: ['orn:koi-net.node'], state: ['orn:koi-net.node'] } });
    nodes.push(n);
    return n;
  }

  it('a both node has its key, a key-bound RID, and public_key and @context in its profile', async () => {
    const n = await start('both');
    const key = n.node.keyPair!;
    expect(key).to.be.instanceOf(NodeKeyPair);
    expect(n.me).to.equal(String(key.nodeRid('fmt-both')));
    const profile = n.node.identity.profile as unknown as Record<string, unknown>;
    expect(profile['public_key']).to.equal(key.publicKeyDerB64);
    expect(Object.keys(profile)[0]).to.equal('@context');
  });

  it('answers plain bodies plainly: with Content-Type, and without (the seed clients), fast path or not', async () => {
    const n = await start('both');
    const rids = await postJson(`${n.url}/rids/fetch`, { rid_types: ['orn:koi-net.node'] });
    expect(rids.status).to.equal(200);
    expect(rids.json).to.deep.equal({ rids: [n.me] });
    const seed = await rawPost(`${n.url}/bundles/fetch`, JSON.stringify({ rids: [n.me] }), null);
    expect(seed.status).to.equal(200);
    const answer = seed.json as { bundles: { manifest: { rid: string } }[]; manifests: unknown[] };
    expect(answer.bundles.map((b) => b.manifest.rid)).to.deep.equal([n.me]);
    // b6 reads the bundles under `manifests`: the plain answer keeps that for Content-Type-less callers.
    expect(answer.manifests).to.deep.equal(answer.bundles);
    // A plain body that breaks the contract is the unsigned 422, not an envelope error.
    const bad = await postJson(`${n.url}/bundles/fetch`, { rids: 'nope' });
    expect(bad.status).to.equal(422);
    expect((bad.json as { detail: { loc: unknown[] }[] }).detail[0]!.loc).to.deep.equal(['body', 'rids']);
  });

  it('answers envelopes with envelopes signed to their sender; refusals are 400 error_response or 422', async () => {
    const n = await start('both');
    const bridge = KoiNetNode.of(n.me);
    const c = signedClient('client');
    // Unknown sender: refused as the signed codec does.
    const early = await rawPost(`${n.url}/rids/fetch`, signEnvelope({ type: 'fetch_rids', rid_types: [] }, { sourceNode: c.rid, targetNode: bridge, keyPair: c.key }));
    expect({ status: early.status, text: early.text }).to.deep.equal({ status: 400, text: '{"type":"error_response","error":"unknown_node"}' });
    // Self-introduction in a signed broadcast, then a signed fetch.
    const intro = signEnvelope({ type: 'events_payload', events: [Event.fromBundle(c.bundle, EventType.NEW).toJSON()] } as never, { sourceNode: c.rid, targetNode: bridge, keyPair: c.key });
    expect((await rawPost(`${n.url}/events/broadcast`, intro)).status).to.equal(200);
    await drain(n);
    expect(await n.node.cache.exists(c.rid)).to.equal(true);
    const fetched = await rawPost(`${n.url}/rids/fetch`, signEnvelope({ type: 'fetch_rids', rid_types: ['orn:koi-net.node'] }, { sourceNode: c.rid, targetNode: bridge, keyPair: c.key }));
    expect(fetched.status).to.equal(200);
    const env = openEnvelope(fetched.text, { self: c.rid, lookup: () => ({ known: true, publicKeyDerB64: n.node.keyPair!.publicKeyDerB64 }), allowSelfIntroduction: false });
    expect(String(env.sourceNode)).to.equal(n.me);
    expect(env.payload.type).to.equal('rids_payload');
    expect((env.payload as unknown as { rids: string[] }).rids.sort()).to.deep.equal([n.me, String(c.rid)].sort());
    // Tampered: invalid_signature; wrong payload type for the path: 422 under payload.type.
    const tampered = signEnvelope({ type: 'fetch_rids', rid_types: [] }, { sourceNode: c.rid, targetNode: bridge, keyPair: c.key }).replace('"rid_types":[]', '"rid_types":["orn:koi-net.edge"]');
    expect((await rawPost(`${n.url}/rids/fetch`, tampered)).text).to.equal('{"type":"error_response","error":"invalid_signature"}');
    const wrongType = await rawPost(`${n.url}/rids/fetch`, signEnvelope({ type: 'fetch_bundles', rids: [] }, { sourceNode: c.rid, targetNode: bridge, keyPair: c.key }));
    expect(wrongType.status).to.equal(422);
    expect((wrongType.json as { detail: { loc: unknown[] }[] }).detail[0]!.loc).to.deep.equal(['body', 'payload', 'type']);
  });

  it('serves a signed poll from the sender\'s queue; a plain poll naming that signed RID drains nothing', async () => {
    const n = await start('both');
    const bridge = KoiNetNode.of(n.me);
    const c = signedClient('poller');
    const intro = signEnvelope({ type: 'events_payload', events: [Event.fromBundle(c.bundle, EventType.NEW).toJSON()] } as never, { sourceNode: c.rid, targetNode: bridge, keyPair: c.key });
    expect((await rawPost(`${n.url}/events/broadcast`, intro)).status).to.equal(200);
    await drain(n);
    const item = Event.fromBundle(Bundle.generate('orn:koi-net.node:someone+0d3f3ab0-1111-4222-8333-444455556666', { node_type: 'FULL', base_url: 'http://127.0.0.1:9/koi-net', provides: { event: [], state: [] } }), EventType.NEW);
    await n.node.queues.pushPoll(c.rid, Event.fromRid(item.rid, EventType.FORGET));
    const plain = await postJson(`${n.url}/events/poll`, { rid: String(c.rid), limit: 0 });
    expect(plain.status).to.equal(200);
    expect(plain.json).to.deep.equal({ events: [] });
    const signed = await rawPost(`${n.url}/events/poll`, signEnvelope({ type: 'poll_events', limit: 0 }, { sourceNode: c.rid, targetNode: bridge, keyPair: c.key }));
    expect(signed.status).to.equal(200);
    const env = openEnvelope(signed.text, { self: c.rid, lookup: () => ({ known: true, publicKeyDerB64: n.node.keyPair!.publicKeyDerB64 }), allowSelfIntroduction: false });
    expect((env.payload as unknown as { events: { rid: string }[] }).events.map((e) => e.rid)).to.deep.equal([String(item.rid)]);
  });

  it('a plain poll of an unsigned node is served from its queue on a both node', async () => {
    const n = await start('both');
    const peer = 'orn:koi-net.node:old+0d3f3ab0-1111-4222-8333-444455556666';
    await n.node.queues.pushPoll(KoiNetNode.of(peer), Event.fromRid(n.me, EventType.UPDATE));
    const plain = await rawPost(`${n.url}/events/poll`, JSON.stringify({ rid: peer }), null);
    expect(plain.status).to.equal(200);
    expect((plain.json as { events: { rid: string }[] }).events.map((e) => e.rid)).to.deep.equal([n.me]);
  });

  it('an unsigned-only node answers every envelope with 422 or a plain 200, never a 500', async () => {
    const n = await start('unsigned');
    const c = signedClient('client');
    const target = KoiNetNode.of(n.me);
    const payloads = {
      '/events/broadcast': { type: 'events_payload', events: [] },
      '/events/poll': { type: 'poll_events', limit: 0 },
      '/rids/fetch': { type: 'fetch_rids', rid_types: [] },
      '/manifests/fetch': { type: 'fetch_manifests', rid_types: [], rids: [] },
      '/bundles/fetch': { type: 'fetch_bundles', rids: [] },
    } as const;
    const statuses: Record<string, number> = {};
    for (const path of PATHS) {
      const answer = await rawPost(`${n.url}${path}`, signEnvelope(payloads[path] as never, { sourceNode: c.rid, targetNode: target, keyPair: c.key }));
      statuses[path] = answer.status;
    }
    // As a 1.0.x FastAPI node: its models ignore unknown fields, so an envelope is a body missing
    // the required ones (422) or, where every field has a default, an ordinary request (200,
    // plain: the signed client then refuses the unsigned answer).
    expect(statuses).to.deep.equal({ '/events/broadcast': 422, '/events/poll': 422, '/rids/fetch': 200, '/manifests/fetch': 200, '/bundles/fetch': 422 });
  });

  it('a signed-only node answers every plain body with 422, never a 500', async () => {
    const n = await start('signed');
    const bodies = {
      '/events/broadcast': { events: [] },
      '/events/poll': { rid: 'orn:koi-net.node:old+0d3f3ab0-1111-4222-8333-444455556666', limit: 0 },
      '/rids/fetch': { rid_types: [] },
      '/manifests/fetch': { rid_types: [], rids: [] },
      '/bundles/fetch': { rids: [] },
    } as const;
    for (const path of PATHS) {
      const withType = await postJson(`${n.url}${path}`, bodies[path]);
      const seedStyle = await rawPost(`${n.url}${path}`, JSON.stringify(bodies[path]), null);
      expect([path, withType.status, seedStyle.status]).to.deep.equal([path, 422, 422]);
    }
  });
});
