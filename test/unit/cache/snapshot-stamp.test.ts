/**
 * The directory stamp of the index snapshot: after a clean close, open() trusts the snapshot
 * without listing the directory when the directory's device, inode, mtime and ctime are those
 * the snapshot recorded; any file added, removed or renamed meanwhile changes them, and open()
 * then compares the listing as before. Snapshots without a stamp (older version 3 files) are
 * still trusted by their listing.
 */
import { mkdtemp, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Bundle } from '../../../src/knowledge/index.ts';
import { Cache, cacheFileName, type CacheLogger } from '../../../src/cache/index.ts';
import { snapshotPathFor } from '../../../src/cache/cache.ts';
import { directoryStamp } from '../../../src/cache/snapshot.ts';

const NODE = 'orn:koi-net.node:coordinator+0edc41e9-ca87-4ed7-a386-205e9281472d';
const EDGE = 'orn:koi-net.edge:fe40e760b8a6318f130082c3718bbe2f71ed0b41d052d78330a2226a7a9a708f';
const quiet: CacheLogger = { warn: () => undefined };

type Snapshot = Record<string, unknown> & { directoryStamp?: string; listingDigest: string };

describe('cache/IndexSnapshot directory stamp', () => {
  let root: string;
  let dir: string;
  let snap: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'koi-stamp-test-'));
    dir = join(root, 'cache');
    snap = snapshotPathFor(dir);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A cache of NODE (v1) closed cleanly, then NODE's file rewritten in place (v9): the directory's names are unchanged. */
  async function closedWithRewrite(): Promise<Snapshot> {
    const cache = await Cache.open(dir, { logger: quiet });
    await cache.write(Bundle.generate(NODE, { v: 1 }));
    await cache.close();
    await writeFile(join(dir, cacheFileName(NODE)), JSON.stringify(Bundle.generate(NODE, { v: 9 })), 'utf8');
    return JSON.parse(await readFile(snap, 'utf8')) as Snapshot;
  }

  /** Whether open() took NODE's manifest from the snapshot (v1) rather than from its file (v9). */
  async function trusted(): Promise<boolean> {
    const cache = await Cache.open(dir, { logger: quiet });
    const hash = cache.readManifest(NODE)?.sha256Hash;
    await cache.close();
    return hash === Bundle.generate(NODE, { v: 1 }).manifest.sha256Hash;
  }

  it('close() records the stamp of the settled directory, and open() then trusts the snapshot without comparing the listing', async () => {
    const saved = await closedWithRewrite();
    expect(saved.directoryStamp).to.be.a('string');
    expect(saved.directoryStamp).to.equal(directoryStamp(dir));
    // Proof that the listing was not consulted: a digest no listing has.
    await writeFile(snap, JSON.stringify({ ...saved, listingDigest: '0'.repeat(64) }), 'utf8');
    expect(await trusted()).to.equal(true);
  });

  it('a file added, removed or renamed while closed changes the stamp: the listing decides, as without one', async () => {
    const saved = await closedWithRewrite();
    const nodeFile = join(dir, cacheFileName(NODE));
    const edgeFile = join(dir, cacheFileName(EDGE));

    // Added and removed again: the same names, so the listing still matches and the snapshot is trusted.
    await writeFile(edgeFile, JSON.stringify(Bundle.generate(EDGE, { v: 1 })), 'utf8');
    await unlink(edgeFile);
    expect(directoryStamp(dir)).to.not.equal(saved.directoryStamp);
    await writeFile(snap, JSON.stringify(saved), 'utf8');
    expect(await trusted()).to.equal(true);

    // Added: another listing, so the files are read.
    await writeFile(snap, JSON.stringify(saved), 'utf8');
    await writeFile(edgeFile, JSON.stringify(Bundle.generate(EDGE, { v: 1 })), 'utf8');
    expect(await trusted()).to.equal(false);

    // Renamed away and back with a bogus digest: the stamp differs, so the (bogus) listing decides.
    await unlink(edgeFile);
    await writeFile(snap, JSON.stringify({ ...saved, listingDigest: '0'.repeat(64) }), 'utf8');
    await rename(nodeFile, `${nodeFile}.moved`);
    await rename(`${nodeFile}.moved`, nodeFile);
    expect(await trusted()).to.equal(false);
  });

  it('a snapshot without a stamp (older version 3) or with another one is still trusted by its listing', async () => {
    const saved = await closedWithRewrite();
    const { directoryStamp: _stamp, ...older } = saved;
    for (const variant of [older, { ...saved, directoryStamp: '1:2:3:4' }]) {
      await writeFile(snap, JSON.stringify(variant), 'utf8');
      expect(await trusted(), JSON.stringify(variant).slice(0, 80)).to.equal(true);
      await writeFile(snap, JSON.stringify({ ...variant, listingDigest: '0'.repeat(64) }), 'utf8');
      expect(await trusted()).to.equal(false);
    }
  });

  it('no stamp is recorded while the directory holds anything but bundle files (a temp file, a foreign file)', async () => {
    const cache = await Cache.open(dir, { logger: quiet });
    await cache.write(Bundle.generate(NODE, { v: 1 }));
    await cache.sync();
    await writeFile(join(dir, 'notes.txt'), 'not a bundle', 'utf8');
    await cache.close();
    const saved = JSON.parse(await readFile(snap, 'utf8')) as Snapshot;
    expect(saved).to.not.have.property('directoryStamp');
    // Still trusted by its listing, which ignores the foreign file.
    await writeFile(join(dir, cacheFileName(NODE)), JSON.stringify(Bundle.generate(NODE, { v: 9 })), 'utf8');
    expect(await trusted()).to.equal(true);
  });
});
