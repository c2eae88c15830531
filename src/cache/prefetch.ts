/**
 * The start-up listing of a cache directory, started before the node's modules load. After a
 * crash there is no snapshot, so open() indexes every file name; listing 100k names takes the
 * thread pool ~200 ms, which otherwise open() would wait for after loading takes ~300 ms.
 * `koi-net start` (bin/koi-net.js, cli/early-start.ts) starts it; open() takes the listing only if
 * the directory still has the stamp it had before the listing began (directory-stamp.ts), i.e.
 * nothing was added, removed or renamed since (e.g. by a node that held the directory's lock
 * then). Anything else, and open() lists the directory itself.
 * Few imports: it is loaded before everything else.
 */
import { existsSync, readdir, type Dirent } from 'node:fs';
import { resolve } from 'node:path';
import { directoryStamp, settledAt, snapshotPathFor } from './directory-stamp.ts';

/** A listing nobody took (the node failed to start, or uses another store) is dropped after this. */
const UNCLAIMED_MS = 30_000;

interface Prefetched {
  directory: string;
  stamp: string;
  listing: Promise<Dirent[] | undefined>;
}

let prefetched: Prefetched | undefined;

/**
 * Lists `directory` on the thread pool, for open() to take (takePrefetchedListing). Only when it
 * has no index snapshot beside it (with one, a clean stop, open() needs no listing) and it has
 * settled (directory-stamp.ts).
 */
export function prefetchCacheListing(directory: string): void {
  const dir = resolve(directory);
  if (existsSync(snapshotPathFor(dir))) return;
  const stamp = directoryStamp(dir);
  if (stamp === undefined || Date.now() < settledAt(stamp)) return;
  const listing = new Promise<Dirent[] | undefined>((done) => readdir(dir, { withFileTypes: true }, (err, dirents) => done(err ? undefined : dirents)));
  const entry: Prefetched = { directory: dir, stamp, listing };
  prefetched = entry;
  setTimeout(() => {
    if (prefetched === entry) prefetched = undefined;
  }, UNCLAIMED_MS).unref();
}

/**
 * The listing prefetched of `directory` (resolved), if any and if the directory's stamp is still
 * the one taken before it was listed; taken once. undefined: list it now.
 */
export async function takePrefetchedListing(directory: string): Promise<Dirent[] | undefined> {
  const entry = prefetched;
  if (entry === undefined || entry.directory !== directory) return undefined;
  prefetched = undefined;
  const dirents = await entry.listing;
  if (dirents === undefined || directoryStamp(directory) !== entry.stamp) return undefined;
  return dirents;
}
