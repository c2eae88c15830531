import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Bundle, type JsonObject } from '../../../src/knowledge/index.ts';
import { Cache, cacheFileName, type CacheLogger, type CacheOptions } from '../../../src/cache/index.ts';
import { snapshotPathFor } from '../../../src/cache/cache.ts';

const NODE = 'orn:koi-net.node:coordinator+0edc41e9-ca87-4ed7-a386-205e9281472d';
const EDGE = 'orn:koi-net.edge:fe40e760b8a6318f130082c3718bbe2f71ed0b41d052d78330a2226a7a9a708f';
const SLACK = 'orn:slack.message:TA2E6KPK3/C07BKQX0EVC/1721669683.087619';
const LONG = `orn:long.thing:${'é'.repeat(400)}`;

interface FileNameDetail {
  rid_str: string;
  filename: string;
  exceeds_NAME_MAX_255: boolean;
}
const fileNames = (
  JSON.parse(readFileSync(new URL('../../fixtures/cache_filenames.json', import.meta.url), 'utf8')) as { details: FileNameDetail[] }
).details;

class RecordingLogger implements CacheLogger {
  readonly warnings: { obj: object; msg: string | undefined }[] = [];
  warn(obj: object, msg?: string): void {
    this.warnings.push({ obj, msg });
  }
}

/** Everything a caller can observe of the index, in a comparable form. */
async function observe(cache: Cache): Promise<string[]> {
  const out: string[] = [];
  for (const rid of cache.listRids()) {
    const m = cache.readManifest(rid);
    const b = await cache.read(rid);
    out.push(JSON.stringify([rid.toString(), m?.toJSON(), b?.contents]));
  }
  return out.sort();
}

const bundleText = (b: Bundle): string => JSON.stringify(b.toJSON(), null, 2);

