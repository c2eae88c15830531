import { readdir, rename } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '../logger.ts';
import { errorText } from '../util/error-text.ts';
import { moveAside, readRecords, readSnapshotText, removeFile, snapshotTempPath } from '../storage/index.ts';
import { replayRecords } from './records.ts';
import { loadQueueSnapshot } from './snapshot.ts';
import type { QueueState } from './state.ts';

/**
 * Reads the snapshot and replays the journals after it into `state`. A corrupt snapshot goes
 * aside with its journals (they only make sense on top of it) and the queues start empty; a
 * corrupt journal keeps the changes before the bad record and goes aside with any later journal.
 * `dirty`: the files hold changes a fresh snapshot should absorb.
 */
export async function recoverQueueFiles(
  filePath: string,
  state: QueueState,
  logger: Logger,
): Promise<{ gen: number; dirty: boolean; journalBytes: Map<number, number> }> {
  const dir = dirname(filePath);
  const base = basename(filePath);
  const journalPath = (g: number): string => `${filePath}.journal-${g}`;
  await removeFile(snapshotTempPath(filePath)).catch(() => undefined);
  const journals = (await readdir(dir))
    .map((name) => (name.startsWith(`${base}.journal-`) ? name.slice(base.length + '.journal-'.length) : ''))
    .filter((suffix) => /^\d+$/.test(suffix))
    .map(Number)
    .sort((a, b) => a - b);

  let corrupt: string | undefined;
  let snapshotGen = 0;
  const text = await readSnapshotText(filePath);
  if (text !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      corrupt = errorText(err);
    }
    if (corrupt === undefined) {
      const result = loadQueueSnapshot(state, raw, logger);
      if (typeof result === 'string') corrupt = result;
      else snapshotGen = result;
    }
  }

  const journalBytes = new Map<number, number>();
  let dirty = false;
  if (corrupt !== undefined) {
    // Keep the bytes for a human to look at; starting empty beats refusing to start.
    const stamp = Date.now();
    const aside = await moveAside(filePath, stamp);
    for (const g of journals) await moveAside(journalPath(g), stamp);
    logger.warn({ filePath, movedTo: aside, reason: corrupt }, 'event queue file is corrupt; moved aside, starting with empty queues');
    state.clear();
    dirty = true;
  } else {
    let stopped = false;
    for (const g of journals) {
      const path = journalPath(g);
      if (g < snapshotGen || stopped) {
        // Older: already folded into the snapshot. After a corrupt journal: built on state we lost.
        if (stopped) await rename(path, `${path}.corrupt-${Date.now()}`);
        else await removeFile(path);
        continue;
      }
      const contents = await readRecords(path);
      const size = contents.bytes + contents.tornBytes;
      journalBytes.set(g, size);
      if (size > 0) dirty = true;
      const bad = replayRecords(state, contents.records);
      if (bad !== undefined) {
        const aside = await moveAside(path);
        logger.warn({ filePath: path, movedTo: aside, reason: bad }, 'event queue journal is corrupt; kept the changes before the bad record, moved it aside');
        stopped = true;
      }
    }
  }
  return { gen: Math.max(snapshotGen, ...journals), dirty, journalBytes };
}
