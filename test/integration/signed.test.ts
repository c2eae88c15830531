/**
 * The opt-in signed protocol (koi-net 1.1+/2.x wire format) between real nodes in this process,
 * over real HTTP on 127.0.0.1: handshake, edge negotiation, node events and a custom type's
 * NEW/UPDATE/FORGET, and the server's refusals (invalid_signature, unknown_node, invalid_target).
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeInterface } from '../../src/node.ts';
import { startFullNode, type RunningFullNode } from '../../src/full-node.ts';
import { installBehaviours } from '../../src/behaviours/index.ts';
import { Bundle, Event, EventType, KnowledgeSource } from '../../src/knowledge/index.ts';
import { EdgeStatus, NodeType } from '../../src/protocol/index.ts';
import { RID } from '../../src/rid/index.ts';
import { NodeKeyPair, RemoteProtocolError, signEnvelope } from '../../src/secure/index.ts';
import { onFreePort } from '../helpers/ports.ts';

const ITEM = 'orn:test.item';


async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Running {
  node: NodeInterface;
  server: RunningFullNode;
  url: string;
}

describe('integration: signed protocol between nodes', function () {
  this.timeout(60_000);
  let dir: string;
  const running: Running[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-signed-'));
  });
  afterEach(async () => {
    for (const r of running.splice(0).reverse()) {
      await r.server.close();
      await r.node.finalize();
    }
    await rm(dir, { recursive: true, force: true });
  });

  async function startSigned(
    name: string,
    opts: { coordinator?: boolean; first?: Running; provides?: string[]; password?: string } = {},
  ): Promise<Running> {
    // The profile carries the URL: pick a port, and try another if someone took it before the bind.
    return onFreePort((port) => startSignedOn(port, name, opts));
  }

  async function startSignedOn(
    port: number,
    name: string,
    opts: { coordinator?: boolean; first?: Running; provides?: string[]; password?: string },
  ): Promise<Running> {
    const url = `http://127.0.0.1:${port}/koi-net`;
    // As the CLI's coordinator role: it provides node and edge events and state.
    const provides = [...(opts.coordinator ? ['orn:koi-net.node', 'orn:koi-net.edge'] : []), ...(opts.provides ?? [])];
    const node = new NodeInterface({
      name,
      protocol: 'signed',
      dataDir: join(dir, name),
      profile: {
        node_type: NodeType.FULL,
        base_url: url,
        provides: { event: provides, state: provides },
      },
      ...(opts.first ? { firstContact: opts.first.url, firstContactRid: String(opts.first.node.identity.rid) } : {}),
      ...(opts.password ? { privateKeyPassword: opts.password } : {}),
      retryTickMs: 50,
    });
    installBehaviours(node, {
      coordinator: opts.coordinator === true,
      contact: opts.coordinator ? false : { extraRidTypes: [ITEM] },
    });
    const server = await startFullNode(node, { host: '127.0.0.1', port });
    const r = { node, server, url };
    running.push(r);
    return r;
  }

  async function approvedEdge(at: Running, source: Running, target: Running): Promise<boolean | undefined> {
    const edge = at.node.graph.getEdgeProfile({ source: source.node.identity.rid, target: target.node.identity.rid });
    return edge?.status === EdgeStatus.APPROVED ? true : undefined;
  }

  it('a signed node has a key-derived RID, a 0600 PEM and public_key in its profile', async () => {
    const a = await startSigned('alpha', { password: 'hunter2' });
    const key = a.node.keyPair!;
    expect(String(a.node.identity.rid)).to.equal(String(key.nodeRid('alpha')));
    expect((a.node.identity.profile as { public_key?: string }).public_key).to.equal(key.publicKeyDerB64);
    const st = await stat(join(dir, 'alpha', 'priv_key.pem'));
    expect(st.mode & 0o777).to.equal(0o600);
    expect(await readFile(join(dir, 'alpha', 'priv_key.pem'), 'utf8')).to.match(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);

    // A restart reads the same key, so the RID is stable; a wrong password is refused.
    const rid = String(a.node.identity.rid);
    await a.server.close();
    await a.node.finalize();
    running.splice(running.indexOf(a), 1);
    const again = new NodeInterface({ name: 'alpha', protocol: 'signed', dataDir: join(dir, 'alpha'), privateKeyPassword: 'hunter2', profile: a.node.identity.profile, inbox: false });
    await again.initialize();
    expect(String(again.identity.rid)).to.equal(rid);
    await again.finalize();
    const wrong = new NodeInterface({ name: 'alpha', protocol: 'signed', dataDir: join(dir, 'alpha'), privateKeyPassword: 'nope', profile: a.node.identity.profile, inbox: false });
    const err = await wrong.initialize().then(() => undefined, (e: unknown) => e);
    expect(err).to.have.property('code', 'invalid_private_key');
  });

  it('handshake, edge approval, node events and a custom type NEW/UPDATE/FORGET flow between three signed nodes', async () => {
    const coord = await startSigned('coord', { coordinator: true });
    const f = await startSigned('f', { first: coord, provides: [ITEM] });
    const g = await startSigned('g', { first: coord });

    // Handshake: the coordinator learnt both newcomers from their self-introducing envelopes.
    await waitFor('coordinator knows f and g', () => (coord.node.graph.getNodeProfile(f.node.identity.rid) && coord.node.graph.getNodeProfile(g.node.identity.rid) ? true : undefined));
    // Edges both ways between the coordinator and each newcomer, approved by their source.
    await waitFor('coord<->f approved', async () => ((await approvedEdge(coord, f, coord)) && (await approvedEdge(coord, coord, f))) || undefined);
    await waitFor('coord<->g approved', async () => ((await approvedEdge(coord, g, coord)) && (await approvedEdge(coord, coord, g))) || undefined);
    // Node events: g hears of f through the coordinator (or catch-up), and proposes an edge to f
    // (f provides orn:test.item), which f approves.
    await waitFor('g knows f', () => (g.node.graph.getNodeProfile(f.node.identity.rid) ? true : undefined));
    await waitFor('f->g approved at g', () => approvedEdge(g, f, g));

    // A custom type: NEW, UPDATE, FORGET made at f reach g over signed webhooks.
    const rid = RID.of(`${ITEM}:one`);
    await f.node.processor.handle({ bundle: Bundle.generate(rid, { v: 1, ratio: 1.5 }), flush: true });
    await waitFor('NEW at g', async () => ((await g.node.cache.read(rid))?.contents['v'] === 1 ? true : undefined));
    await f.node.processor.handle({ bundle: Bundle.generate(rid, { v: 2, ratio: 1.5 }), flush: true });
    await waitFor('UPDATE at g', async () => ((await g.node.cache.read(rid))?.contents['v'] === 2 ? true : undefined));
    await f.node.processor.handle({ rid, eventType: EventType.FORGET, source: KnowledgeSource.INTERNAL, flush: true });
    await waitFor('FORGET at g', async () => ((await g.node.cache.read(rid)) === undefined ? true : undefined));

    // Signed fetches work too, verified against the cached key.
    const { rids } = await g.node.network.requestHandler.fetchRids({ node: f.node.identity.rid }, { rid_types: ['orn:koi-net.node'] });
    expect(rids.map(String)).to.include(String(f.node.identity.rid));
  });

  it('refuses a tampered body (invalid_signature), an unknown sender (unknown_node) and a wrong target (invalid_target)', async () => {
    const coord = await startSigned('coord', { coordinator: true });
    const f = await startSigned('f', { first: coord });
    await waitFor('coordinator knows f', () => coord.node.graph.getNodeProfile(f.node.identity.rid));
    const fKey = f.node.keyPair!;
    const post = async (path: string, body: string): Promise<{ status: number; text: string }> => {
      const res = await fetch(coord.url + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      return { status: res.status, text: await res.text() };
    };

    const good = signEnvelope({ type: 'fetch_rids', rid_types: [] }, { sourceNode: f.node.identity.rid, targetNode: coord.node.identity.rid, keyPair: fKey });
    expect((await post('/rids/fetch', good)).status).to.equal(200);

    const tampered = good.replace('"rid_types":[]', '"rid_types":["orn:koi-net.edge"]');
    expect(await post('/rids/fetch', tampered)).to.deep.equal({ status: 400, text: '{"type":"error_response","error":"invalid_signature"}' });

    const stranger = NodeKeyPair.generate();
    const unknown = signEnvelope({ type: 'fetch_rids', rid_types: [] }, { sourceNode: stranger.nodeRid('x'), targetNode: coord.node.identity.rid, keyPair: stranger });
    expect(await post('/rids/fetch', unknown)).to.deep.equal({ status: 400, text: '{"type":"error_response","error":"unknown_node"}' });

    const wrongTarget = signEnvelope({ type: 'fetch_rids', rid_types: [] }, { sourceNode: f.node.identity.rid, targetNode: f.node.identity.rid, keyPair: fKey });
    expect(await post('/rids/fetch', wrongTarget)).to.deep.equal({ status: 400, text: '{"type":"error_response","error":"invalid_target"}' });

    // Signed with another key in a known node's name: checked against the cached key, so it fails.
    const impostor = signEnvelope({ type: 'fetch_rids', rid_types: [] }, { sourceNode: f.node.identity.rid, targetNode: coord.node.identity.rid, keyPair: stranger });
    expect((await post('/rids/fetch', impostor)).text).to.equal('{"type":"error_response","error":"invalid_signature"}');

    // A self-introduction whose public key does not hash to the sender's RID: invalid_key.
    const claimed = NodeKeyPair.generate().nodeRid('mallory');
    const intro = Bundle.generate(claimed, { base_url: null, node_type: 'PARTIAL', provides: { event: [], state: [] }, public_key: stranger.publicKeyDerB64 });
    const badIntro = signEnvelope(
      { type: 'events_payload', events: [{ rid: claimed, event_type: 'NEW', manifest: intro.manifest.toJSON(), contents: intro.contents }] },
      { sourceNode: claimed, targetNode: coord.node.identity.rid, keyPair: stranger },
    );
    expect(await post('/events/broadcast', badIntro)).to.deep.equal({ status: 400, text: '{"type":"error_response","error":"invalid_key"}' });

    // Malformed and mismatched envelopes are validation errors (422), as FastAPI answers them.
    expect((await post('/rids/fetch', '{"payload":{}}')).status).to.equal(422);
    expect((await post('/bundles/fetch', good)).status).to.equal(422);

    // The client side: a refusal is a typed RemoteProtocolError.
    const client = f.node.network.requestHandler;
    const err = await client
      .fetchRids({ url: coord.url, node: f.node.identity.rid })
      .then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(RemoteProtocolError);
    expect((err as RemoteProtocolError).errorType).to.equal('invalid_target');
  });

  it('re-handshakes when a peer answers unknown_node, as the reference does', async () => {
    const coord = await startSigned('coord', { coordinator: true });
    const f = await startSigned('f', { first: coord });
    await waitFor('coord<->f approved', async () => ((await approvedEdge(coord, f, coord)) && (await approvedEdge(coord, coord, f))) || undefined);
    await waitFor('f idle', () => (f.node.network.deliveryStats()[String(coord.node.identity.rid)]?.queued === 0 ? true : undefined));
    // The coordinator loses f (e.g. a wiped cache): f's next envelope is refused as unknown_node.
    await coord.node.cache.delete(f.node.identity.rid);
    await coord.node.graph.generate();
    expect(coord.node.graph.getNodeProfile(f.node.identity.rid)).to.equal(undefined);

    const rid = RID.of(`${ITEM}:ping`);
    const bundle = Bundle.generate(rid, { ping: true });
    await f.node.network.pushEventTo(Event.fromBundle(bundle, EventType.NEW), coord.node.identity.rid, true);
    // The refused batch went back with FORGET + NEW of f in front, and the retry delivers it.
    await waitFor('coordinator knows f again', () => coord.node.graph.getNodeProfile(f.node.identity.rid), 20_000);
    await waitFor('f delivered its queue', () => (f.node.network.deliveryStats()[String(coord.node.identity.rid)]?.queued === 0 ? true : undefined));
  });
});
