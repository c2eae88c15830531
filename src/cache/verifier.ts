/**
 * The background verifier. After a start without a valid snapshot, a large directory is indexed
 * from the file names alone (scan.ts), each entry unverified: its file has not been read, so it
 * may not hold a valid bundle of that RID. This part reads every unverified file (on the cache
 * thread, or in slices on this thread) and fills in its manifest, or drops the entry with the
 * same warning the full scan gives. `current()` verifies an entry on demand first, so no caller
 * sees a manifest (or existence) the disk does not back. A write or delete replaces the entry,
 * and a result for a replaced entry is discarded, so it never overwrites a newer mutation.
 */
import { Manifest } from '../knowledge/index.ts';
import { errorText } from '../util/error-text.ts';
import type { Startable } from '../util/lifecycle.ts';
import { SCAN_SLICE, asError, parseBundleFile } from './bundle-file.ts';
import { cacheFileName } from './file-name.ts';
import { indexEntry, type IndexEntry, type KnowledgeIndex } from './memory-index.ts';
import type { CacheLogger } from './store.ts';
import type { VerifyResult } from './thread.ts';
import { ThreadHost } from './worker-host.ts';
import { ImmediateTask } from './immediate.ts';
import { readFileSync } from 'node:fs';

/** Files per job of the verifier thread, and jobs out at once. */
const BATCH_SIZE = 256;
const BATCHES_IN_FLIGHT = 2;

/** The thread's report as the result parseBundleFile would have given. */
function manifestFromThread(result: VerifyResult | undefined): Manifest | Error {
  if (result === undefined) return new Error('no answer from the verifier thread');
  if ('error' in result) return new Error(result.error);
  try {
    return Manifest.fromJSON(result.manifest);
  } catch (err) {
    return asError(err);
  }
}

export class Verifier implements Startable {
  /** Index entries whose file has not been read yet (each is the current entry of its RID). */
  private readonly unverified = new Set<IndexEntry>();
  /** Unverified entries in the order to verify; may hold stale ones, skipped when taken. */
  private queue: IndexEntry[] = [];
  private cursor = 0;
  private waiters: (() => void)[] = [];
  /** After the current task: open() finishes indexing, and answers requests, before any check. */
  private readonly nextPump = new ImmediateTask(() => this.pump());
  /** The thread failed once: the rest is checked on this thread. */
  private threadFailed = false;
  /**
   * A file read at open whose RID an unverified canonically named file also claims: the full scan
   * would prefer the canonical one, and uses this one only if the canonical file is not valid.
   */
  private readonly shadowed = new Map<string, IndexEntry>();
  private readonly thread: ThreadHost<IndexEntry[]>;

  constructor(
    private readonly index: KnowledgeIndex,
    private readonly pathOf: (fileName: string) => string,
    private readonly logger: CacheLogger,
    /** See CacheOptions.verifier. */
    private readonly kind: 'worker' | 'main',
  ) {
    this.thread = new ThreadHost<IndexEntry[]>('verifier', {
      answered: (batch, results) => {
        batch.forEach((entry, i) => this.apply(entry, manifestFromThread(results[i] as VerifyResult | undefined)));
        this.pump();
      },
      died: (lost, err) => {
        // Its batches are re-queued and the rest is checked on this thread: slower, but never lost.
        this.threadFailed = true;
        this.logger.warn({ err: errorText(err) }, 'cache verifier thread failed; verifying on the main thread');
        for (const batch of lost) this.queue.push(...batch);
        this.schedule();
      },
    });
  }

  /** Index entries not yet checked against their file. */
  get count(): number {
    return this.unverified.size;
  }

  /** Resolves once every index entry has been checked against its file. */
  verified(): Promise<void> {
    if (this.unverified.size === 0) return Promise.resolve();
    return new Promise((res) => this.waiters.push(res));
  }

  /** The thread starts with the first batch. */
  start(): void {}

  /** Ends the thread; answers of batches still out would be for entries checked meanwhile. */
  async stop(): Promise<void> {
    await this.thread.stop();
  }

  /** IndexEvents.added: an entry without a manifest needs its check (also one a failed write put back). */
  track(entry: IndexEntry): void {
    if (entry.manifest !== undefined || this.unverified.has(entry)) return;
    this.unverified.add(entry);
    this.queue.push(entry);
    this.schedule();
  }

  /** IndexEvents.gone. */
  untrack(entry: IndexEntry): void {
    if (!this.unverified.delete(entry) || this.unverified.size > 0) return;
    this.resolveWaiters();
  }

  /** `entry` (read at open) is the fallback of `key` should its unverified file not be valid. */
  shadow(key: string, entry: IndexEntry): void {
    this.shadowed.set(key, entry);
  }

