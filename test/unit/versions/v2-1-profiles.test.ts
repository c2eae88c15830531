/**
 * Issue 13 item 2: koi-net 2.1 profiles. The vectors in test/fixtures/v2.1.0-profiles.json were
 * written by koi-net 2.1.0's own models (see /work/shared/fixtures/README.md); these tests pin our
 * wire bytes to them: the profiles our signed node writes, the edge bundles it proposes and
 * approves, and the byte-for-byte keeping of 2.1 profiles received from peers (cache round trip).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeInterface } from '../../../src/node.ts';
import { installBehaviours, proposedEdgeBundle } from '../../../src/behaviours/index.ts';
import { Cache } from '../../../src/cache/index.ts';
import { Bundle, KnowledgeSource } from '../../../src/knowledge/index.ts';
import {
  EdgeStatus,
  EdgeType,
  NODE_PROFILE_CONTEXT,
  NodeType,
  parseEdgeProfile,
  parseNodeProfile,
  withEdgeProfileContext,
  withNodeProfileContext,
  type EdgeProfile,
} from '../../../src/protocol/index.ts';
import { KoiNetEdge } from '../../../src/rid/index.ts';
import { NodeKeyPair, signEnvelope } from '../../../src/secure/index.ts';

interface Entry {
  name: string;
  json: string;
  input_json?: string;
}
interface Vectors {
  keys: Record<string, { rid: string; public_key_der_b64: string } | string>;
  entries: Entry[];
  signed_envelope: { unsigned_json: string; signed_json: string; signer_rid: string; target_rid: string };
}
const vectors = JSON.parse(readFileSync(new URL('../../fixtures/v2.1.0-profiles.json', import.meta.url), 'utf8')) as Vectors;
const pydantic = JSON.parse(readFileSync(new URL('../../fixtures/pydantic_json.json', import.meta.url), 'utf8')) as {
  full_signed_example: { private_key_pkcs8_pem_unencrypted: string; public_key_der_b64: string };
};
const entry = (name: string): string => {
  const e = vectors.entries.find((x) => x.name === name);
  if (!e) throw new Error(`no vector ${name}`);
  return e.json;
};
const PARTIAL = vectors.keys['vector-partial (key A, signer)'] as { rid: string; public_key_der_b64: string };
const COORD = vectors.keys['vector-coordinator (key B)'] as { rid: string; public_key_der_b64: string };
const NODE_EDGE_TYPES = ['orn:koi-net.node', 'orn:koi-net.edge'];

describe('versions: koi-net 2.1 profiles (@context) against the 2.1.0 vectors', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-v21-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('key A of the vectors is the signer key of pydantic_json.json', () => {
    expect(pydantic.full_signed_example.public_key_der_b64).to.equal(PARTIAL.public_key_der_b64);
  });

  it('withNodeProfileContext writes a FULL and a PARTIAL profile byte for byte as 2.1.0 does', () => {
    const full = withNodeProfileContext({
      node_type: NodeType.FULL,
      base_url: 'http://127.0.0.1:8000/koi-net',
      provides: { event: NODE_EDGE_TYPES, state: NODE_EDGE_TYPES },
      public_key: COORD.public_key_der_b64,
    });
    expect(JSON.stringify(full)).to.equal(entry('node_profile_full'));
    // Seed-style input: no provides, no base_url; 2.1.0 dumps both with their defaults.
    const partial = withNodeProfileContext({ node_type: NodeType.PARTIAL, public_key: PARTIAL.public_key_der_b64 });
    expect(JSON.stringify(partial)).to.equal(entry('node_profile_partial'));
  });

  it('a signed PARTIAL node started with key A announces exactly the 2.1.0 bundle contents and hash', async () => {
    const dataDir = join(dir, 'partial');
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'priv_key.pem'), pydantic.full_signed_example.private_key_pkcs8_pem_unencrypted, { mode: 0o600 });
    const node = new NodeInterface({ name: 'vector-partial', protocol: 'signed', dataDir, profile: { node_type: NodeType.PARTIAL, base_url: null } });
    await node.initialize();
    try {
      expect(String(node.identity.rid)).to.equal(PARTIAL.rid);
      const vector = JSON.parse(entry('node_bundle_partial')) as { manifest: { sha256_hash: string }; contents: unknown };
      expect(JSON.stringify(node.identity.bundle.contents)).to.equal(JSON.stringify(vector.contents));
      expect(node.identity.bundle.manifest.sha256Hash).to.equal(vector.manifest.sha256_hash);
      // The cached copy (what peers fetch) is the same bytes.
      const cached = await node.cache.read(node.identity.rid);
      expect(JSON.stringify(cached?.contents)).to.equal(JSON.stringify(vector.contents));
    } finally {
      await node.finalize();
    }
  });

  it('profileContext: false keeps a signed node on the 2.0 shape; unsigned nodes have no @context by default', async () => {
    const off = new NodeInterface({ name: 'off', protocol: 'signed', profileContext: false, dataDir: join(dir, 'off'), profile: { node_type: NodeType.PARTIAL } });
    const plain = new NodeInterface({ name: 'plain', dataDir: join(dir, 'plain'), profile: { node_type: NodeType.PARTIAL } });
    await off.initialize();
    await plain.initialize();
    try {
      expect(off.identity.profile).to.not.have.property('@context');
      expect(plain.identity.profile).to.not.have.property('@context');
      expect(off.generateEdgeBundle(off.identity.rid, plain.identity.rid, ['orn:koi-net.node'], EdgeType.POLL).contents).to.not.have.property('@context');
    } finally {
      await off.finalize();
      await plain.finalize();
    }
  });

  it('proposed and approved edge profiles match generate_edge_bundle and the 2.1.0 approval', () => {
    const proposed = proposedEdgeBundle(PARTIAL.rid, COORD.rid, NODE_EDGE_TYPES, EdgeType.WEBHOOK, { context: true });
    const vector = JSON.parse(entry('edge_bundle_webhook_proposed_generate_edge_bundle')) as { manifest: { rid: string; sha256_hash: string }; contents: unknown };
    expect(String(proposed.rid)).to.equal(vector.manifest.rid);
    expect(String(proposed.rid)).to.equal(String(KoiNetEdge.generate(PARTIAL.rid, COORD.rid)));
    expect(JSON.stringify(proposed.contents)).to.equal(JSON.stringify(vector.contents));
    expect(proposed.manifest.sha256Hash).to.equal(vector.manifest.sha256_hash);

    const approved = withEdgeProfileContext({ ...(parseEdgeProfile(proposed.contents) as EdgeProfile), status: EdgeStatus.APPROVED });
    expect(JSON.stringify(approved)).to.equal(entry('edge_profile_webhook_approved'));
    const approvedVector = JSON.parse(entry('edge_bundle_webhook_approved')) as { manifest: { sha256_hash: string } };
    expect(Bundle.generate(proposed.rid, approved as unknown as Record<string, unknown>).manifest.sha256Hash).to.equal(approvedVector.manifest.sha256_hash);
  });

  it('2.1 bundles from peers parse and go through the cache byte for byte, hashes unchanged', async () => {
    const cache = await Cache.open(join(dir, 'cache'));
    try {
      for (const name of ['node_bundle_full', 'node_bundle_partial', 'edge_bundle_webhook_approved', 'edge_bundle_webhook_proposed_generate_edge_bundle']) {
        const text = entry(name);
        const bundle = Bundle.fromJSON(JSON.parse(text));
        expect(JSON.stringify(bundle), name).to.equal(text);
        // What the handlers do with a profile: parse it. The parsed copy keeps @context and order.
        const parsed = name.startsWith('node') ? parseNodeProfile(bundle.contents) : parseEdgeProfile(bundle.contents);
        expect(JSON.stringify(parsed), name).to.equal(JSON.stringify(bundle.contents));
        await cache.write(bundle);
        const back = await cache.read(bundle.rid);
        expect(JSON.stringify(back), name).to.equal(text);
      }
    } finally {
      await cache.close();
    }
    // Reopened from disk: still the same bytes.
    const reopened = await Cache.open(join(dir, 'cache'));
    try {
      const back = await reopened.read(COORD.rid);
      expect(JSON.stringify(back)).to.equal(entry('node_bundle_full'));
    } finally {
      await reopened.close();
    }
  });

  it('a profile without @context is kept without one (2.0 peers), and provides may be absent (seed)', () => {
    const input = vectors.entries.find((e) => e.name === 'node_profile_partial_parsed_without_context')!.input_json!;
    const parsed = parseNodeProfile(JSON.parse(input));
    expect(parsed).to.not.have.property('@context');
    expect(parseNodeProfile({ node_type: 'FULL', base_url: 'http://127.0.0.1:1/koi-net' }).provides).to.deep.equal({ event: [], state: [] });
    expect(withNodeProfileContext(parsed)['@context']).to.equal(NODE_PROFILE_CONTEXT);
  });

  it('our envelope over the 2.1.0 partial bundle is the bytes koi-net 2.1.0 signs', () => {
    const keyA = NodeKeyPair.fromPkcs8Pem(pydantic.full_signed_example.private_key_pkcs8_pem_unencrypted);
    const unsigned = JSON.parse(vectors.signed_envelope.unsigned_json) as { payload: unknown };
    const signed = signEnvelope(unsigned.payload as Parameters<typeof signEnvelope>[0], {
      keyPair: keyA,
      sourceNode: vectors.signed_envelope.signer_rid,
      targetNode: vectors.signed_envelope.target_rid,
    });
    const withoutSignature = signed.replace(/,"signature":"[^"]*"\}$/, '}');
    expect(withoutSignature).to.equal(vectors.signed_envelope.unsigned_json);
  });

  describe('the 2.1 contact rule', () => {
    async function contactingNode(name: string, protocol: 'signed' | 'unsigned'): Promise<NodeInterface> {
      const node = new NodeInterface({ name, protocol, dataDir: join(dir, name), profile: { node_type: NodeType.FULL, base_url: 'http://127.0.0.1:9/koi-net' } });
      installBehaviours(node, { contact: { catchUp: false } });
      await node.initialize();
      return node;
    }

    it('a signed full node proposes no edge to a signed PARTIAL provider of node events', async () => {
      const node = await contactingNode('full-signed', 'signed');
      try {
        const peerKey = NodeKeyPair.generate();
        const peer = peerKey.nodeRid('provider');
        const profile = withNodeProfileContext({ node_type: NodeType.PARTIAL, provides: { event: NODE_EDGE_TYPES }, public_key: peerKey.publicKeyDerB64 });
        await node.processor.handle({ bundle: Bundle.generate(peer, profile as unknown as Record<string, unknown>), source: KnowledgeSource.EXTERNAL, sourceNode: String(peer), flush: true });
        expect(await node.cache.exists(peer), 'the peer is known').to.equal(true);
        expect(await node.cache.exists(KoiNetEdge.generate(String(peer), String(node.identity.rid))), 'no edge').to.equal(false);
      } finally {
        await node.finalize();
      }
    });

    it('an unsigned (1.0.x) PARTIAL provider still gets the older webhook edge proposal', async () => {
      const node = await contactingNode('full-plain', 'unsigned');
      try {
        const peer = 'orn:koi-net.node:provider+76037046-7142-4eef-9b1f-e4ca6ad24ba9';
        const profile = { node_type: NodeType.PARTIAL, provides: { event: NODE_EDGE_TYPES, state: [] } };
        await node.processor.handle({ bundle: Bundle.generate(peer, profile), source: KnowledgeSource.EXTERNAL, sourceNode: peer, flush: true });
        const edge = await node.cache.read(KoiNetEdge.generate(peer, String(node.identity.rid)));
        expect(edge?.contents).to.include({ edge_type: 'WEBHOOK', status: 'PROPOSED' });
      } finally {
        await node.finalize();
      }
    });
  });
});
