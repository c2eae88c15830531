import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { expect } from 'chai';
import { FakePeer, type FakeAnswer as Answer } from '../../helpers/fake-peer.ts';
import { holdRefusingPort } from '../../helpers/ports.ts';
import { RID, type KoiNetNode } from '../../../src/rid/index.ts';
import { Bundle, Event, EventType, Manifest, type JsonObject } from '../../../src/knowledge/index.ts';
import { Cache } from '../../../src/cache/index.ts';
import { NetworkGraph } from '../../../src/graph/index.ts';
import { RequestHandler } from '../../../src/peer/index.ts';
import {
  RemoteConnectionError,
  RemoteHTTPError,
  RemoteResponseInvalidError,
  UnreachableNodeError,
} from '../../../src/errors.ts';


function nodeRid(name: string, n: number): KoiNetNode {
  return RID.fromString(`orn:koi-net.node:${name}+00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`) as KoiNetNode;
}

function profile(nodeType: 'FULL' | 'PARTIAL', baseUrl: string | null): JsonObject {
  return { base_url: baseUrl, node_type: nodeType, provides: { event: [], state: [] } };
}

describe('peer/request-handler: RequestHandler against a real HTTP peer', () => {
  const me = nodeRid('me', 1);
  const full = nodeRid('peer', 2);
  const partial = nodeRid('partial', 3);
  const noUrl = nodeRid('nourl', 4);
  const stranger = nodeRid('stranger', 5);
  const thing = RID.fromString('orn:test.thing:one');
  const other = RID.fromString('orn:test.thing:two');
  const thingBundle = Bundle.generate(thing, { value: 1 });

  let dir: string;
  let cache: Cache;
  let graph: NetworkGraph;
  let peer: FakePeer;
  let handler: RequestHandler;

  beforeEach(async () => {
    peer = new FakePeer();
    await peer.start();
    dir = await mkdtemp(join(tmpdir(), 'koi-requests-'));
    cache = await Cache.open(dir, { logger: { warn: () => {} } });
    for (const [rid, contents] of [
      [me, profile('FULL', 'http://127.0.0.1:9/koi-net')],
      [full, profile('FULL', peer.baseUrl)],
      [partial, profile('PARTIAL', null)],
      [noUrl, profile('FULL', null)],
    ] as const) {
      await cache.write(Bundle.generate(rid, contents));
    }
    graph = new NetworkGraph(cache, me);
    await graph.generate();
    handler = new RequestHandler({ graph, timeoutMs: 2_000 });
  });

  afterEach(async () => {
    await peer.stop();
    await rm(dir, { recursive: true, force: true });
  });

  describe('the five requests', () => {
    it('broadcastEvents posts the events as JSON (classes or wire JSON) to a node found by RID', async () => {
      peer.responders.set('/events/broadcast', () => ({ json: null }));
      const wire = Event.fromRid(other, EventType.FORGET).toJSON();
      await handler.broadcastEvents({ node: full }, { events: [Event.fromBundle(thingBundle, EventType.NEW), wire] });
      expect(peer.seen).to.have.length(1);
      const [req] = peer.seen;
      expect(req!.path).to.equal('/events/broadcast');
      expect(req!.contentType).to.match(/^application\/json/);
      expect(req!.body).to.deep.equal({ events: [Event.fromBundle(thingBundle, EventType.NEW).toJSON(), wire] });
    });

    it('broadcastEvents accepts any 2xx body (null, {} or empty)', async () => {
      peer.responders.set('/events/broadcast', () => ({ json: {} }));
      await handler.broadcastEvents({ url: peer.baseUrl }, { events: [] });
      peer.responders.set('/events/broadcast', () => ({ text: '' }));
      await handler.broadcastEvents({ url: peer.baseUrl }, { events: [] });
    });

    it('pollEvents sends rid and limit, parses the events into Event instances', async () => {
      const sent = [Event.fromBundle(thingBundle, EventType.NEW).toJSON(), { rid: String(other), event_type: 'FORGET', manifest: null, contents: null }];
      peer.responders.set('/events/poll', () => ({ json: { events: sent } }));
      const { events } = await handler.pollEvents({ url: peer.baseUrl }, { rid: me, limit: 5 });
      expect(peer.seen[0]!.body).to.deep.equal({ rid: String(me), limit: 5 });
      expect(events).to.have.length(2);
      expect(events[0]).to.be.instanceOf(Event);
      expect(events[0]!.bundle?.manifest.sha256Hash).to.equal(thingBundle.manifest.sha256Hash);
      expect(events[1]!.eventType).to.equal('FORGET');
      expect(events[1]!.manifest).to.equal(undefined);
    });

    it('pollEvents defaults limit to 0 (no limit), as the reference sends', async () => {
      peer.responders.set('/events/poll', () => ({ json: { events: [] } }));
      await handler.pollEvents({ node: String(full) }, { rid: String(me) });
      expect(peer.seen[0]!.body).to.deep.equal({ rid: String(me), limit: 0 });
    });

    it('fetchRids sends rid_types ([] = all) and returns RID instances', async () => {
      peer.responders.set('/rids/fetch', () => ({ json: { rids: [String(thing), String(full)] } }));
      const { rids } = await handler.fetchRids({ node: full }, { rid_types: ['orn:test.thing'] });
      expect(peer.seen[0]!.body).to.deep.equal({ rid_types: ['orn:test.thing'] });
      expect(rids.map(String)).to.deep.equal([String(thing), String(full)]);
      expect(rids[0]).to.be.instanceOf(RID);
      await handler.fetchRids({ node: full });
      expect(peer.seen[1]!.body).to.deep.equal({ rid_types: [] });
    });

    it('fetchManifests returns Manifest instances and not_found', async () => {
      peer.responders.set('/manifests/fetch', () => ({
        json: { manifests: [thingBundle.manifest.toJSON()], not_found: [String(other)] },
      }));
      const result = await handler.fetchManifests({ node: full }, { rids: [thing, String(other)] });
      expect(peer.seen[0]!.body).to.deep.equal({ rid_types: [], rids: [String(thing), String(other)] });
      expect(result.manifests[0]).to.be.instanceOf(Manifest);
      expect(result.manifests[0]!.toJSON()).to.deep.equal(thingBundle.manifest.toJSON());
      expect(result.notFound.map(String)).to.deep.equal([String(other)]);
    });

    it('fetchManifests treats a missing not_found as empty', async () => {
      peer.responders.set('/manifests/fetch', () => ({ json: { manifests: [] } }));
      const result = await handler.fetchManifests({ node: full }, { rid_types: ['orn:test.thing'] });
      expect(result).to.deep.equal({ manifests: [], notFound: [] });
    });

    it('fetchBundles reads `bundles`, not_found and deferred', async () => {
      peer.responders.set('/bundles/fetch', () => ({
        json: { bundles: [thingBundle.toJSON()], manifests: [thingBundle.toJSON()], not_found: [String(other)], deferred: [] },
      }));
      const result = await handler.fetchBundles({ node: full }, { rids: [thing, other] });
      expect(peer.seen[0]!.body).to.deep.equal({ rids: [String(thing), String(other)] });
      expect(result.bundles).to.have.length(1);
      expect(result.bundles[0]).to.be.instanceOf(Bundle);
      expect(result.bundles[0]!.toJSON()).to.deep.equal(thingBundle.toJSON());
      expect(result.notFound.map(String)).to.deep.equal([String(other)]);
      expect(result.deferred).to.deep.equal([]);
    });

    it('fetchBundles reads a 1.0.0b6 peer, which lists the bundles under `manifests`', async () => {
      peer.responders.set('/bundles/fetch', () => ({ json: { manifests: [thingBundle.toJSON()], not_found: [], deferred: [] } }));
      const result = await handler.fetchBundles({ url: peer.baseUrl }, { rids: [thing] });
      expect(result.bundles.map((b) => String(b.rid))).to.deep.equal([String(thing)]);
    });

    it('reuses the connection across requests (keep-alive)', async () => {
      const ports = new Set<number>();
      peer.responders.set('/rids/fetch', () => ({ json: { rids: [] } }));
      const app = express();
      // A second listener that records the client's source port of each request.
      app.use(express.json());
      app.use((req, res) => {
        ports.add(req.socket.remotePort ?? -1);
        res.json({ rids: [] });
      });
      const server = await new Promise<Server>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/koi-net`;
        for (let i = 0; i < 10; i++) await handler.fetchRids({ url });
        // undici's pool may alternate between two sockets, but never opens one per request.
        expect(ports.size).to.be.at.most(2);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });

  describe('targets that cannot be called', () => {
    it('refuses a PARTIAL node without sending anything', async () => {
      const err = await handler.fetchRids({ node: partial }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(UnreachableNodeError);
      expect((err as Error).message).to.match(/PARTIAL/);
      expect(peer.seen).to.have.length(0);
    });

    it('refuses an unknown node, a node without base_url, and a non-node RID', async () => {
      for (const node of [stranger, noUrl, 'orn:test.thing:one', 'not a rid']) {
        const err = await handler.fetchRids({ node }).catch((e: unknown) => e);
        expect(err, String(node)).to.be.instanceOf(UnreachableNodeError);
      }
      const reasons = await Promise.all(
        [stranger, noUrl].map((node) => handler.fetchRids({ node }).catch((e: unknown) => (e as Error).message)),
      );
      expect(reasons[0]).to.match(/unknown node/);
      expect(reasons[1]).to.match(/no base_url/);
    });
  });

  describe('failures', () => {
    it('connection refused -> RemoteConnectionError naming the URL and cause', async () => {
      // Held by this test, so no other process can start listening on it meanwhile.
      const refusing = await holdRefusingPort();
      const url = refusing.url;
      const err = await handler.fetchRids({ url }).catch((e: unknown) => e);
      await refusing.close();
      expect(err).to.be.instanceOf(RemoteConnectionError);
      expect((err as RemoteConnectionError).url).to.equal(`${url}/rids/fetch`);
      expect((err as Error).message).to.match(/ECONNREFUSED/);
    });

    it('a peer slower than timeoutMs -> RemoteConnectionError (timeout)', async () => {
      const fast = new RequestHandler({ graph, timeoutMs: 150 });
      peer.responders.set('/rids/fetch', () => ({ json: { rids: [] }, delayMs: 1_000 }));
      const started = Date.now();
      const err = await fast.fetchRids({ url: peer.baseUrl }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(RemoteConnectionError);
      expect((err as Error).message).to.match(/150 ms/);
      expect(Date.now() - started).to.be.lessThan(900);
    });

    it('500 -> RemoteHTTPError with status and body', async () => {
      peer.responders.set('/bundles/fetch', () => ({ status: 500, json: { detail: 'Internal Server Error' } }));
      const err = await handler.fetchBundles({ node: full }, { rids: [thing] }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(RemoteHTTPError);
      expect((err as RemoteHTTPError).status).to.equal(500);
      expect((err as RemoteHTTPError).body).to.deep.equal({ detail: 'Internal Server Error' });
    });

    it('422 with a non-JSON body -> RemoteHTTPError keeping the text', async () => {
      peer.responders.set('/events/broadcast', () => ({ status: 422, text: 'nope' }));
      const err = await handler.broadcastEvents({ node: full }, { events: [] }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(RemoteHTTPError);
      expect((err as RemoteHTTPError).body).to.equal('nope');
    });

    it('unknown path (404) -> RemoteHTTPError', async () => {
      const err = await handler.fetchRids({ url: peer.baseUrl }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(RemoteHTTPError);
      expect((err as RemoteHTTPError).status).to.equal(404);
    });

    const garbage: [string, string, Answer][] = [
      ['not JSON', '/rids/fetch', { text: '{"rids": [' }],
      ['a missing field', '/rids/fetch', { json: { rid: [] } }],
      ['an invalid RID', '/rids/fetch', { json: { rids: ['no-colon'] } }],
      ['an empty body', '/events/poll', { text: '' }],
      ['a bad event type', '/events/poll', { json: { events: [{ rid: 'orn:test.thing:one', event_type: 'DELETE' }] } }],
      ['a bad manifest hash', '/manifests/fetch', { json: { manifests: [{ rid: 'orn:test.thing:one', timestamp: 'x', sha256_hash: 'y' }] } }],
      ['neither bundles nor manifests', '/bundles/fetch', { json: { not_found: [] } }],
      ['bundle contents not an object', '/bundles/fetch', { json: { bundles: [{ manifest: thingBundle.manifest.toJSON(), contents: [1] }] } }],
    ];
    for (const [what, path, answer] of garbage) {
      it(`2xx with ${what} -> RemoteResponseInvalidError`, async () => {
        peer.responders.set(path, () => answer);
        const call: Record<string, () => Promise<unknown>> = {
          '/rids/fetch': () => handler.fetchRids({ url: peer.baseUrl }),
          '/events/poll': () => handler.pollEvents({ url: peer.baseUrl }, { rid: me }),
          '/manifests/fetch': () => handler.fetchManifests({ url: peer.baseUrl }, { rids: [thing] }),
          '/bundles/fetch': () => handler.fetchBundles({ url: peer.baseUrl }, { rids: [thing] }),
        };
        const err = await call[path]!().catch((e: unknown) => e);
        expect(err).to.be.instanceOf(RemoteResponseInvalidError);
        expect((err as RemoteResponseInvalidError).issues).to.not.be.empty;
      });
    }
  });
});
