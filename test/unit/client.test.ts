/**
 * `koi-net/client` (hey-api's generated SDK behind the README's functions) against a real full
 * node on 127.0.0.1: answers typed and parsed, HTTP refusals as `{ error, response }`, and a
 * refused connection as a rejection (as the openapi-fetch based client behaved).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Bundle, Event, EventType, NodeInterface, NodeType, RID, silentLogger, startFullNode, type RunningFullNode } from '../../src/index.ts';
import { broadcastEvents, createKoiNetClient, fetchBundles, fetchManifests, fetchRids, pollEvents } from '../../src/client.ts';
import { holdRefusingPort } from '../helpers/ports.ts';

describe('koi-net/client against a real full node', function () {
  this.timeout(60_000);
  let dir: string;
  let node: NodeInterface;
  let server: RunningFullNode;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-client-'));
    node = new NodeInterface({
      name: 'served',
      profile: { base_url: null, node_type: NodeType.FULL, provides: { event: [], state: [] } },
      dataDir: join(dir, 'node'),
      logger: silentLogger,
    });
    server = await startFullNode(node, { host: '127.0.0.1', port: 0, logger: silentLogger });
  });

  after(async () => {
    await server?.close();
    await node?.finalize();
    await rm(dir, { recursive: true, force: true });
  });

  it('fetches rids, manifests and bundles as typed, parsed answers', async () => {
    const client = createKoiNetClient(server.url);
    const self = String(node.identity.rid);
    const rids = await fetchRids(client, { rid_types: ['orn:koi-net.node'] });
    expect(rids.response.status).to.equal(200);
    expect(rids.error).to.equal(undefined);
    expect(rids.data?.rids).to.include(self);

    const manifests = await fetchManifests(client, { rids: [self, 'orn:nothing:here'] });
    expect(manifests.data?.manifests.map((m) => m.rid)).to.deep.equal([self]);
    expect(manifests.data?.not_found).to.deep.equal(['orn:nothing:here']);

    const bundles = await fetchBundles(client, { rids: [self] });
    expect(bundles.data?.bundles?.[0]?.manifest.rid).to.equal(self);
    expect(bundles.data?.deferred).to.deep.equal([]);
  });

  it('broadcasts (200 null) and polls through the same client', async () => {
    const client = createKoiNetClient(server.url);
    const bundle = Bundle.generate(RID.of('orn:client.test:one'), { n: 1 });
    const sent = await broadcastEvents(client, { events: [Event.fromBundle(bundle, EventType.NEW).toJSON()] });
    expect(sent.response.status).to.equal(200);
    expect(sent.data).to.equal(null);
    const polled = await pollEvents(client, { rid: 'orn:koi-net.node:someone+00000000-0000-4000-8000-000000000000', limit: 5 });
    expect(polled.response.status).to.equal(200);
    expect(polled.data?.events).to.deep.equal([]);
  });

  it('answers a request that breaks the contract with the parsed 422 body as `error`', async () => {
    const client = createKoiNetClient(server.url);
    const bad = await fetchBundles(client, { rids: ['not an rid'] });
    expect(bad.response.status).to.equal(422);
    expect(bad.data).to.equal(undefined);
    expect(bad.error).to.have.property('detail').that.is.an('array').that.is.not.empty;
  });

  it('rejects when the node cannot be reached', async () => {
    const refusing = await holdRefusingPort();
    try {
      const client = createKoiNetClient(`http://127.0.0.1:${refusing.port}/koi-net`);
      const outcome = await fetchRids(client, { rid_types: [] }).then(
        () => 'resolved',
        (err: unknown) => err,
      );
      expect(outcome).to.be.instanceOf(TypeError);
    } finally {
      await refusing.close();
    }
  });
});
