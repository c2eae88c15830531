import { open, readFile, rename, unlink } from 'node:fs/promises';
import { isNotFound, storageOp } from './errors.ts';

/** Chunk size of streamed snapshots: big enough for few write calls, small enough to bound memory. */
const SNAPSHOT_CHUNK_CHARS = 2 ** 20;

/** Appends one piece of a streamed snapshot; awaiting it applies backpressure. */
export type SnapshotPut = (text: string) => Promise<void>;

/** The temp name a streamed snapshot of `path` is written under (one writer per file). */
export function snapshotTempPath(path: string): string {
  return `${path}.tmp`;
}

/**
 * Writes a snapshot too big to build as one string: `produce` puts its pieces, which are written
 * to a temp file in bounded chunks, then the temp file is renamed over `path`, so a crash leaves
 * the old snapshot or the new one, never half of either. Small documents use atomicWrite.
 */
export async function writeSnapshotStream(path: string, produce: (put: SnapshotPut) => Promise<void>): Promise<void> {
  const tmp = snapshotTempPath(path);
  await storageOp('snapshot', path, async () => {
    const fh = await open(tmp, 'w');
    try {
      let parts: string[] = [];
      let size = 0;
      await produce(async (s) => {
        parts.push(s);
        size += s.length;
        if (size < SNAPSHOT_CHUNK_CHARS) return;
        const chunk = parts.join('');
        parts = [];
        size = 0;
        await fh.writeFile(chunk);
      });
      await fh.writeFile(parts.join(''));
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  });
}

/** The text of a snapshot or checkpoint, or undefined when none was ever written. */
export async function readSnapshotText(path: string): Promise<string | undefined> {
  try {
    return await storageOp('read', path, () => readFile(path, 'utf8'));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Removes a file; one that is already gone is fine. */
export async function removeFile(path: string): Promise<void> {
  try {
    await storageOp('compact', path, () => unlink(path));
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/**
 * Moves an unreadable file aside as `<path>.corrupt-<stamp>`: the bytes stay for a human to look
 * at, and the store starts without them instead of refusing to start.
 */
export async function moveAside(path: string, stamp = Date.now()): Promise<string> {
  const aside = `${path}.corrupt-${stamp}`;
  await storageOp('compact', path, () => rename(path, aside));
  return aside;
}
