/**
 * Trust rules, exercised through HTTP against a real full node: nobody else tells a node who it is,
 * only an edge's source approves it, no RID reaches a path outside the cache directory, and bundle
 * contents never appear in logs.
 */
import { Writable } from 'node:stream';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { Bundle, Event, EventType, type JsonObject } from '../../src/knowledge/index.ts';
import { KoiNetEdge } from '../../src/rid/index.ts';
import { EdgeStatus, EdgeType, NodeType, type EdgeProfile } from '../../src/protocol/index.ts';
import { cacheFileName } from '../../src/cache/index.ts';
import type { Logger } from '../../src/logger.ts';
import { drain, postJson, rawPost, startRealNode, treeHashes, type RealNode } from './helpers.ts';

const PEER = 'orn:koi-net.node:peer+0d3f3ab0-1111-4222-8333-444455556666';

function broadcast(n: RealNode, events: unknown[]): Promise<{ status: number; text: string }> {
  return postJson(`${n.url}/events/broadcast`, { events });
}

const later = (ms: number): Date => new Date(Date.now() + ms);

function edge(source: string, target: string, status: EdgeStatus, over: Partial<EdgeProfile> = {}): Bundle {
  const profile: EdgeProfile = {
    source,
    target,
    edge_type: EdgeType.WEBHOOK,
    status,
    rid_types: ['orn:koi-net.node', 'orn:koi-net.edge'],
    ...over,
  };
  return Bundle.generate(KoiNetEdge.generate(source, target), profile as unknown as JsonObject, later(1000));
}

/** The peer's node bundle, so edges to it pass the "known peer" checks. Its URL is never listening. */
async function introducePeer(n: RealNode): Promise<void> {
  const profile = { node_type: NodeType.FULL, base_url: 'http://127.0.0.1:9/koi-net', provides: { event: [], state: [] } };
  expect((await broadcast(n, [Event.fromBundle(Bundle.generate(PEER, profile), EventType.NEW).toJSON()])).status).to.equal(200);
  await drain(n);
  expect(n.node.cache.exists(PEER)).to.equal(true);
}

