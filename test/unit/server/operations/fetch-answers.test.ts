import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { RID } from '../../../../src/rid/index.ts';
import { Bundle } from '../../../../src/knowledge/index.ts';
import { Cache, cacheFileName } from '../../../../src/cache/index.ts';
import { validateSchema } from '../../../../src/protocol/index.ts';
import { ResponseHandler } from '../../../../src/server/operations/fetch-answers.ts';

describe('server/operations/fetch-answers: ResponseHandler on a real Cache', () => {
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
    it('answers bundles under `bundles` only, not_found, and an empty deferred', async () => {
      const res = await handler.fetchBundles({ rids: [String(a2.rid), missing] });
      expect(res).to.have.all.keys('bundles', 'not_found', 'deferred');
      expect(res.bundles).to.deep.equal([a2.toJSON()]);
      expect(res.not_found).to.deep.equal([missing]);
      expect(res.deferred).to.deep.equal([]);
      expect(validateSchema('BundlesPayload', JSON.parse(JSON.stringify(res)))).to.deep.equal([]);
    });

    it('with legacyManifestsField, the JSON a b6 reader gets also has the list under `manifests`', async () => {
      const res = await handler.fetchBundles({ rids: [String(a1.rid)] }, { legacyManifestsField: true });
      const wire = JSON.parse(JSON.stringify(res)) as { manifests: unknown[]; bundles: unknown[] };
      expect(wire.manifests).to.deep.equal([a1.toJSON()]);
      expect(wire.bundles).to.deep.equal([a1.toJSON()]);
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
      expect(await handler.fetchBundles({ rids: [] })).to.deep.equal({ bundles: [], not_found: [], deferred: [] });
      expect(await handler.fetchBundles({ rids: [] }, { legacyManifestsField: true })).to.deep.equal({ bundles: [], manifests: [], not_found: [], deferred: [] });
    });
  });

  describe('answers as JSON text (what the full node sends)', () => {
    const parse = (bytes: Buffer): unknown => JSON.parse(bytes.toString('utf8'));

    it('fetchRidsJson and fetchManifestsJson answer what fetchRids and fetchManifests answer', async () => {
      for (const req of [{}, { rid_types: [] }, { rid_types: ['orn:test.a'] }, { rid_types: ['orn:test.b', 'orn:test.a'] }, { rid_types: ['orn'] }]) {
        expect(parse(handler.fetchRidsJson(req)), JSON.stringify(req)).to.deep.equal(await handler.fetchRids(req));
        expect(parse(await handler.fetchManifestsJson(req)), JSON.stringify(req)).to.deep.equal(await handler.fetchManifests(req));
      }
      const byRid = { rids: [String(a1.rid), missing] };
      expect(parse(await handler.fetchManifestsJson(byRid))).to.deep.equal(await handler.fetchManifests(byRid));
    });

    it('a kept listing changes exactly when the cache does: write, delete, drop', async () => {
      const rids = (): string[] => sorted((parse(handler.fetchRidsJson({})) as { rids: string[] }).rids);
      const manifestsOfA = async (): Promise<unknown> => parse(await handler.fetchManifestsJson({ rid_types: ['orn:test.a'] }));
      expect(rids()).to.deep.equal(['orn:test.a:1', 'orn:test.a:2', 'orn:test.b:1']);
      const before = handler.fetchRidsJson({});
      // Unchanged cache: the same kept bytes, not new ones.
      expect(handler.fetchRidsJson({})).to.equal(before);

      const a3 = Bundle.generate('orn:test.a:3', { n: 4 });
      void cache.write(a3);
      expect(rids()).to.include('orn:test.a:3');
      expect(((await manifestsOfA()) as { manifests: unknown[] }).manifests).to.deep.include(a3.manifest.toJSON());

      // An update of a cached RID: same RID list, a new manifest.
      const a1v2 = Bundle.generate('orn:test.a:1', { n: 5 }, new Date(Date.now() + 60_000));
      void cache.write(a1v2);
      const manifests = ((await manifestsOfA()) as { manifests: unknown[] }).manifests;
      expect(manifests).to.deep.include(a1v2.manifest.toJSON());
      expect(manifests).to.not.deep.include(a1.manifest.toJSON());

      await cache.delete(a2.rid);
      expect(rids()).to.not.include('orn:test.a:2');
      expect(((await manifestsOfA()) as { manifests: { rid: string }[] }).manifests.map((m) => m.rid)).to.not.include('orn:test.a:2');

      await cache.sync();
      await cache.drop();
      expect(rids()).to.deep.equal([]);
      expect(await manifestsOfA()).to.deep.equal({ manifests: [], not_found: [] });
    });

    it('fetchBundlesJson passes the files on: the same bundles as fetchBundles, one list unless asked for two', async () => {
      await cache.sync();
      const req = { rids: [String(a2.rid), missing, String(b1.rid), 'not an rid'] };
      const one = parse(await handler.fetchBundlesJson(req));
      expect(one).to.deep.equal(await handler.fetchBundles(req));
      expect(one).to.have.all.keys('bundles', 'not_found', 'deferred');
      const valid = parse(await handler.fetchBundlesJson({ rids: [String(a2.rid), missing] }));
      expect(validateSchema('BundlesPayload', valid)).to.deep.equal([]);
      const two = parse(await handler.fetchBundlesJson(req, { legacyManifestsField: true })) as { bundles: unknown; manifests: unknown };
      expect(two).to.deep.equal(await handler.fetchBundles(req, { legacyManifestsField: true }));
      expect(two.manifests).to.deep.equal(two.bundles);
    });

    it('fetchBundlesJson serves a write not yet on disk, and never a corrupt or foreign file', async () => {
      await cache.sync();
      // Corrupt: not JSON. Foreign: a valid bundle of another RID under a1's name.
      writeFileSync(join(dir, cacheFileName(a1.rid)), '{"manifest": {');
      writeFileSync(join(dir, cacheFileName(a2.rid)), JSON.stringify(b1.toJSON(), null, 2));
      const fresh = Bundle.generate('orn:test.b:2', { n: 6 });
      const writing = cache.write(fresh);
      const res = parse(await handler.fetchBundlesJson({ rids: [String(a1.rid), String(a2.rid), String(fresh.rid)] }));
      expect(res).to.deep.equal({ bundles: [fresh.toJSON()], not_found: [String(a1.rid), String(a2.rid)], deferred: [] });
      // Dropped from the index as read() drops them.
      expect(cache.exists(a1.rid)).to.equal(false);
      expect(cache.exists(a2.rid)).to.equal(false);
      // The file lands before the directory is removed (afterEach), or rm races the writer.
      await writing;
    });

    it('served texts are kept in memory until their entry is replaced or deleted; servedTextBytes: 0 keeps none', async () => {
      await cache.sync();
      const first = cache.readBundleText(a1.rid)!;
      expect(JSON.parse(first)).to.deep.equal(a1.toJSON());
      // Behind the cache's back: the kept, checked text is what is served.
      writeFileSync(join(dir, cacheFileName(a1.rid)), 'not json');
      expect(cache.readBundleText(a1.rid)).to.equal(first);
      // A write replaces the entry: its text, never the kept one.
      const a1v2 = Bundle.generate(a1.rid, { n: 8 }, new Date(Date.now() + 60_000));
      await cache.write(a1v2);
      expect(JSON.parse(cache.readBundleText(a1.rid)!)).to.deep.equal(a1v2.toJSON());
      await cache.delete(a1.rid);
      expect(cache.readBundleText(a1.rid)).to.equal(undefined);

      const uncached = await Cache.open(dir, { logger: { warn: () => {} }, snapshot: false, servedTextBytes: 0 });
      try {
        expect(JSON.parse(uncached.readBundleText(b1.rid)!)).to.deep.equal(b1.toJSON());
        writeFileSync(join(dir, cacheFileName(b1.rid)), 'not json');
        expect(uncached.readBundleText(b1.rid)).to.equal(undefined);
        expect(uncached.exists(b1.rid)).to.equal(false);
      } finally {
        await uncached.close();
      }
    });

    it('readBundleBytes is readBundleText as UTF-8 (file, kept and pending), and the bytes answer is byte-identical to the text one', async () => {
      await cache.sync();
      const unicode = Bundle.generate('orn:test.b:\u00e9', { s: 'caf\u00e9 \u2603 \ud83d\ude00' });
      await cache.write(unicode);
      const pending = Bundle.generate('orn:test.b:pending', { n: 9 });
      const writing = cache.write(pending);
      for (const rid of [a1.rid, unicode.rid, pending.rid]) {
        const bytes = cache.readBundleBytes(rid)!;
        expect(bytes.equals(Buffer.from(cache.readBundleText(rid)!, 'utf8'))).to.equal(true);
        // Served again from memory: the same bytes.
        expect(cache.readBundleBytes(rid)!.equals(bytes)).to.equal(true);
      }
      expect(cache.readBundleBytes('orn:test.b:missing')).to.equal(undefined);
      const rids = [String(a1.rid), String(unicode.rid), 'not a rid', String(pending.rid), String(a1.rid)];
      const viaBytes = await handler.fetchBundlesJson({ rids }, { legacyManifestsField: true });
      const textOnly = new ResponseHandler({
        cache: { listRids: (t) => cache.listRids(t), read: (r) => cache.read(r), readManifest: (r) => cache.readManifest(r), readBundleText: (r) => cache.readBundleText(r) },
      });
      const viaText = await textOnly.fetchBundlesJson({ rids }, { legacyManifestsField: true });
      expect(viaBytes.equals(viaText)).to.equal(true);
      const res = parse(viaBytes) as { bundles: unknown[]; manifests: unknown[]; not_found: string[] };
      expect(res.bundles).to.deep.equal([a1.toJSON(), unicode.toJSON(), pending.toJSON(), a1.toJSON()]);
      expect(res.manifests).to.deep.equal(res.bundles);
      expect(res.not_found).to.deep.equal(['not a rid']);
      await writing;
    });

    it('a file rewritten with another valid manifest of the same RID is served as read() serves it', async () => {
      await cache.sync();
      const other = Bundle.generate(a1.rid, { n: 7 }, new Date(Date.now() + 60_000));
      writeFileSync(join(dir, cacheFileName(a1.rid)), JSON.stringify({ contents: other.contents, manifest: other.manifest.toJSON(), extra: 1 }));
      const res = parse(await handler.fetchBundlesJson({ rids: [String(a1.rid)] }));
      expect(res).to.deep.equal({ bundles: [(await cache.read(a1.rid))!.toJSON()], not_found: [], deferred: [] });
      expect(res).to.deep.equal({ bundles: [other.toJSON()], not_found: [], deferred: [] });
    });
  });
});
