import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { RID } from '../../../src/rid/index.ts';
import { Bundle } from '../../../src/knowledge/index.ts';
import { Cache } from '../../../src/cache/index.ts';
import { validateSchema } from '../../../src/protocol/index.ts';
import { ResponseHandler } from '../../../src/network/response-handler.ts';

describe('network/response-handler: ResponseHandler on a real Cache', () => {
  const a1 = Bundle.generate('orn:test.a:1', { n: 1 });
  const a2 = Bundle.generate('orn:test.a:2', { n: 2 });
  const b1 = Bundle.generate('orn:test.b:1', { n: 3 });
  const missing = 'orn:test.a:404';

  let dir: string;
  let cache: Cache;
  let handler: ResponseHandler;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-responses-'));
    cache = await Cache.open(dir, { logger: { warn: () => {} } });
    for (const b of [a1, a2, b1]) await cache.write(b);
    handler = new ResponseHandler({ cache });
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const sorted = (xs: string[]): string[] => [...xs].sort();

  describe('fetchRids', () => {
    it('lists every RID when rid_types is empty or absent', async () => {
      const all = sorted([a1, a2, b1].map((b) => String(b.rid)));
      expect(sorted((await handler.fetchRids({ rid_types: [] })).rids)).to.deep.equal(all);
      expect(sorted((await handler.fetchRids({})).rids)).to.deep.equal(all);
    });

    it('filters by type, and answers a valid RidsPayload', async () => {
      const res = await handler.fetchRids({ rid_types: ['orn:test.b'] });
      expect(res).to.deep.equal({ rids: ['orn:test.b:1'] });
      expect(validateSchema('RidsPayload', res)).to.deep.equal([]);
    });

    it('a filter of only unusable types matches nothing (not everything)', async () => {
      expect(await handler.fetchRids({ rid_types: ['orn'] })).to.deep.equal({ rids: [] });
    });
  });

  describe('fetchManifests', () => {
    it('given rids: their manifests, and not_found for the rest', async () => {
      const res = await handler.fetchManifests({ rids: [String(a1.rid), missing, String(b1.rid)] });
      expect(res.manifests).to.deep.equal([a1.manifest.toJSON(), b1.manifest.toJSON()]);
      expect(res.not_found).to.deep.equal([missing]);
      expect(validateSchema('ManifestsPayload', res)).to.deep.equal([]);
    });

    it('given rids, ignores rid_types (as the reference)', async () => {
      const res = await handler.fetchManifests({ rids: [String(b1.rid)], rid_types: ['orn:test.a'] });
      expect(res.manifests).to.deep.equal([b1.manifest.toJSON()]);
    });

    it('without rids: every manifest of the types (all when empty)', async () => {
      const ofA = await handler.fetchManifests({ rid_types: ['orn:test.a'], rids: [] });
      expect(sorted(ofA.manifests.map((m) => m.rid))).to.deep.equal(['orn:test.a:1', 'orn:test.a:2']);
      expect(ofA.not_found).to.deep.equal([]);
      const all = await handler.fetchManifests({});
      expect(all.manifests).to.have.length(3);
    });

    it('reads manifests from the index, not from the bundle files', async () => {
      // Deleting the files behind the cache's back: readManifest still answers from memory.
      await rm(dir, { recursive: true, force: true });
      const res = await handler.fetchManifests({ rids: [String(a1.rid)] });
      expect(res.manifests).to.deep.equal([a1.manifest.toJSON()]);
    });

    it('an unparsable RID is simply not found', async () => {
      const res = await handler.fetchManifests({ rids: ['orn:koi-net.node:no-plus-sign'] });
      expect(res).to.deep.equal({ manifests: [], not_found: ['orn:koi-net.node:no-plus-sign'] });
    });
  });

  describe('fetchBundles', () => {
    it('answers bundles under `bundles` and `manifests`, not_found, and an empty deferred', async () => {
      const res = await handler.fetchBundles({ rids: [String(a2.rid), missing] });
      expect(res.bundles).to.deep.equal([a2.toJSON()]);
      expect(res.manifests).to.deep.equal(res.bundles);
      expect(res.not_found).to.deep.equal([missing]);
      expect(res.deferred).to.deep.equal([]);
      expect(validateSchema('BundlesPayload', JSON.parse(JSON.stringify(res)))).to.deep.equal([]);
    });

    it('the JSON a b6 reader gets has the list under `manifests`', async () => {
      const wire = JSON.parse(JSON.stringify(await handler.fetchBundles({ rids: [String(a1.rid)] }))) as { manifests: unknown[] };
      expect(wire.manifests).to.deep.equal([a1.toJSON()]);
    });

    it('reads only the requested bundles (cost follows the request, not the cache size)', async () => {
      const reads: string[] = [];
      const spy = {
        listRids: cache.listRids.bind(cache),
        readManifest: cache.readManifest.bind(cache),
        read: async (rid: RID | string) => {
          reads.push(String(rid));
          return cache.read(rid);
        },
      };
      const spied = new ResponseHandler({ cache: spy });
      await spied.fetchBundles({ rids: [String(b1.rid)] });
      expect(reads).to.deep.equal([String(b1.rid)]);
    });

    it('an empty request answers empty lists', async () => {
      expect(await handler.fetchBundles({ rids: [] })).to.deep.equal({ bundles: [], manifests: [], not_found: [], deferred: [] });
    });
  });
});
