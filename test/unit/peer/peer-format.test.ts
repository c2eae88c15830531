/**
 * A bridge's client (RequestHandler with the `both` rule) against a real HTTP server on 127.0.0.1:
 * each peer is called in its own format, from its cached profile (a public_key means signed); a
 * peer known only by URL is called plainly unless its node RID was configured (the first contact);
 * and a node that moved from 1.x to 2.x under a new RID at the same URL is a new node, called in
 * envelopes, while its old RID is still called plainly.
 */
import { expect } from 'chai';
import { RequestHandler, bridgePeerFormat, type NodeProfileSource } from '../../../src/peer/index.ts';
import { NodeType, type NodeProfile } from '../../../src/protocol/index.ts';
import { KoiNetNode } from '../../../src/rid/index.ts';
import { NodeKeyPair, openEnvelope } from '../../../src/secure/index.ts';
import { startFakePeer, type FakePeer } from '../../helpers/fake-peer.ts';

const OLD = KoiNetNode.of('orn:koi-net.node:mover+0d3f3ab0-1111-4222-8333-444455556666');

describe('peer: a bridge calls each peer in its own format', () => {
  let peer: FakePeer;
  const me = NodeKeyPair.generate();
  const self = me.nodeRid('bridge');
  const upgraded = NodeKeyPair.generate();
  const NEW = upgraded.nodeRid('mover');
  const profiles = new Map<string, NodeProfile>();
  const graph: NodeProfileSource = { getNodeProfile: (rid) => profiles.get(String(rid)) };

  beforeEach(async () => {
    // Plain answers to everything: enough to see the request each call sends.
    peer = await startFakePeer({ '/rids/fetch': () => ({ json: { rids: [] } }) });
    const base = { node_type: NodeType.FULL, base_url: peer.baseUrl, provides: { event: [], state: [] } };
    profiles.clear();
    // The same node before (1.0.x, uuid RID, no key) and after its upgrade (2.x, key-bound RID), at one URL.
    profiles.set(String(OLD), base as NodeProfile);
    profiles.set(String(NEW), { ...base, public_key: upgraded.publicKeyDerB64 } as NodeProfile);
  });
  afterEach(() => peer.stop());

  function handler(urlNodes: ReadonlyMap<string, KoiNetNode> = new Map()): RequestHandler {
    return new RequestHandler({ graph, signed: { keyPair: me, self, urlNodes }, peerFormat: bridgePeerFormat(urlNodes) });
  }

  it('an unsigned peer gets a plain body; the same node upgraded under a new RID gets an envelope addressed to that RID', async () => {
    const h = handler();
    expect((await h.fetchRids({ node: OLD }, { rid_types: ['orn:koi-net.node'] })).rids).to.deep.equal([]);
    // The fake answers plainly, so the signed call fails on the answer: what it sent is the point.
    const failed = await h.fetchRids({ node: NEW }, { rid_types: ['orn:koi-net.node'] }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).to.be.instanceOf(Error);
    const [plain, signed] = peer.seen.map((s) => s.text);
    expect(JSON.parse(plain!)).to.deep.equal({ rid_types: ['orn:koi-net.node'] });
    const env = openEnvelope(signed!, { self: NEW, lookup: () => ({ known: true, publicKeyDerB64: me.publicKeyDerB64 }), allowSelfIntroduction: false });
    expect(String(env.sourceNode)).to.equal(String(self));
    expect(env.payload).to.deep.include({ type: 'fetch_rids', rid_types: ['orn:koi-net.node'] });
    // And back again: the old RID is still called plainly (the format belongs to the RID, not the URL).
    await h.fetchRids({ node: OLD });
    expect(JSON.parse(peer.seen[2]!.text)).to.deep.equal({ rid_types: [] });
  });

  it('a bare URL is called plainly, unless a node RID is configured for it (the first contact)', async () => {
    const bare = handler();
    await bare.fetchRids({ url: peer.baseUrl });
    expect(JSON.parse(peer.seen[0]!.text)).to.deep.equal({ rid_types: [] });
    const configured = handler(new Map([[peer.baseUrl, NEW]]));
    await configured.fetchRids({ url: peer.baseUrl }).catch(() => undefined);
    expect(JSON.parse(peer.seen[1]!.text)).to.have.keys('payload', 'source_node', 'target_node', 'signature');
    // A URL given with a node RID not yet cached is addressed to that node too.
    const stranger = NodeKeyPair.generate().nodeRid('stranger');
    await bare.fetchRids({ url: peer.baseUrl, node: stranger }).catch(() => undefined);
    expect((JSON.parse(peer.seen[2]!.text) as { target_node: string }).target_node).to.equal(String(stranger));
  });

  it('bridgePeerFormat: the cached profile decides; unknown nodes by URL are unsigned', () => {
    const rule = bridgePeerFormat(new Map());
    expect(rule({ node: NEW }, profiles.get(String(NEW)))).to.equal('signed');
    expect(rule({ node: OLD }, profiles.get(String(OLD)))).to.equal('unsigned');
    expect(rule({ url: 'http://127.0.0.1:9/koi-net' }, undefined)).to.equal('unsigned');
    expect(rule({ url: 'http://127.0.0.1:9/koi-net', node: OLD }, profiles.get(String(OLD)))).to.equal('unsigned');
  });

  it('peerFormat without the signed options is refused at construction', () => {
    expect(() => new RequestHandler({ graph, peerFormat: bridgePeerFormat(new Map()) })).to.throw(TypeError, /signed options/);
  });
});