for (const verifier of ['worker', 'main'] as const) {
  describe(`cache/Cache deferred verification (no snapshot, verifier ${verifier})`, () => {
    let root: string;
    let dir: string;
    let logger: RecordingLogger;
    const deferred = (extra: CacheOptions = {}): CacheOptions => ({ logger, verifier, deferVerificationAbove: 0, ...extra });

    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), 'koi-cache-deferred-'));
      dir = join(root, 'cache');
      await mkdir(dir, { recursive: true });
      logger = new RecordingLogger();
    });
    afterEach(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('lists a corrupt file until it is verified, then drops it with the full scan warning', async () => {
      const good = Bundle.generate(NODE, { ok: true });
      await writeFile(join(dir, cacheFileName(NODE)), bundleText(good), 'utf8');
      await writeFile(join(dir, cacheFileName(EDGE)), '{"manifest": {"rid": "orn:koi-net.edge:x", ', 'utf8');
      await writeFile(join(dir, cacheFileName(SLACK)), JSON.stringify({ manifest: { rid: SLACK, timestamp: 'now', sha256_hash: 'x' }, contents: {} }), 'utf8');
      const cache = await Cache.open(dir, deferred());
      expect(cache.unverifiedCount).to.equal(3);
      expect(cache.listRids().map(String).sort()).to.deep.equal([EDGE, NODE, SLACK].sort());
      expect(logger.warnings).to.deep.equal([]);
      await cache.verified();
      expect(cache.unverifiedCount).to.equal(0);
      expect(cache.listRids().map(String)).to.deep.equal([NODE]);
      expect(cache.size).to.equal(1);
      expect(logger.warnings.map((w) => w.msg)).to.deep.equal([
        'skipping a cache file that is not a valid bundle',
        'skipping a cache file that is not a valid bundle',
      ]);
      expect(cache.readManifest(NODE)?.equals(good.manifest)).to.equal(true);
      await cache.close();
    });

    it('readManifest, exists, read and delete of an unverified entry check the file first', async () => {
      const node = Bundle.generate(NODE, { v: 1 });
      const slack = Bundle.generate(SLACK, { v: 1 });
      await writeFile(join(dir, cacheFileName(NODE)), bundleText(node), 'utf8');
      await writeFile(join(dir, cacheFileName(SLACK)), bundleText(slack), 'utf8');
      await writeFile(join(dir, cacheFileName(EDGE)), '{"manifest":', 'utf8');
      const cache = await Cache.open(dir, deferred());
      // Nothing has run in the background yet: these are on-demand checks.
      expect(cache.unverifiedCount).to.equal(3);
      expect(cache.readManifest(NODE)?.toJSON()).to.deep.equal(node.manifest.toJSON());
      expect(cache.exists(EDGE)).to.equal(false);
      expect(cache.readManifest(EDGE)).to.equal(undefined);
      expect(await cache.delete(EDGE)).to.equal(false);
      expect((await cache.read(SLACK))?.toJSON()).to.deep.equal(slack.toJSON());
      expect(cache.unverifiedCount).to.equal(0);
      expect(cache.listRids().map(String).sort()).to.deep.equal([NODE, SLACK].sort());
      // The corrupt file is left alone, as the full scan leaves it.
      expect((await readdir(dir)).sort()).to.deep.equal([NODE, SLACK, EDGE].map((r) => cacheFileName(r)).sort());
      await cache.verified();
      await cache.close();
    });

    it('a write or delete during verification is never overwritten by the check of the old file', async () => {
      const n = 3000;
      const rid = (i: number): string => `orn:test.thing:${i}`;
      for (let i = 0; i < n; i++) await writeFile(join(dir, cacheFileName(rid(i))), bundleText(Bundle.generate(rid(i), { v: 1 })), 'utf8');
      // Some old files are corrupt: a stale "invalid" verdict must not drop the new write either.
      for (let i = 0; i < n; i += 7) await writeFile(join(dir, cacheFileName(rid(i))), '{"broken', 'utf8');
      const cache = await Cache.open(dir, deferred());
      const expected = new Map<string, Bundle | undefined>();
      const mutate = (from: number): void => {
        for (let i = from; i < n; i += 5) {
          if (i % 2 === 0) {
            const b = Bundle.generate(rid(i), { v: 2, i });
            void cache.write(b);
            expected.set(rid(i), b);
          } else {
            void cache.delete(rid(i)).catch(() => undefined);
            expected.set(rid(i), undefined);
          }
        }
      };
      // Before the verifier starts, then while its batches (of the old files) are out.
      mutate(0);
      await new Promise<void>((r) => setImmediate(r));
      mutate(1);
      await new Promise<void>((r) => setImmediate(r));
      mutate(2);
      await cache.verified();
      await cache.sync();
      for (let i = 0; i < n; i++) {
        const key = rid(i);
        if (expected.has(key)) {
          const b = expected.get(key);
          if (b === undefined) {
            expect(cache.exists(key), key).to.equal(false);
          } else {
            expect(cache.readManifest(key)?.equals(b.manifest), key).to.equal(true);
            expect((await cache.read(key))?.contents, key).to.deep.equal(b.contents);
          }
        } else if (i % 7 === 0) {
          expect(cache.exists(key), key).to.equal(false);
        } else {
          expect((await cache.read(key))?.contents, key).to.deep.equal({ v: 1 });
        }
      }
      // The disk agrees: a full scan sees the same index.
      const scanned = await Cache.open(dir, { logger, snapshot: false, deferVerificationAbove: Infinity });
      expect(await observe(scanned)).to.deep.equal(await observe(cache));
      await cache.close();
    });

    it('long-RID (~sha256) files are read at open; the rest is verified later', async () => {
      const first = await Cache.open(dir, { logger, snapshot: false });
      await first.write(Bundle.generate(LONG, { which: 'long' }));
      await first.write(Bundle.generate(NODE, { which: 'node' }));
      await first.close();
      const cache = await Cache.open(dir, deferred());
      expect(cache.unverifiedCount).to.equal(1);
      expect(cache.listRids().map(String).sort()).to.deep.equal([LONG, NODE].sort());
      expect(cache.listRids(['orn:long.thing']).map(String)).to.deep.equal([LONG]);
      expect((await cache.read(LONG))?.contents).to.deep.equal({ which: 'long' });
      await cache.verified();
      expect(await cache.delete(LONG)).to.equal(true);
      await cache.sync();
      expect(await readdir(dir)).to.deep.equal([cacheFileName(NODE)]);
      expect(logger.warnings).to.deep.equal([]);
      await cache.close();
    });

    it('after verified(), the index equals the one a full scan builds, whatever the directory holds', async () => {
      const put = (name: string, text: string): Promise<void> => writeFile(join(dir, name), text, 'utf8');
      // rid-lib fixtures: every normalization the file names must round-trip.
      const seen = new Set<string>();
      for (const [i, d] of fileNames.entries()) {
        if (d.exceeds_NAME_MAX_255 || seen.has(d.rid_str)) continue;
        seen.add(d.rid_str);
        await put(d.filename, bundleText(Bundle.generate(d.rid_str, { i } as JsonObject)));
      }
      await put(cacheFileName(NODE), bundleText(Bundle.generate(NODE, { which: 'canonical' })));
      await put('AAAA.json', bundleText(Bundle.generate(NODE, { which: 'stray' }))); // loses to the canonical
      await put(cacheFileName(EDGE), '{"manifest": {'); // corrupt canonical ...
      await put('BBBB.json', bundleText(Bundle.generate(EDGE, { which: 'fallback' }))); // ... so the stray one wins
      await put(cacheFileName('orn:named.for:a'), bundleText(Bundle.generate('orn:holds.other:b', {}))); // indexed as b
      await put(`${Buffer.from('https://example.com/q#').toString('base64url')}.json`, bundleText(Bundle.generate('https://example.com/q', {})));
      await put('e30.json', '{}');
      await put('binary.json', '\u0000\u0001');
      await put('notes.txt', 'hello');
      await put(cacheFileName(LONG), bundleText(Bundle.generate(LONG, {})));
      await put(cacheFileName(SLACK), JSON.stringify({ manifest: { rid: SLACK, timestamp: 'now', sha256_hash: 'x' }, contents: {} }));

      const fullLogger = new RecordingLogger();
      const full = await Cache.open(dir, { logger: fullLogger, snapshot: false, deferVerificationAbove: Infinity });
      const cache = await Cache.open(dir, deferred({ snapshot: false }));
      expect(cache.unverifiedCount).to.be.greaterThan(10);
      await cache.verified();
      expect(cache.size).to.equal(full.size);
      expect(await observe(cache)).to.deep.equal(await observe(full));
      expect((await cache.read(EDGE))?.contents).to.deep.equal({ which: 'fallback' });
      expect((await cache.read(NODE))?.contents).to.deep.equal({ which: 'canonical' });
      expect(cache.exists('orn:holds.other:b')).to.equal(true);
      expect(cache.exists('orn:named.for:a')).to.equal(false);
      // The same problems are reported, if not in the same order.
      expect(logger.warnings.map((w) => w.msg).sort()).to.deep.equal(fullLogger.warnings.map((w) => w.msg).sort());
    });

    it('close() right after a deferred open waits for the checks and writes a complete snapshot', async () => {
      const bundles = Array.from({ length: 50 }, (_, i) => Bundle.generate(`orn:test.thing:${i}`, { i }));
      for (const b of bundles) await writeFile(join(dir, cacheFileName(b.rid)), bundleText(b), 'utf8');
      await writeFile(join(dir, cacheFileName(EDGE)), 'null', 'utf8');
      const cache = await Cache.open(dir, deferred());
      await cache.close();
      const snapshot = JSON.parse(readFileSync(snapshotPathFor(dir), 'utf8')) as { rids: unknown[]; listingCount: number; renamedRows: unknown[] };
      expect(snapshot.rids.length).to.equal(50);
      // The invalid file is in the listing the next open compares, not in the index.
      expect(snapshot.listingCount).to.equal(51);
      expect(snapshot.renamedRows).to.deep.equal([]);
      const reopened = await Cache.open(dir, deferred());
      expect(reopened.unverifiedCount).to.equal(0);
      expect(reopened.size).to.equal(50);
      for (const b of bundles) expect(reopened.readManifest(b.rid)?.equals(b.manifest)).to.equal(true);
    });

    it('a file that vanished before its check is dropped', async () => {
      await writeFile(join(dir, cacheFileName(NODE)), bundleText(Bundle.generate(NODE, {})), 'utf8');
      await writeFile(join(dir, cacheFileName(EDGE)), bundleText(Bundle.generate(EDGE, {})), 'utf8');
      const cache = await Cache.open(dir, deferred());
      // Synchronously, before the first check can run.
      unlinkSync(join(dir, cacheFileName(EDGE)));
      await cache.verified();
      expect(cache.listRids().map(String)).to.deep.equal([NODE]);
      await cache.close();
    });
  });
}

describe('cache/Cache deferred verification thresholds', () => {
  it('small directories are still read completely before open() returns', async () => {
    const root = await mkdtemp(join(tmpdir(), 'koi-cache-deferred-'));
    try {
      const dir = join(root, 'cache');
      await mkdir(dir);
      await writeFile(join(dir, cacheFileName(NODE)), bundleText(Bundle.generate(NODE, {})), 'utf8');
      const cache = await Cache.open(dir, { logger: new RecordingLogger() });
      expect(cache.unverifiedCount).to.equal(0);
      expect(cache.size).to.equal(1);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
