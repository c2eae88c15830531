/**
 * The listing `koi-net start` begins before the modules load (cache/prefetch.ts): open() takes
 * it only while the directory keeps the stamp it had before the listing began, so a file added
 * or removed meanwhile (e.g. by a node that held the lock then) is never missed.
 */
import { mkdtemp, mkdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Bundle } from '../../../src/knowledge/index.ts';
import { Cache, cacheFileName, type CacheLogger } from '../../../src/cache/index.ts';
import { snapshotPathFor } from '../../../src/cache/cache.ts';
import { prefetchCacheListing, takePrefetchedListing } from '../../../src/cache/prefetch.ts';
import { STAMP_SETTLE_MS } from '../../../src/cache/directory-stamp.ts';
import { startEarlyWork } from '../../../src/cli/early-start.ts';

const quiet: CacheLogger = { warn: () => undefined };
const settle = (): Promise<void> => new Promise((done) => setTimeout(done, STAMP_SETTLE_MS * 2));
const rid = (i: number): string => `orn:test.doc:prefetch-${i}`;

describe('cache/prefetch: the early listing of a cache directory', () => {
  let root: string;
  let dir: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'koi-prefetch-test-'));
    dir = join(root, 'cache');
    await mkdir(dir);
    for (let i = 0; i < 3; i++) await writeFile(join(dir, cacheFileName(rid(i))), JSON.stringify(Bundle.generate(rid(i), { i }).toJSON()), 'utf8');
    await settle();
  });
  afterEach(async () => {
    // Nothing left behind for the next test.
    await takePrefetchedListing(dir);
    await rm(root, { recursive: true, force: true });
  });

  it('a settled directory without a snapshot is listed once; taking it twice gives it once', async () => {
    prefetchCacheListing(dir);
    const listing = await takePrefetchedListing(dir);
    expect(listing?.map((d) => d.name).sort()).to.deep.equal([0, 1, 2].map((i) => cacheFileName(rid(i))).sort());
    expect(await takePrefetchedListing(dir)).to.equal(undefined);
    // Another directory's listing is not this one's.
    prefetchCacheListing(dir);
    expect(await takePrefetchedListing(join(root, 'other'))).to.equal(undefined);
  });

  it('a file added or removed after the listing began makes it stale: not taken, and open() lists the directory itself', async () => {
    prefetchCacheListing(dir);
    await writeFile(join(dir, cacheFileName(rid(3))), JSON.stringify(Bundle.generate(rid(3), { i: 3 }).toJSON()), 'utf8');
    expect(await takePrefetchedListing(dir)).to.equal(undefined);

    await settle();
    prefetchCacheListing(dir);
    await unlink(join(dir, cacheFileName(rid(0))));
    const cache = await Cache.open(dir, { logger: quiet });
    expect(cache.listRids().map(String).sort()).to.deep.equal([1, 2, 3].map(rid).sort());
    await cache.close();
  });

  it('nothing is listed beside a snapshot: a clean stop needs no listing', async () => {
    // (Nor in a directory changed within the last STAMP_SETTLE_MS; not asserted here, since on a
    // loaded machine that much time may pass between a write and the next statement.)
    await writeFile(snapshotPathFor(dir), '{}', 'utf8');
    prefetchCacheListing(dir);
    expect(await takePrefetchedListing(dir)).to.equal(undefined);
  });

  it('`koi-net start --data-dir DIR` lists DIR/cache; with --config or --store, or another command, nothing', async () => {
    for (const argv of [['start', '--config', 'x.yaml', '--data-dir', root], ['start', `--store=postgres://x`, '--data-dir', root], ['status', '--data-dir', root]]) {
      startEarlyWork(argv);
      expect(await takePrefetchedListing(dir), argv.join(' ')).to.equal(undefined);
    }
    startEarlyWork(['start', `--data-dir=${root}`, '--port', '0']);
    expect(await takePrefetchedListing(dir)).to.have.length(3);
    const cache = await Cache.open(dir, { logger: quiet });
    expect(cache.size).to.equal(3);
    await cache.close();
  });
});