describe('security: trust rules through HTTP', function () {
  this.timeout(30_000);
  let n: RealNode;
  beforeEach(async () => {
    n = await startRealNode();
  });
  afterEach(async () => {
    await n.close();
  });

  describe("this node's own RID", () => {
    for (const eventType of [EventType.NEW, EventType.UPDATE, EventType.FORGET]) {
      it(`a broadcast ${eventType} of our own RID changes nothing`, async () => {
        const mine = (await n.node.cache.read(n.me))!;
        const forged = Bundle.generate(n.me, { node_type: 'FULL', base_url: 'http://127.0.0.1:1/evil', provides: { event: [], state: [] } }, later(60_000));
        const event = eventType === EventType.FORGET ? Event.fromRid(n.me, EventType.FORGET) : Event.fromBundle(forged, eventType);
        // Also the bare-RID and manifest-only forms, which would otherwise make the node fetch.
        const bare = Event.fromRid(n.me, eventType);
        expect((await broadcast(n, [event.toJSON(), bare.toJSON()])).status).to.equal(200);
        await drain(n);
        const after = (await n.node.cache.read(n.me))!;
        expect(after.toJSON()).to.deep.equal(mine.toJSON());
        const served = await postJson(`${n.url}/bundles/fetch`, { rids: [n.me] });
        expect((served.json as { bundles: unknown[] }).bundles[0]).to.deep.equal(mine.toJSON());
      });
    }
  });

  describe('edges: only the source approves', () => {
    it('an external APPROVED edge with this node as source is ignored', async () => {
      await introducePeer(n);
      const forged = edge(n.me, PEER, EdgeStatus.APPROVED);
      expect((await broadcast(n, [Event.fromBundle(forged, EventType.NEW).toJSON()])).status).to.equal(200);
      await drain(n);
      expect(n.node.cache.exists(forged.rid)).to.equal(false);
      expect(n.node.graph.getEdgeProfile({ source: n.me, target: PEER }) ?? null).to.equal(null);
    });

    it('an external APPROVED edge to this node that we never proposed is ignored', async () => {
      await introducePeer(n);
      const forged = edge(PEER, n.me, EdgeStatus.APPROVED);
      await broadcast(n, [Event.fromBundle(forged, EventType.NEW).toJSON()]);
      await drain(n);
      expect(n.node.cache.exists(forged.rid)).to.equal(false);
    });

    describe('after this node proposed PEER -> us', () => {
      let proposal: Bundle;
      beforeEach(async () => {
        await introducePeer(n);
        proposal = edge(PEER, n.me, EdgeStatus.PROPOSED);
        proposal = Bundle.generate(proposal.rid, proposal.contents, new Date());
        await n.node.processor.handle({ bundle: proposal, flush: true });
        expect((await n.node.cache.read(proposal.rid))!.contents['status']).to.equal('PROPOSED');
      });

      it('an APPROVED answer with the same terms is accepted', async () => {
        const approval = edge(PEER, n.me, EdgeStatus.APPROVED, { rid_types: ['orn:koi-net.edge', 'orn:koi-net.node'] });
        await broadcast(n, [Event.fromBundle(approval, EventType.UPDATE).toJSON()]);
        await drain(n);
        expect((await n.node.cache.read(proposal.rid))!.contents['status']).to.equal('APPROVED');
      });

      for (const [what, over] of [
        ['wider rid_types', { rid_types: ['orn:koi-net.node', 'orn:koi-net.edge', 'orn:slack.message'] }],
        ['another edge_type', { edge_type: EdgeType.POLL }],
      ] as [string, Partial<EdgeProfile>][]) {
        it(`an APPROVED answer with ${what} is ignored`, async () => {
          const approval = edge(PEER, n.me, EdgeStatus.APPROVED, over);
          await broadcast(n, [Event.fromBundle(approval, EventType.UPDATE).toJSON()]);
          await drain(n);
          expect((await n.node.cache.read(proposal.rid))!.contents).to.deep.equal(proposal.contents);
        });
      }
    });
  });

  describe('RIDs never reach outside the cache directory', () => {
    const HOSTILE = [
      'orn:x.y:../../../../../../tmp/koi-escape',
      'orn:koi-net.edge:../../identity',
      'orn:a:/etc/passwd',
      'orn:a:..',
      'orn:a:./../data/identity.json',
      'orn:a:b\u0000c',
      'orn:a:\u0000/../../x',
      'https://example.com/../../../x',
      'file:///../../etc/shadow',
      `orn:a:${'../'.repeat(2000)}x`,
      `orn:long:${'x'.repeat(100_000)}`,
      `orn:a:${'é/'.repeat(5000)}`,
    ];

    it('hostile RIDs are stored (if at all) only as base64url/hashed files inside the cache directory', async () => {
      // A canary beside the data directory: nothing may appear or change there.
      await mkdir(join(n.root, 'outside'));
      await writeFile(join(n.root, 'outside', 'canary'), 'x');
      const before = await treeHashes(n.root);
      const events = HOSTILE.map((rid, i) => Event.fromBundle(Bundle.generate(rid, { i }), EventType.NEW).toJSON());
      const res = await broadcast(n, events);
      expect(res.status, res.text.slice(0, 200)).to.equal(200);
      await drain(n);

      const after = await treeHashes(n.root);
      const cacheRel = relative(n.root, n.cacheDir);
      for (const [path, hash] of after) {
        if (before.get(path) === hash) continue;
        // Besides cache files, only the node's own bookkeeping files directly in the data directory
        // (queues, inbox) may change; their names never come from an RID.
        if (!path.startsWith(`${cacheRel}/`)) {
          expect(path, `unexpected write to ${path}`).to.match(/^data\/[A-Za-z_]+(?:\.[A-Za-z]+)*$/);
          expect(path).to.not.match(/escape|passwd|shadow|identity\.json\.|example/);
          continue;
        }
        expect(path.slice(cacheRel.length + 1)).to.match(/^(?:[A-Za-z0-9_-]+|~[0-9a-f]{64})\.json$/);
      }
      for (const path of before.keys()) expect(after.has(path), `${path} vanished`).to.equal(true);

      for (const rid of HOSTILE) {
        // An edge RID with contents that are no edge profile is refused by the edge handler.
        if (rid.startsWith('orn:koi-net.edge:')) {
          expect(n.node.cache.exists(rid)).to.equal(false);
          continue;
        }
        expect(n.node.cache.exists(rid), rid.slice(0, 40)).to.equal(true);
        expect(after.has(join(cacheRel, cacheFileName(rid)))).to.equal(true);
        const fetched = await postJson(`${n.url}/bundles/fetch`, { rids: [rid] });
        const bundles = (fetched.json as { bundles: { manifest: { rid: string } }[] }).bundles;
        expect(bundles.map((b) => b.manifest.rid)).to.deep.equal([rid]);
      }
      // And FORGET removes exactly those files again.
      await broadcast(n, HOSTILE.map((rid) => Event.fromRid(rid, EventType.FORGET).toJSON()));
      await drain(n);
      for (const rid of HOSTILE) expect(n.node.cache.exists(rid)).to.equal(false);
      const cleaned = await treeHashes(n.root);
      for (const path of before.keys()) expect(cleaned.has(path), `${path} vanished`).to.equal(true);
    });
  });
});

