/**
 * The parts of the file cache that the facade tests do not reach on their own: the index
 * snapshot's guard against a mutation during its save, and the one worker lifecycle (a stopped
 * thread starts again on the next job, for the writer and for the verifier).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Bundle } from '../../../src/knowledge/index.ts';
import { Cache, cacheFileName, type CacheLogger } from '../../../src/cache/index.ts';
import { IndexSnapshot, snapshotPathFor } from '../../../src/cache/snapshot.ts';
import type { IndexEntry } from '../../../src/cache/memory-index.ts';

const quiet: CacheLogger = { warn: () => undefined };

/** Records what the cache warns about its threads (a thread that did not start falls back, with a warning). */
function threadWatch(): CacheLogger & { threadWarnings: string[] } {
  const threadWarnings: string[] = [];
  const note = (_obj: object, msg?: string): void => {
    if (msg !== undefined && msg.includes('thread')) threadWarnings.push(msg);
  };
  return { threadWarnings, warn: note, error: note };
}

describe('cache parts', () => {
  let root: string;
  let dir: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'koi-cache-parts-'));
    dir = join(root, 'cache');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('a mutation while the snapshot is being saved deletes it, so it never outlives a change it does not describe', async () => {
    const cache = await Cache.open(dir, { logger: quiet });
    const bundle = await cache.write(Bundle.generate('orn:test.thing:a', { n: 1 }));
    await cache.close();
    expect(existsSync(snapshotPathFor(dir))).to.equal(true);

    const snapshot = new IndexSnapshot(dir, true, quiet);
    const entry: IndexEntry = { rid: bundle.rid, fileName: cacheFileName(bundle.rid), type: bundle.rid.type.toString(), manifest: bundle.manifest };
    const saving = snapshot.save([entry]);
    // What write() and delete() do first, here while the snapshot file is still being written.
    snapshot.invalidateIfLive();
    await saving;
    expect(existsSync(snapshot.path)).to.equal(false);

    // Undisturbed, the same save leaves a snapshot the next mutation removes again.
    await snapshot.save([entry]);
    expect(JSON.parse(readFileSync(snapshot.path, 'utf8'))).to.include({ version: 3, directory: dir });
    snapshot.invalidateIfLive();
    expect(existsSync(snapshot.path)).to.equal(false);
    expect((await readdir(root)).filter((n) => n.includes('.tmp-'))).to.deep.equal([]);
  });

  for (const writer of ['worker', 'threadpool'] as const) {
    it(`the ${writer} writer works again after close(), and the next close() saves a snapshot with the new entry`, async () => {
      const logger = threadWatch();
      const cache = await Cache.open(dir, { logger, writer });
      await cache.write(Bundle.generate('orn:test.thing:before', {}));
      await cache.close();
      const after = await cache.write(Bundle.generate('orn:test.thing:after', { n: 2 }));
      await cache.sync();
      expect(existsSync(join(dir, cacheFileName(after.rid)))).to.equal(true);
      expect(existsSync(snapshotPathFor(dir))).to.equal(false);
      await cache.close();
      const reopened = await Cache.open(dir, { logger: quiet });
      expect(reopened.readManifest(after.rid)?.sha256Hash).to.equal(after.manifest.sha256Hash);
      expect(reopened.size).to.equal(2);
      await reopened.close();
      expect(logger.threadWarnings).to.deep.equal([]);
    });
  }

  it('the verifier thread stops once everything is checked and starts again for the next deferred verification', async () => {
    const cache = await Cache.open(dir, { logger: quiet });
    const bundles = Array.from({ length: 20 }, (_, i) => Bundle.generate(`orn:test.thing:v${i}`, { i }));
    for (const b of bundles) await cache.write(b);
    await cache.sync();
    // No snapshot: the next opens index by name and verify in the background.
    await rm(snapshotPathFor(dir), { force: true });
    const logger = threadWatch();
    for (let round = 0; round < 2; round++) {
      const reopened = await Cache.open(dir, { logger, deferVerificationAbove: 0, snapshot: false });
      expect(reopened.unverifiedCount).to.equal(20);
      await reopened.verified();
      expect(reopened.unverifiedCount).to.equal(0);
      expect(reopened.listManifests().map((m) => m.sha256Hash).sort()).to.deep.equal(bundles.map((b) => b.manifest.sha256Hash).sort());
      await reopened.close();
    }
    // A file that is not a bundle is dropped by the thread's check, as by the full scan.
    await writeFile(join(dir, cacheFileName('orn:test.thing:v0')), '{"not": "a bundle"}', 'utf8');
    const broken = await Cache.open(dir, { logger: quiet, deferVerificationAbove: 0, snapshot: false });
    await broken.verified();
    expect(broken.size).to.equal(19);
    await broken.close();
    await cache.close();
    expect(logger.threadWarnings).to.deep.equal([]);
  });
});