  /** A write or delete of `key`: the losing copy stays on disk, it is just no longer a fallback. */
  unshadow(key: string): void {
    this.shadowed.delete(key);
  }

  /** drop(): nothing is left to verify. */
  clear(): void {
    this.shadowed.clear();
    this.unverified.clear();
    this.queue = [];
    this.cursor = 0;
    this.resolveWaiters();
  }

  /** The index entry of `key`, verified first if it is not yet. */
  current(key: string): IndexEntry | undefined {
    let entry = this.index.get(key);
    // verifyNow settles the entry (checked or removed); a fallback that replaces it was read at open.
    while (entry !== undefined && entry.manifest === undefined) {
      this.verifyNow(entry);
      entry = this.index.get(key);
    }
    return entry;
  }

  /** Checks every entry still unverified, here and now (close(): a failed write can put one back). */
  verifyAll(): void {
    for (const entry of [...this.unverified]) this.verifyNow(entry);
  }

  /** Synchronous: ~1 KB, and the caller (readManifest, exists) must answer synchronously. */
  private verifyNow(entry: IndexEntry): void {
    let result: Manifest | Error;
    try {
      result = parseBundleFile(readFileSync(this.pathOf(entry.fileName), 'utf8')).manifest;
    } catch (err) {
      result = asError(err);
    }
    this.apply(entry, result);
  }

  /** What the file of `entry` turned out to hold; ignored unless `entry` is still current and unchecked. */
  private apply(entry: IndexEntry, result: Manifest | Error): void {
    const key = entry.rid.toString();
    // A write or delete replaced the entry after the file was read: the newer state stands.
    if (this.index.get(key) !== entry || entry.manifest !== undefined) return;
    if (!(result instanceof Error) && result.rid.toString() === key) {
      entry.manifest = result;
      this.index.touch();
      const loser = this.shadowed.get(key);
      if (loser !== undefined) {
        this.shadowed.delete(key);
        this.logger.warn({ rid: key, files: [entry.fileName, loser.fileName], using: entry.fileName }, 'two cache files hold the same RID');
      }
      this.untrack(entry);
      return;
    }
    if (result instanceof Error) {
      this.logger.warn({ file: entry.fileName, err: result.message }, 'skipping a cache file that is not a valid bundle');
    } else {
      this.logger.warn(
        { rid: result.rid.toString(), file: entry.fileName, expected: cacheFileName(result.rid) },
        'cache file name does not match its RID',
      );
    }
    this.index.remove(key);
    const fallback = this.shadowed.get(key);
    this.shadowed.delete(key);
    if (fallback !== undefined) this.index.put(fallback);
    if (result instanceof Error) return;
    // Named for one RID, holding another: the full scan indexes it under the one it holds.
    const other = result.rid.toString();
    const existing = this.index.get(other);
    if (existing === undefined) {
      this.index.put(indexEntry(result.rid, entry.fileName, result));
    } else {
      this.logger.warn({ rid: other, files: [existing.fileName, entry.fileName], using: existing.fileName }, 'two cache files hold the same RID');
    }
  }

  private resolveWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private schedule(): void {
    this.nextPump.schedule();
  }

  /** Up to `max` unverified entries not being verified already, in queue order. */
  private take(max: number, inFlight: ReadonlySet<IndexEntry>): IndexEntry[] {
    const out: IndexEntry[] = [];
    while (out.length < max && this.cursor < this.queue.length) {
      const entry = this.queue[this.cursor++]!;
      if (this.unverified.has(entry) && !inFlight.has(entry)) out.push(entry);
    }
    if (this.cursor >= this.queue.length) {
      this.queue = [];
      this.cursor = 0;
    }
    return out;
  }

  private pump(): void {
    const inFlight = new Set<IndexEntry>();
    for (const batch of this.thread.jobsOut()) for (const e of batch) inFlight.add(e);
    if (this.kind === 'main' || this.threadFailed) {
      // The same slices as the full scan: a few ms each, then timers and sockets run.
      for (const entry of this.take(SCAN_SLICE, inFlight)) this.verifyNow(entry);
      if (this.cursor < this.queue.length) this.schedule();
      return;
    }
    while (this.thread.pending < BATCHES_IN_FLIGHT) {
      const batch = this.take(BATCH_SIZE, inFlight);
      if (batch.length === 0) break;
      for (const e of batch) inFlight.add(e);
      const paths = batch.map((e) => this.pathOf(e.fileName));
      this.thread.send(batch, (id) => ({ kind: 'verify', id, paths }));
    }
    // Done: the thread holds a V8 heap of its own, not worth keeping for a rare re-check.
    if (this.thread.pending === 0 && this.unverified.size === 0) void this.thread.stop();
  }
}