describe('security: bundle contents never reach the logs', function () {
  this.timeout(30_000);
  const SECRET = 'sk-live-7f3a9c1e5b2d48f6a0c4e8b1d9f7a3c5';

  it('a node processing, refusing and serving secret-looking contents logs no trace of them, at any level', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = pino({ level: 'trace' }, sink) as unknown as Logger;
    const n = await startRealNode({ logger, provides: { event: ['orn:secret.doc'], state: ['orn:secret.doc'] } });
    try {
      await introducePeer(n);
      const secretContents = { api_key: SECRET, nested: { token: SECRET, list: [SECRET] } };
      const events = [
        // A plain new bundle, then an update of it.
        Event.fromBundle(Bundle.generate('orn:secret.doc:1', secretContents), EventType.NEW).toJSON(),
        Event.fromBundle(Bundle.generate('orn:secret.doc:1', { ...secretContents, v: 2 }, later(1000)), EventType.UPDATE).toJSON(),
        // An edge whose profile is invalid (the warn path), and forged approvals (the trust paths).
        Event.fromBundle(Bundle.generate(KoiNetEdge.generate(PEER, n.me), { source: PEER, target: n.me, status: SECRET, secret: SECRET }), EventType.NEW).toJSON(),
        Event.fromBundle(edge(n.me, PEER, EdgeStatus.APPROVED, { rid_types: ['orn:secret.doc'] }), EventType.NEW).toJSON(),
        // A proposal this node refuses (unprovided type), whose refusal send then fails.
        Event.fromBundle(edge(n.me, PEER, EdgeStatus.PROPOSED, { rid_types: ['orn:not.provided'] }), EventType.NEW).toJSON(),
        // Our own RID with secret contents.
        Event.fromBundle(Bundle.generate(n.me, secretContents, later(5000)), EventType.UPDATE).toJSON(),
        // A node bundle with a secret in an invalid profile.
        Event.fromBundle(Bundle.generate('orn:koi-net.node:other+1d3f3ab0-1111-4222-8333-444455556666', { node_type: SECRET, base_url: SECRET }), EventType.NEW).toJSON(),
        // A manifest that does not match its contents.
        { ...Event.fromBundle(Bundle.generate('orn:secret.doc:2', { a: 1 }), EventType.NEW).toJSON(), contents: secretContents },
      ];
      expect((await broadcast(n, events)).status).to.equal(200);
      // Refused bodies (422) and oversized ones carrying the secret.
      await rawPost(`${n.url}/events/broadcast`, JSON.stringify({ events: [{ rid: SECRET, event_type: 'NEW', contents: secretContents }] }));
      await rawPost(`${n.url}/events/broadcast`, `{"events":[{"rid":"orn:a:b","event_type":"NEW","contents":${JSON.stringify(secretContents)}`);
      await rawPost(`${n.url}/bundles/fetch`, JSON.stringify({ rids: [SECRET] }), 'text/plain');
      await drain(n);
      // Served back, too.
      const served = await postJson(`${n.url}/bundles/fetch`, { rids: ['orn:secret.doc:1'] });
      expect(served.text).to.include(SECRET);
      await postJson(`${n.url}/manifests/fetch`, { rids: ['orn:secret.doc:1'] });
      await postJson(`${n.url}/rids/fetch`, {});
    } finally {
      await n.close();
    }
    const all = lines.join('');
    expect(lines.length, 'the node logged something at trace level').to.be.greaterThan(10);
    expect(all).to.not.include(SECRET);
    expect(all).to.not.include(SECRET.slice(8, 24));
  });
});
