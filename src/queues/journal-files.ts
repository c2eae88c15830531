import { RecordLog, removeFile } from '../storage/index.ts';

/**
 * The journal files of a queue file F (`F.journal-G`, one per snapshot generation G): appends,
 * the bytes each holds that no snapshot has folded in yet, and their removal once one has.
 *
 * A journal file stays open between appends while they keep coming (an open and a close per
 * append were a tenth of a coordinator's fan-out CPU) and is closed after `handleIdleMs` without
 * one, so a quiet store, or one dropped without close(), holds no file handle for long.
 */
export class JournalFiles {
  /** Journal bytes per generation not yet folded into a snapshot. */
  private readonly bytes = new Map<number, number>();
  private readonly logs = new Map<number, RecordLog>();
  private handleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly filePath: string,
    private readonly handleIdleMs = 250,
  ) {}

  path(gen: number): string {
    return `${this.filePath}.journal-${gen}`;
  }

  /** Bytes of every journal not folded into a snapshot yet. */
  unfoldedBytes(): number {
    let total = 0;
    for (const n of this.bytes.values()) total += n;
    return total;
  }

  /** The highest generation with a journal (or `floor` when higher). */
  highestGen(floor: number): number {
    return Math.max(floor, ...this.bytes.keys());
  }

  /** Journal sizes found at open. */
  setFound(found: ReadonlyMap<number, number>): void {
    for (const [g, n] of found) this.bytes.set(g, n);
  }

  /** Appends `text` (whole records) to generation `gen`'s journal; rejects as the storage engine does. */
  async append(gen: number, text: string): Promise<void> {
    let log = this.logs.get(gen);
    if (!log) this.logs.set(gen, (log = RecordLog.lazy(this.path(gen))));
    this.armHandleTimer();
    await log.append(text);
    this.bytes.set(gen, (this.bytes.get(gen) ?? 0) + Buffer.byteLength(text));
  }

  /** Deletes the journals before `gen` (a snapshot of generation `gen` holds them). */
  async dropBefore(gen: number): Promise<void> {
    for (const g of new Set([...this.bytes.keys(), ...this.logs.keys()])) {
      if (g >= gen) continue;
      this.bytes.delete(g);
      const log = this.logs.get(g);
      this.logs.delete(g);
      await log?.close();
      await removeFile(this.path(g));
    }
  }

  /** Closes every open journal (after its pending writes). */
  async close(): Promise<void> {
    if (this.handleTimer) clearTimeout(this.handleTimer);
    this.handleTimer = null;
    const logs = [...this.logs.values()];
    this.logs.clear();
    for (const log of logs) await log.close();
  }

  /**
   * Safe at any time: a log's close waits for its write in flight, and the next append opens a new
   * log on the same file (the store appends one at a time, so that starts after the write ended).
   */
  private armHandleTimer(): void {
    if (this.handleTimer) {
      this.handleTimer.refresh();
      return;
    }
    this.handleTimer = setTimeout(() => {
      this.handleTimer = null;
      const logs = [...this.logs.values()];
      this.logs.clear();
      for (const log of logs) void log.close().catch(() => undefined);
    }, this.handleIdleMs);
    this.handleTimer.unref();
  }
}
