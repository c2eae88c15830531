/**
 * The read paths of a real full node over real HTTP on 127.0.0.1 (issue 12):
 *  - fetch_bundles lists the bundles under `manifests` too only for requests without a
 *    Content-Type (how koi-net 1.0.0b6 and 1.0.x clients post; b6 reads the bundles from
 *    `manifests`); every other client gets one list. Checked by replaying the 1.0.0b6 and 1.0.0
 *    probes of test/fixtures/http_status.json against the node.
 *  - listings the node keeps serialized change as soon as the cache does.
 *  - the answers are the same JSON the object API gives.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { NodeInterface } from '../../src/node.ts';
import { startFullNode, type RunningFullNode } from '../../src/full-node.ts';
import { Bundle } from '../../src/knowledge/index.ts';
import { NodeType } from '../../src/protocol/index.ts';
import { silentLogger } from '../../src/logger.ts';
import { send } from '../unit/server/helpers.ts';

interface ReferenceCase {
  endpoint: string;
  case: string;
  content_type: string | null;
  request_body: string;
  status: number;
  response?: unknown;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/http_status.json', import.meta.url), 'utf8')) as Record<string, ReferenceCase[] | string>;

describe('integration: read paths of a full node (fetch answers, b6 `manifests` rule, kept listings)', function () {
  this.timeout(60_000);
  let dir: string;
  let node: NodeInterface;
  let server: RunningFullNode;
  const doc = Bundle.generate('orn:test.doc:one', { title: 'one', n: 1 });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-read-paths-'));
    node = new NodeInterface({
      name: 'reader',
      dataDir: dir,
      logger: silentLogger,
      profile: { node_type: NodeType.FULL, base_url: 'http://127.0.0.1:1/koi-net', provides: { event: [], state: ['orn:test.doc'] } },
    });
    server = await startFullNode(node, { host: '127.0.0.1', port: 0 });
    await node.cache.write(doc);
  });
  after(async () => {
    await server.close();
    await node.finalize();
    await rm(dir, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown, contentType: string | null = 'application/json') =>
    send(`${server.url}${path}`, { body: JSON.stringify(body), contentType });

  describe('fetch_bundles: the b6 `manifests` copy only for requests without a Content-Type', () => {
    it('no Content-Type (a 1.0.0b6 client): the bundles under `manifests` as b6 reads them, and under `bundles`', async () => {
      const res = await post('/bundles/fetch', { rids: [String(doc.rid), 'orn:test.doc:none'] }, null);
      expect(res.status).to.equal(200);
      expect(res.json).to.deep.equal({
        bundles: [doc.toJSON()],
        manifests: [doc.toJSON()],
        not_found: ['orn:test.doc:none'],
        deferred: [],
      });
    });

    it('a JSON Content-Type (this library, 2.x, curl): one list, under `bundles`', async () => {
      for (const contentType of ['application/json', 'application/json; charset=utf-8', 'application/vnd.koi+json']) {
        const res = await post('/bundles/fetch', { rids: [String(doc.rid)] }, contentType);
        expect(res.status, contentType).to.equal(200);
        expect(res.json, contentType).to.deep.equal({ bundles: [doc.toJSON()], not_found: [], deferred: [] });
      }
    });

    it('this library reads both answers', async () => {
      const fetched = await node.network.requestHandler.fetchBundles({ url: server.url }, { rids: [String(doc.rid)] });
      expect(fetched.bundles.map((b) => b.toJSON())).to.deep.equal([doc.toJSON()]);
    });

    for (const version of ['b6', 'v1.0.0'] as const) {
      const cases = (fixture[version] as ReferenceCase[]).filter((c) => c.endpoint === '/koi-net/bundles/fetch' && c.status === 200);
      it(`replays the ${version} fetch_bundles probes answered 200 (${cases.length}): the reference's keys where its clients look`, async () => {
        expect(cases.length).to.be.greaterThan(0);
        for (const c of cases) {
          const res = await send(`${server.url}/bundles/fetch`, { body: c.request_body, contentType: c.content_type });
          expect(res.status, c.case).to.equal(200);
          const keys = Object.keys(c.response as object);
          const ours = res.json as Record<string, unknown>;
          if (c.content_type === null) {
            // What a real client of that version sends: every key the reference answered.
            expect(ours, c.case).to.include.all.keys(keys);
          } else {
            // A probe with a Content-Type no 1.0.x client sends: one list, under `bundles`.
            expect(ours, c.case).to.have.all.keys('bundles', 'not_found', 'deferred');
          }
          for (const key of ['bundles', 'manifests', 'not_found', 'deferred']) {
            if (key in ours) expect(ours[key], `${c.case} ${key}`).to.be.an('array');
          }
        }
      });
    }
  });

  describe('listings', () => {
    it('fetch_rids and fetch_manifests follow every cache change at once', async () => {
      const rids = async (): Promise<string[]> => ((await post('/rids/fetch', { rid_types: ['orn:test.doc'] })).json as { rids: string[] }).rids;
      const manifests = async (): Promise<unknown[]> =>
        ((await post('/manifests/fetch', { rid_types: ['orn:test.doc'] })).json as { manifests: unknown[] }).manifests;
      expect(await rids()).to.deep.equal([String(doc.rid)]);
      expect(await manifests()).to.deep.equal([doc.manifest.toJSON()]);

      const two = Bundle.generate('orn:test.doc:two', { title: 'two' });
      void node.cache.write(two);
      expect((await rids()).sort()).to.deep.equal([String(doc.rid), String(two.rid)].sort());
      expect(await manifests()).to.deep.include(two.manifest.toJSON());

      await node.cache.delete(two.rid);
      expect(await rids()).to.deep.equal([String(doc.rid)]);
      expect(await manifests()).to.deep.equal([doc.manifest.toJSON()]);
    });

    it('answers what the response handler object API answers', async () => {
      const handler = node.network.responseHandler;
      for (const body of [{}, { rid_types: ['orn:test.doc', 'orn:koi-net.node'] }, { rid_types: ['orn:none'] }]) {
        expect((await post('/rids/fetch', body)).json, JSON.stringify(body)).to.deep.equal(await handler.fetchRids(body));
        expect((await post('/manifests/fetch', body)).json, JSON.stringify(body)).to.deep.equal(await handler.fetchManifests(body));
      }
      const byRid = { rids: [String(doc.rid), 'orn:test.doc:none'] };
      expect((await post('/manifests/fetch', byRid)).json).to.deep.equal(await handler.fetchManifests(byRid));
    });
  });
});
