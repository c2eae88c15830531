/**
 * The signed paths of the server (createKoiNetApp with `signed`) and of the client (RequestHandler
 * with `signed`), checked against the Python vectors: envelopes a koi-net 2.0.6 node printed and
 * signed must be accepted, its signed answers verified, and our requests must carry no `rid`.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { FakePeer, KOI_PATHS } from '../../helpers/fake-peer.ts';
import type { KoiNetHandlers } from '../../../generated/stubs/operations.ts';
import { createKoiNetApp, startServer, type RunningServer } from '../../../src/server/app.ts';
import { RequestHandler } from '../../../src/peer/index.ts';
import { RemoteResponseInvalidError } from '../../../src/errors.ts';
import { KoiNetNode } from '../../../src/rid/index.ts';
import { silentLogger } from '../../../src/logger.ts';
import { NodeType, type NodeProfile } from '../../../src/protocol/index.ts';
import { NodeKeyPair, RemoteProtocolError, verifyEnvelope, type PublicKeyLookup } from '../../../src/secure/index.ts';

interface Vector {
  name: string;
  endpoint: string;
  direction: 'request' | 'response';
  signed_json: string;
}
interface Fixture {
  envelopes: Vector[];
  full_signed_example: { private_key_pkcs8_pem_unencrypted: string; node_rid: string; target_node_rid: string; target_public_key_der_b64: string };
  node_rids: Record<string, { rid: string; public_key_der_b64: string }>;
}
const fx = JSON.parse(readFileSync(new URL('../../fixtures/pydantic_json.json', import.meta.url), 'utf8')) as Fixture;
const A = fx.full_signed_example; // the partial node; its private key is in the vectors
const A_KEY = Object.values(fx.node_rids).find((n) => n.rid === A.node_rid)!.public_key_der_b64;
const B_RID = A.target_node_rid; // the coordinator; only its public key is in the vectors
const byName = (name: string): Vector => fx.envelopes.find((e) => e.name === name)!;

describe('secure: signed server path (Python vectors)', () => {
  let server: RunningServer;
  const calls: { op: string; body: unknown; source: string | undefined }[] = [];
  // Our server plays the vectors' coordinator B. Its private key is not in the vectors, so answers
  // are signed with a stand-in key: this suite checks intake, not B's signature.
  const standIn = NodeKeyPair.generate();
  let knowA = true;
  const lookup: PublicKeyLookup = (node) =>
    knowA && node.toString() === A.node_rid ? { known: true, publicKeyDerB64: A_KEY } : { known: false, publicKeyDerB64: undefined };

  const record = (op: string) =>
    async (body: unknown, ctx?: { sourceNode?: KoiNetNode }): Promise<never> => {
      calls.push({ op, body, source: ctx?.sourceNode?.toString() });
      const answers: Record<string, unknown> = {
        broadcastEvents: null,
        pollEvents: { events: [] },
        fetchRids: { rids: [A.node_rid] },
        fetchManifests: { manifests: [], not_found: [] },
        fetchBundles: { bundles: [], not_found: [], deferred: [] },
      };
      return answers[op] as never;
    };

  before(async () => {
    const handlers = {
      broadcastEvents: record('broadcastEvents'),
      pollEvents: record('pollEvents'),
      fetchRids: record('fetchRids'),
      fetchManifests: record('fetchManifests'),
      fetchBundles: record('fetchBundles'),
    } as unknown as KoiNetHandlers;
    const app = createKoiNetApp({
      handlers,
      logger: silentLogger,
      signed: { self: () => KoiNetNode.of(B_RID), keyPair: () => standIn, lookup },
    });
    server = await startServer(app);
  });
  after(() => server.close());
  beforeEach(() => {
    calls.length = 0;
    knowA = true;
  });

  const post = async (path: string, body: string): Promise<{ status: number; text: string }> => {
    const res = await fetch(server.url + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    return { status: res.status, text: await res.text() };
  };

  for (const v of fx.envelopes.filter((e) => e.direction === 'request')) {
    it(`accepts the Python request ${v.name} from a known sender addressed to us`, async () => {
      const res = await post(v.endpoint, v.signed_json);
      expect(res.status, res.text).to.equal(200);
      expect(calls).to.have.length(1);
      expect(calls[0]!.source).to.equal(A.node_rid);
      if (v.endpoint.endsWith('/events/broadcast')) {
        expect(res.text).to.equal('null');
      } else {
        // The answer is an envelope from us to the sender, signed over pydantic's bytes.
        const env = verifyEnvelope(res.text, { publicKeyDerB64: standIn.publicKeyDerB64, checkKeyMatchesSource: false, expectedTargetNode: A.node_rid });
        expect(env.sourceNode.toString()).to.equal(B_RID);
        expect(env.verifiedBy).to.equal('received_text');
      }
      // The poller is the envelope's source_node: PollEvents carries no rid on the wire.
      if (v.endpoint.endsWith('/events/poll')) expect((calls[0]!.body as { rid: string }).rid).to.equal(A.node_rid);
    });
  }

  it('lets an unknown sender introduce itself with a NEW event of its own bundle (broadcast only)', async () => {
    knowA = false;
    expect((await post('/koi-net/events/broadcast', byName('events_payload_handshake').signed_json)).status).to.equal(200);
    expect(await post('/koi-net/rids/fetch', byName('fetch_rids_all').signed_json)).to.deep.equal({
      status: 400,
      text: '{"type":"error_response","error":"unknown_node"}',
    });
    expect(calls.map((c) => c.op)).to.deep.equal(['broadcastEvents']);
  });

  it('answers a tampered Python envelope with invalid_signature and a mismatched payload type with 422', async () => {
    const tampered = byName('fetch_rids_all').signed_json.replace('"rid_types":[]', '"rid_types":["orn:koi-net.edge"]');
    expect(await post('/koi-net/rids/fetch', tampered)).to.deep.equal({ status: 400, text: '{"type":"error_response","error":"invalid_signature"}' });
    expect((await post('/koi-net/bundles/fetch', byName('fetch_rids_all').signed_json)).status).to.equal(422);
    expect((await post('/koi-net/rids/fetch', '{"type":"fetch_rids"}')).status).to.equal(422);
    expect(calls).to.have.length(0);
  });
});

describe('secure: signed client path (Python vectors)', () => {
  const peer = new FakePeer();
  let url: string;
  let answer: { status: number; body: string } = { status: 200, body: 'null' };
  /** Bodies of the protocol requests the peer got, as sent. */
  const received = (): string[] => peer.seen.filter((r) => r.routed).map((r) => r.text);
  const keyA = NodeKeyPair.fromPkcs8Pem(A.private_key_pkcs8_pem_unencrypted);
  const profileB: NodeProfile = {
    node_type: NodeType.FULL,
    base_url: '',
    provides: { event: [], state: [] },
    public_key: A.target_public_key_der_b64,
  } as NodeProfile;

  before(async () => {
    for (const path of KOI_PATHS) peer.responders.set(path, () => ({ status: answer.status, text: answer.body }));
    await peer.start();
    url = peer.baseUrl;
    profileB.base_url = url;
  });
  after(() => peer.stop());
  beforeEach(() => {
    peer.seen.length = 0;
  });

  const handler = (knowsB = true): RequestHandler =>
    new RequestHandler({
      graph: { getNodeProfile: (rid) => (knowsB && rid.toString() === B_RID ? profileB : undefined) },
      signed: { keyPair: keyA, self: KoiNetNode.of(A.node_rid) },
    });

  it('polls with a signed envelope without rid and verifies the Python answer with the cached key', async () => {
    answer = { status: 200, body: byName('poll_response_events').signed_json };
    const { events } = await handler().pollEvents({ node: B_RID }, { rid: A.node_rid, limit: 5 });
    expect(events.length).to.be.greaterThan(0);
    const sent = verifyEnvelope(received()[0]!, { publicKeyDerB64: A_KEY, expectedTargetNode: B_RID });
    expect(sent.payload).to.deep.equal({ type: 'poll_events', limit: 5 });
  });

  it('verifies fetch answers (rids, manifests, bundles)', async () => {
    answer = { status: 200, body: byName('rids_payload').signed_json };
    expect((await handler().fetchRids({ node: B_RID })).rids.length).to.be.greaterThan(0);
    answer = { status: 200, body: byName('manifests_payload').signed_json };
    expect((await handler().fetchManifests({ node: B_RID })).manifests.length).to.be.greaterThan(0);
    answer = { status: 200, body: byName('bundles_payload').signed_json };
    expect((await handler().fetchBundles({ node: B_RID }, { rids: [A.node_rid] })).bundles.length).to.be.greaterThan(0);
  });

  it('refuses an answer that does not verify, or from a node it cannot verify', async () => {
    answer = { status: 200, body: byName('rids_payload').signed_json.replace('"rids":[', '"rids":["orn:x.y:z",') };
    const tampered = await handler().fetchRids({ node: B_RID }).then(() => undefined, (e: unknown) => e);
    expect(tampered).to.be.instanceOf(RemoteResponseInvalidError);
    answer = { status: 200, body: byName('rids_payload').signed_json };
    const unknown = await handler(false).fetchRids({ url, node: B_RID }).then(() => undefined, (e: unknown) => e);
    expect(unknown).to.be.instanceOf(RemoteResponseInvalidError);
  });

  it('turns a 400 error_response into a typed RemoteProtocolError', async () => {
    for (const kind of ['unknown_node', 'invalid_key', 'invalid_signature', 'invalid_target'] as const) {
      answer = { status: 400, body: `{"type":"error_response","error":"${kind}"}` };
      const err = await handler().broadcastEvents({ node: B_RID }, { events: [] }).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(RemoteProtocolError);
      expect((err as RemoteProtocolError).errorType).to.equal(kind);
      expect((err as RemoteProtocolError).status).to.equal(400);
    }
  });

  it('needs the node RID for a URL-only target', async () => {
    const err = await handler().fetchRids({ url }).then(() => undefined, (e: unknown) => e);
    expect(err).to.have.property('code', 'unreachable_node');
    expect(received()).to.have.length(0);
  });
});

