/**
 * A directory's stamp: device, inode, mtime and ctime (ns). Creating, removing or renaming a file
 * in a directory sets its mtime and ctime to now, and nothing sets a ctime back (utimes sets it to
 * now), so two equal stamps mean the same set of names in between. The file system's clock is
 * coarse (a kernel tick), so a stamp only vouches for a directory that had settled, unchanged for
 * STAMP_SETTLE_MS, before it was taken (a change in the same tick could keep the stamp).
 * No imports beyond node:fs: bin/koi-net.js loads this before the rest (cache/prefetch.ts).
 */
import { statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** Longer than a kernel tick (1-10 ms). */
export const STAMP_SETTLE_MS = 20;

/** undefined when the directory cannot be stat'ed. */
export function directoryStamp(directory: string): string | undefined {
  try {
    const st = statSync(directory, { bigint: true });
    return `${st.dev}:${st.ino}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return undefined;
  }
}

/** When the directory of `stamp` counts as settled (its ctime plus STAMP_SETTLE_MS), ms since the epoch. */
export function settledAt(stamp: string): number {
  return Number(BigInt(stamp.split(':')[3]!) / 1_000_000n) + STAMP_SETTLE_MS;
}

/**
 * Where the index snapshot of a cache directory lives: beside the directory, never in it, because
 * rid-lib (and the start-up scan) read every `*.json` in the cache directory as a bundle.
 * `<dataDir>/cache` -> `<dataDir>/cache.index-snapshot.json`.
 */
export function snapshotPathFor(directory: string): string {
  const dir = resolve(directory);
  return join(dirname(dir), `${basename(dir)}.index-snapshot.json`);
}
