/**
 * The client's middleware against real HTTP servers on 127.0.0.1: the error mapping (one place for
 * every transport and HTTP failure, body stalls included) and the signed envelope (signed calls go
 * through the same typed client: signed on the way out, verified on the way back), in both modes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { expect } from 'chai';
import { listenOnPortZero, holdRefusingPort } from '../../helpers/ports.ts';
import { createPeerClient, RequestHandler, type NodeProfileSource } from '../../../src/peer/index.ts';
import { RemoteConnectionError, RemoteHTTPError, RemoteResponseInvalidError } from '../../../src/errors.ts';
import { Bundle, Event, EventType } from '../../../src/knowledge/index.ts';
import { NodeType, type NodeProfile } from '../../../src/protocol/index.ts';
import { RID, type KoiNetNode } from '../../../src/rid/index.ts';
import { NodeKeyPair, RemoteProtocolError, signEnvelope, verifyEnvelope, type Payload } from '../../../src/secure/index.ts';

type Answer = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/** A server whose every answer the test writes by hand (stalls and bare 204s included). */
class HandPeer {
  answer: Answer = (_req, _body, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('null');
  readonly received: { path: string; body: string }[] = [];
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      this.received.push({ path: (req.url ?? '').replace(/^\/koi-net/, ''), body });
      this.answer(req, body, res);
    });
  });
  url = '';

  async start(): Promise<void> {
    this.url = `http://127.0.0.1:${await listenOnPortZero(this.server)}/koi-net`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const json = (status: number, text: string): Answer => (_req, _body, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(text);

/** Headers and the first bytes of a body, then nothing: a peer that hangs mid-answer. */
const stallMidBody: Answer = (_req, _body, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
  res.write('{"rids": [');
};

describe('peer/middleware: error mapping and signed envelopes through one client', () => {
  let peer: HandPeer;
  beforeEach(async () => {
    peer = new HandPeer();
    await peer.start();
  });
  afterEach(() => peer.stop());

  describe('unsigned', () => {
    const noGraph: NodeProfileSource = { getNodeProfile: () => undefined };

    it('a peer that stalls mid-body -> RemoteConnectionError (timeout), not a bare AbortError', async () => {
      peer.answer = stallMidBody;
      const handler = new RequestHandler({ graph: noGraph, timeoutMs: 300 });
      const err = await handler.fetchRids({ url: peer.url }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(RemoteConnectionError);
      expect((err as RemoteConnectionError).url).to.equal(`${peer.url}/rids/fetch`);
      expect((err as Error).message).to.match(/no answer within 300 ms/);
    });

    it('a 400 error_response stays a plain RemoteHTTPError (protocol errors belong to the signed protocol)', async () => {
      peer.answer = json(400, '{"type":"error_response","error":"unknown_node"}');
      const err = await new RequestHandler({ graph: noGraph }).fetchRids({ url: peer.url }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(RemoteHTTPError);
      expect(err).to.not.be.instanceOf(RemoteProtocolError);
      expect((err as RemoteHTTPError).body).to.deep.equal({ type: 'error_response', error: 'unknown_node' });
    });

    it('a broadcast answered 204 (no body at all) is a success', async () => {
      peer.answer = (_req, _body, res) => res.writeHead(204).end();
      await new RequestHandler({ graph: noGraph }).broadcastEvents({ url: peer.url }, { events: [] });
      expect(peer.received.map((r) => r.path)).to.deep.equal(['/events/broadcast']);
    });

    it('the bare client throws the mapped errors itself: a typed call never returns `error`', async () => {
      const client = createPeerClient({ baseUrl: peer.url, timeoutMs: 2_000 });
      peer.answer = json(200, '{"rids":["orn:test.thing:one"]}');
      const ok = await client.POST('/rids/fetch', { body: { rid_types: [] }, parseAs: 'text' });
      expect(ok.data).to.equal('{"rids":["orn:test.thing:one"]}');
      peer.answer = json(503, '{"detail":"busy"}');
      const err = await client.POST('/rids/fetch', { body: { rid_types: [] } }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(RemoteHTTPError);
      expect((err as RemoteHTTPError).status).to.equal(503);
      expect((err as RemoteHTTPError).body).to.deep.equal({ detail: 'busy' });
    });
  });

  describe('signed', () => {
    const keyA = NodeKeyPair.generate();
    const keyB = NodeKeyPair.generate();
    const keyC = NodeKeyPair.generate();
    const a = keyA.nodeRid('a');
    const b = keyB.nodeRid('b');
    const c = keyC.nodeRid('c');
    const thing = RID.fromString('orn:test.thing:one');
    // A fixed time with a fraction: signed payloads write a whole second without one (as koi-net
    // 2.x does), which Manifest.toJSON below would not match (a generated time hits that 1 in 1,000).
    const thingBundle = Bundle.generate(thing, { value: 1.5, name: 'one' }, new Date('2026-01-02T03:04:05.678Z'));
    const profiles = new Map<string, NodeProfile>();
    const graph: NodeProfileSource = { getNodeProfile: (rid) => profiles.get(rid.toString()) };
    const handler = (timeoutMs = 2_000): RequestHandler =>
      new RequestHandler({ graph, timeoutMs, signed: { keyPair: keyA, self: a } });

    /** Answers as node `from` would: verifies our envelope with A's key, signs `payload` back to A. */
    const signedAnswer =
      (payload: (requestPayload: Record<string, unknown>) => Payload, from: { key: NodeKeyPair; rid: KoiNetNode } = { key: keyB, rid: b }): Answer =>
      (_req, body, res) => {
        const env = verifyEnvelope(body, { publicKeyDerB64: keyA.publicKeyDerB64, expectedTargetNode: b });
        const text = signEnvelope(payload(env.payload), { sourceNode: from.rid, targetNode: a, keyPair: from.key });
        res.writeHead(200, { 'content-type': 'application/json' }).end(text);
      };

    beforeEach(() => {
      const profile = (key: NodeKeyPair): NodeProfile =>
        ({ node_type: NodeType.FULL, base_url: peer.url, provides: { event: [], state: [] }, public_key: key.publicKeyDerB64 }) as NodeProfile;
      profiles.set(b.toString(), profile(keyB));
      profiles.set(c.toString(), profile(keyC));
    });

    it('signs every call as an envelope from A to B (typed body -> payload, no rid in polls) and verifies the answers', async () => {
      peer.answer = signedAnswer((req) => {
        switch (req['type']) {
          case 'poll_events':
            return { type: 'events_payload', events: [Event.fromBundle(thingBundle, EventType.NEW)] };
          case 'fetch_rids':
            return { type: 'rids_payload', rids: [thing] };
          case 'fetch_manifests':
            return { type: 'manifests_payload', manifests: [thingBundle.manifest], not_found: [] };
          default:
            return { type: 'bundles_payload', bundles: [thingBundle], not_found: [], deferred: [] };
        }
      });
      const h = handler();
      const { events } = await h.pollEvents({ node: b }, { rid: a, limit: 3 });
      const { rids } = await h.fetchRids({ node: b }, { rid_types: ['orn:test.thing'] });
      const { manifests } = await h.fetchManifests({ node: b }, { rids: [thing] });
      const { bundles } = await h.fetchBundles({ node: b }, { rids: [thing] });
      expect(events[0]!.bundle?.toJSON()).to.deep.equal(thingBundle.toJSON());
      expect(rids.map(String)).to.deep.equal([String(thing)]);
      expect(manifests[0]!.toJSON()).to.deep.equal(thingBundle.manifest.toJSON());
      expect(bundles[0]!.toJSON()).to.deep.equal(thingBundle.toJSON());
      const sent = peer.received.map((r) => verifyEnvelope(r.body, { publicKeyDerB64: keyA.publicKeyDerB64, expectedTargetNode: b }));
      expect(sent.map((e) => e.sourceNode.toString())).to.deep.equal([a, a, a, a].map(String));
      expect(sent.map((e) => e.payload)).to.deep.equal([
        { type: 'poll_events', limit: 3 },
        { type: 'fetch_rids', rid_types: ['orn:test.thing'] },
        { type: 'fetch_manifests', rid_types: [], rids: [String(thing)] },
        { type: 'fetch_bundles', rids: [String(thing)] },
      ]);
    });

    it('broadcasts a signed events payload; the answer needs no envelope', async () => {
      peer.answer = json(200, 'null');
      await handler().broadcastEvents({ node: b }, { events: [Event.fromBundle(thingBundle, EventType.NEW)] });
      const env = verifyEnvelope(peer.received[0]!.body, { publicKeyDerB64: keyA.publicKeyDerB64, expectedTargetNode: b });
      expect(env.payload).to.deep.equal({ type: 'events_payload', events: [Event.fromBundle(thingBundle, EventType.NEW).toJSON()] });
    });

    it('refuses an answer signed by another known node than the one asked', async () => {
      peer.answer = signedAnswer(() => ({ type: 'rids_payload', rids: [thing] }), { key: keyC, rid: c });
      const err = await handler().fetchRids({ node: b }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(RemoteResponseInvalidError);
      expect((err as Error).message).to.match(/not by/);
    });

    it('maps transport and HTTP failures exactly as unsigned calls do', async () => {
      peer.answer = stallMidBody;
      const stalled = await handler(300).fetchRids({ node: b }).catch((e: unknown) => e);
      expect(stalled).to.be.instanceOf(RemoteConnectionError);
      expect((stalled as Error).message).to.match(/no answer within 300 ms/);

      peer.answer = json(500, '{"detail":"Internal Server Error"}');
      const failed = await handler().fetchBundles({ node: b }, { rids: [thing] }).catch((e: unknown) => e);
      expect(failed).to.be.instanceOf(RemoteHTTPError);
      expect(failed).to.not.be.instanceOf(RemoteProtocolError);
      expect((failed as RemoteHTTPError).body).to.deep.equal({ detail: 'Internal Server Error' });

      const refusing = await holdRefusingPort();
      try {
        const err = await handler().fetchRids({ url: refusing.url, node: b }).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(RemoteConnectionError);
        expect((err as RemoteConnectionError).url).to.equal(`${refusing.url}/rids/fetch`);
        expect((err as Error).message).to.match(/ECONNREFUSED/);
      } finally {
        await refusing.close();
      }
    });
  });
});