describe('secure: protocol selection in config and CLI', () => {
  it('defaults to unsigned and reads protocol / first_contact_rid from file, env and flags', async () => {
    const { defaultConfig, parseConfigText, loadConfig, validateConfig, mergeConfig, flagsToOverrides } = await import('../../../src/config/index.ts');
    expect(defaultConfig().protocol).to.equal('unsigned');
    expect(defaultConfig().firstContactRid).to.equal(null);
    expect(parseConfigText(`protocol: signed\nfirst_contact_rid: ${B_RID}\n`)).to.deep.equal({ protocol: 'signed', firstContactRid: B_RID });
    const fromEnv = await loadConfig(undefined, { env: { KOI_NET_PROTOCOL: 'signed', KOI_NET_FIRST_CONTACT_RID: B_RID } });
    expect(fromEnv.protocol).to.equal('signed');
    expect(fromEnv.firstContactRid).to.equal(B_RID);
    expect(flagsToOverrides({ protocol: 'SIGNED', 'first-contact-rid': B_RID } as Parameters<typeof flagsToOverrides>[0])).to.include({ protocol: 'signed', firstContactRid: B_RID });
    expect(() => flagsToOverrides({ protocol: 'v2' } as Parameters<typeof flagsToOverrides>[0])).to.throw(/--protocol/);
    expect(() => validateConfig(mergeConfig({ ...defaultConfig(), dataDir: '/tmp/x' }, { firstContactRid: 'https://x' }))).to.throw(/first_contact_rid/);
  });
});
