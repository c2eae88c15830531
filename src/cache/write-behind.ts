/**
 * The write-behind queue of the file cache. The facade updates the index synchronously and hands
 * each mutation here; the files follow in the background, so the disk work overlaps with the
 * processing of the next knowledge. Mutations of one RID reach the disk in call order; repeated
 * writes of an RID not yet started are coalesced into the last one. The promise of each mutation
 * resolves when it is on disk (or superseded by a later one of the same RID that is); sync() waits
 * for everything so far. A failed file operation is retried with backoff (see finish()).
 */
import { sep } from 'node:path';
import { CacheError } from '../errors.ts';
import { errorText } from '../util/error-text.ts';
import type { Startable } from '../util/lifecycle.ts';
import { applyFileOp, tempFileName, threadPoolCalls, type FileBatch, type FileOp } from './file-writer.ts';
import type { IndexEntry, KnowledgeIndex } from './memory-index.ts';
import type { CacheLogger, StoreHealth } from './store.ts';
import { ThreadHost } from './worker-host.ts';
import { ImmediateTask } from './immediate.ts';

/**
 * A mutation the index already shows but the disk does not yet. `diskEntry` is what the disk held
 * before the first unpersisted mutation of the RID, so a failure can put the index back to it.
 */
export type PendingOp = (
  | {
      kind: 'write';
      seq: number;
      key: string;
      entry: IndexEntry;
      /** The bundle as compact JSON; the writer lays it out as the file (fileText). */
      json: string;
      unlink: string[];
      diskEntry: IndexEntry | undefined;
    }
  | { kind: 'delete'; seq: number; key: string; unlink: string[]; diskEntry: IndexEntry | undefined }
) & {
  /** The promises of this op and of the ops coalesced into it (none for a retry). */
  settlers: Settlers[];
  /** A retry of a failed op: not started before this time (epoch ms). */
  notBefore?: number;
  /** The op is a retry (nobody awaits it; sync() reports its failure through `failed`). */
  retry?: boolean;
};
// diskEntry is reassigned when an earlier op of the RID fails (the disk then kept the older state).

export interface WriteBehindOptions {
  /** See CacheOptions.writer. */
  writer: 'worker' | 'threadpool';
  writeConcurrency: number;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
}

interface Settlers {
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  /** What the promise resolves with (cache.write's bundle). */
  value: unknown;
}

interface SyncWaiter {
  resolve: () => void;
  reject: (err: unknown) => void;
  /** Every op with seq <= upTo must be settled. */
  upTo: number;
}

/** Files per job of the writer thread, and jobs out at once. */
const BATCH_SIZE = 256;
const BATCHES_IN_FLIGHT = 2;

let tempCounter = 0;
const NO_NAMES: readonly string[] = Object.freeze([]);

function mergeNames(a: readonly string[], b: readonly string[]): string[] {
  return b.length === 0 ? [...a] : [...new Set([...a, ...b])];
}

function due(op: PendingOp, now: number): boolean {
  return op.notBefore === undefined || op.notBefore <= now;
}

export class WriteBehind implements Startable {
  /** Mutations not yet started, at most one per RID (coalesced). */
  private readonly queued = new Map<string, PendingOp>();
  /** Mutations being written, by RID; a queued op of the same RID waits for it. */
  private readonly inflight = new Map<string, PendingOp>();
  /** Seqs of ops not yet settled; a Set iterates in insertion (= seq) order, so the first is the oldest. */
  private readonly outstanding = new Set<number>();
  private syncWaiters: SyncWaiter[] = [];
  /** RIDs whose last persisted attempt failed, with the seq of that attempt and the failures in a row. */
  private readonly failed = new Map<string, { seq: number; error: CacheError; attempts: number }>();
  /** RIDs whose failed op is queued (or being written) again as a retry. */
  private readonly retrying = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryTimerAt = Infinity;
  private lastError: string | undefined;
  private opSeq = 0;
  /** 'threadpool' writer: files being written. */
  private writing = 0;
  /** After the current task: mutations made in one go (a batch of kobjs) coalesce first. */
  private readonly nextPump = new ImmediateTask(() => this.pump());
  /** While > 0 no file operation starts (see pause()). */
  private paused = 0;
  private writer: 'worker' | 'threadpool';
  private readonly thread: ThreadHost<PendingOp[]>;
  /** `directory` with one trailing separator. */
  private readonly directoryPrefix: string;

  constructor(
    private readonly directory: string,
    private readonly pathOf: (fileName: string) => string,
    private readonly index: KnowledgeIndex,
    private readonly logger: CacheLogger,
    private readonly options: WriteBehindOptions,
  ) {
    this.directoryPrefix = directory.endsWith(sep) ? directory : directory + sep;
    this.writer = options.writer;
    this.thread = new ThreadHost<PendingOp[]>('writer', {
      answered: (ops, results) => {
        ops.forEach((op, i) => {
          this.inflight.delete(op.key);
          const failure = results[i];
          this.finish(op, failure == null ? undefined : new CacheError(`cannot write cache file for ${op.key}: ${String(failure)}`), true);
        });
        this.pump();
      },
      died: (lost, err, answeredAny) => {
        if (!answeredAny && this.writer === 'worker') {
          // The thread's module did not load (a broken install): the same writer on the thread pool.
          this.logger.warn({ err: errorText(err) }, 'cache writer thread did not start; writing on the thread pool');
          this.writer = 'threadpool';
          // Its batches go to the thread pool as they are (still in flight, their promises kept),
          // not failed and retried: the thread never answered, and running an op again is safe
          // (a write is temp + rename of the same text, an unlink takes a missing file).
          for (const op of lost.flat()) this.runOnThreadPool(op);
          this.pump();
          return;
        }
        // The batches it had are unknown on disk: failed, so they are retried and sync() rejects meanwhile.
        for (const op of lost.flat()) {
          this.inflight.delete(op.key);
          this.finish(op, new CacheError(`cache writer thread failed: ${errorText(err)}`, { cause: err }), true);
        }
        this.pump();
      },
    });
  }

  /** Mutations not yet on disk (queued, being written, or waiting for a retry). */
  get pendingWrites(): number {
    return this.outstanding.size + this.retrying.size;
  }

  health(): StoreHealth {
    const degraded = this.failed.size > 0;
    return {
      status: degraded ? 'degraded' : 'ok',
      pendingWrites: this.pendingWrites,
      ...(degraded && this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  /** The thread starts with the first write. */
  start(): void {}

  /** Stops retrying and ends the writer thread; a later mutation starts it again. */
  async stop(): Promise<void> {
    this.stopRetrying();
    await this.thread.stop();
  }

  /** Closing a store that cannot write: no more retries (whoever acknowledged the data keeps it). */
  stopRetrying(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryTimerAt = Infinity;
  }

  /** Until resume(), no file operation starts (ops already started finish). */
  pause(): void {
    this.paused++;
  }

  resume(): void {
    this.paused--;
    if (this.paused === 0 && this.queued.size > 0) this.schedulePump();
  }

  /** The text a write of `entry` has not yet put on disk, if that write is what the index shows. */
  pendingText(key: string, entry: IndexEntry): string | undefined {
    const pending = this.queued.get(key) ?? this.inflight.get(key);
    return pending !== undefined && pending.kind === 'write' && pending.entry === entry ? pending.json : undefined;
  }

  /** drop(): ops not yet started are settled as done, failures and retries forgotten. */
  discardQueued(): void {
    for (const op of this.queued.values()) this.settle(op, undefined);
    this.queued.clear();
    this.failed.clear();
    this.retrying.clear();
  }

  sync(): Promise<void> {
    const upTo = this.opSeq;
    const oldest = this.oldestOutstanding();
    if (oldest === undefined || oldest > upTo) return this.failureUpTo(upTo);
    return new Promise((res, rej) => this.syncWaiters.push({ upTo, resolve: res, reject: rej }));
  }

  /**
   * Queues the file of `entry` (the bundle as compact `json`); `unlink`: stale names of the RID.
   * The promise resolves with `value` once the file is on disk.
   */
  write<T>(key: string, entry: IndexEntry, json: string, indexBefore: IndexEntry | undefined, unlink: readonly string[], value: T): Promise<T> {
    return this.enqueue(key, indexBefore, value, (seq, diskEntry, carried, settlers) => ({
      kind: 'write',
      seq,
      key,
      entry,
      json,
      unlink: carried.length === 0 && unlink.length === 0 ? (NO_NAMES as string[]) : mergeNames(carried, unlink),
      diskEntry,
      settlers,
    }));
  }

  /** Queues the removal of the file of `entry`. */
  delete(key: string, entry: IndexEntry): Promise<void> {
    return this.enqueue(key, entry, undefined, (seq, diskEntry, carried, settlers) => ({ kind: 'delete', seq, key, unlink: mergeNames(carried, [entry.fileName]), diskEntry, settlers }));
  }

  /**
   * Queues the mutation of `key`, coalescing it with a queued (not yet started) one: the disk
   * state before that one stays the revert point, and its file-name cleanups are carried over.
   */
  private enqueue<T>(
    key: string,
    /** The index entry before this mutation: with nothing pending for the RID, the disk state. */
    indexBefore: IndexEntry | undefined,
    value: T,
    make: (seq: number, diskEntry: IndexEntry | undefined, carried: readonly string[], settlers: Settlers[]) => PendingOp,
  ): Promise<T> {
    const seq = ++this.opSeq;
    const waiting = this.queued.size > 0 ? this.queued.get(key) : undefined;
    const running = this.inflight.size > 0 ? this.inflight.get(key) : undefined;
    let diskEntry: IndexEntry | undefined;
    let carried: readonly string[] = NO_NAMES;
    let settlers: Settlers[] = [];
    if (waiting !== undefined) {
      // A queued retry is superseded: the new op carries its file-name cleanups and is awaited.
      this.retrying.delete(key);
      diskEntry = waiting.diskEntry;
      carried = waiting.unlink;
      this.outstanding.delete(waiting.seq);
      settlers = waiting.settlers;
    } else if (running !== undefined) {
      // What the disk holds once the running op is done (the revert point if ours fails).
      diskEntry = running.kind === 'write' ? running.entry : undefined;
    } else {
      diskEntry = indexBefore;
    }
    const op = make(seq, diskEntry, carried, settlers);
    // A write whose name equals one to unlink must not delete its own file after the rename.
    if (op.kind === 'write' && op.unlink.length > 0) op.unlink = op.unlink.filter((n) => n !== op.entry.fileName);
    if (waiting !== undefined) this.queued.delete(key);
    this.queued.set(key, op);
    this.outstanding.add(seq);
    const done = new Promise<T>((res, rej) => settlers.push({ resolve: res as (v: unknown) => void, reject: rej, value }));
    this.schedulePump();
    return done;
  }

  private schedulePump(): void {
    this.nextPump.schedule();
  }

  /**
   * Starts the queued ops that are due and whose RID has nothing in flight: in batches to the
   * writer thread (two out at once, so it starts the next while this thread handles the answer to
   * the last), or as thread-pool requests, `writeConcurrency` at a time.
   */
  private pump(now = Date.now()): void {
    if (this.paused > 0) return;
    const threaded = this.writer === 'worker';
    while (this.queued.size > 0 && (threaded ? this.thread.pending < BATCHES_IN_FLIGHT : this.writing < this.options.writeConcurrency)) {
      const ops: PendingOp[] = [];
      const room = threaded ? BATCH_SIZE : this.options.writeConcurrency - this.writing;
      for (const [key, op] of this.queued) {
        if (ops.length >= room) break;
        if (this.inflight.has(key) || !due(op, now)) continue;
        this.queued.delete(key);
        try {
          this.checkNames(op);
        } catch (err) {
          // A refused file name: nothing to retry (finish puts the index back).
          this.finish(op, err instanceof CacheError ? err : new CacheError(errorText(err)));
          continue;
        }
        this.inflight.set(key, op);
        ops.push(op);
      }
      if (ops.length === 0) return;
      if (threaded) {
        const batch = this.fileBatch(ops);
        this.thread.send(ops, (id) => ({ kind: 'write', id, directory: this.directory, batch }));
      } else for (const op of ops) this.runOnThreadPool(op);
    }
  }

  /** The thread's message for `ops`: flat arrays, the texts as one string (see FileBatch). */
  private fileBatch(ops: readonly PendingOp[]): FileBatch {
    const names: (string | null)[] = [];
    const lengths: number[] = [];
    let texts = '';
    let unlinks: string[][] | undefined;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.kind === 'write') {
        names.push(op.entry.fileName);
        lengths.push(op.json.length);
        texts += op.json;
      } else {
        names.push(null);
        lengths.push(0);
      }
      if (op.unlink.length > 0) {
        unlinks ??= ops.map(() => NO_NAMES as string[]);
        unlinks[i] = op.unlink;
      }
    }
    const tempBase = tempCounter + 1;
    tempCounter += ops.length;
    return { directoryPrefix: this.directoryPrefix, names, lengths, texts, ...(unlinks ? { unlinks } : {}), pid: process.pid, tempBase };
  }

  private runOnThreadPool(op: PendingOp): void {
    this.writing++;
    applyFileOp(threadPoolCalls, this.directory, this.fileOp(op)).then(
      () => this.threadPoolDone(op, undefined),
      (err: unknown) => this.threadPoolDone(op, new CacheError(`cannot write cache file for ${op.key}: ${errorText(err)}`, { cause: err })),
    );
  }

  private threadPoolDone(op: PendingOp, err: CacheError | undefined): void {
    this.writing--;
    this.inflight.delete(op.key);
    this.finish(op, err, true);
    this.pump();
  }

  /** Throws (CacheError) when a name of `op` would leave the cache directory. */
  private checkNames(op: PendingOp): void {
    if (op.kind === 'write') this.pathOf(op.entry.fileName);
    for (const name of op.unlink) this.pathOf(name);
  }

  private fileOp(op: PendingOp): FileOp {
    const unlinkPaths = op.unlink.map((n) => this.pathOf(n));
    if (op.kind === 'delete') return { unlink: unlinkPaths };
    const fileName = op.entry.fileName;
    return {
      temp: this.pathOf(tempFileName(fileName, process.pid, ++tempCounter)),
      path: this.pathOf(fileName),
      json: op.json,
      unlink: unlinkPaths,
    };
  }

  /**
   * Settles an op. A failed file operation (`retryable`: a full disk, an I/O error) is not undone:
   * the index keeps showing the new state, read() keeps serving it from memory, and the op is
   * queued again after a backoff until the disk takes it, so what was acknowledged becomes durable
   * as soon as there is room, without a restart. Its callers' promises reject at once (and sync()
   * rejects while it is unpersisted), so durability checks such as the inbox checkpoint wait.
   * A failure that cannot heal (a refused file name) puts the index back to the disk state.
   */
  private finish(op: PendingOp, err: CacheError | undefined, retryable = false): void {
    if (op.retry) this.retrying.delete(op.key);
    if (err === undefined) {
      const wasFailed = this.failed.get(op.key);
      this.failed.delete(op.key);
      if (wasFailed !== undefined && this.failed.size === 0) {
        (this.logger.info ?? this.logger.warn).call(this.logger, { pendingWrites: this.pendingWrites }, 'cache writes succeed again; store healthy');
      }
    } else {
      const previous = this.failed.get(op.key);
      const attempts = (previous?.attempts ?? 0) + 1;
      if (this.failed.size === 0) {
        (this.logger.error ?? this.logger.warn).call(this.logger, { rid: op.key, err: err.message }, 'cache write failed; store degraded, retrying with backoff');
      }
      this.failed.set(op.key, { seq: op.seq, error: err, attempts });
      this.lastError = err.message;
      const next = this.queued.get(op.key);
      if (next !== undefined) {
        // A later mutation of the RID supersedes this one; it also does this one's file cleanups.
        next.diskEntry = op.diskEntry;
        next.unlink = mergeNames(op.unlink, next.unlink);
        if (next.kind === 'write') next.unlink = next.unlink.filter((n) => n !== next.entry.fileName);
      } else if (retryable) {
        const delay = Math.min(this.options.retryInitialDelayMs * 2 ** (attempts - 1), this.options.retryMaxDelayMs);
        const retry: PendingOp = { ...op, seq: ++this.opSeq, retry: true, notBefore: Date.now() + delay, settlers: [] };
        this.queued.set(op.key, retry);
        this.retrying.add(op.key);
        this.scheduleRetry(retry.notBefore!);
      } else {
        const current = this.index.get(op.key);
        const ours = op.kind === 'write' ? current === op.entry : current === undefined;
        if (ours) {
          if (op.diskEntry === undefined) this.index.remove(op.key);
          else this.index.put(op.diskEntry);
        }
        (this.logger.error ?? this.logger.warn).call(this.logger, { rid: op.key, err: err.message }, 'cache write failed; index reverted to the disk state');
      }
    }
    this.settle(op, err);
  }

  /** One timer for the earliest retry; the pump then takes every op that is due. */
  private scheduleRetry(at: number): void {
    if (this.retryTimer !== undefined && this.retryTimerAt <= at) return;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimerAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryTimerAt = Infinity;
      // One clock reading for both steps: the timer can fire a little before `at` by Date.now()
      // (libuv times it on its cached loop clock), and an op the pump found not yet due must get
      // the next timer even if it has become due since, or nothing would ever start it.
      const now = Date.now();
      this.pump(now);
      // Ops not yet due get the next timer (a due op still queued waits for its RID's write in
      // flight or a free slot, and the end of that starts the pump).
      let next = Infinity;
      for (const op of this.queued.values()) if (op.notBefore !== undefined && op.notBefore > now) next = Math.min(next, op.notBefore);
      if (next < Infinity) this.scheduleRetry(next);
    }, Math.max(0, at - Date.now()));
    // Retries alone must not keep a finished process alive.
    this.retryTimer.unref();
  }

  private settle(op: PendingOp, err: CacheError | undefined): void {
    this.outstanding.delete(op.seq);
    for (const s of op.settlers) {
      if (err === undefined) s.resolve(s.value);
      else s.reject(err);
    }
    if (this.syncWaiters.length === 0) return;
    const oldest = this.oldestOutstanding() ?? Infinity;
    const still: SyncWaiter[] = [];
    for (const w of this.syncWaiters) {
      if (w.upTo >= oldest) still.push(w);
      else this.failureUpTo(w.upTo).then(w.resolve, w.reject);
    }
    this.syncWaiters = still;
  }

  private oldestOutstanding(): number | undefined {
    for (const seq of this.outstanding) return seq;
    return undefined;
  }

  private failureUpTo(upTo: number): Promise<void> {
    for (const f of this.failed.values()) if (f.seq <= upTo) return Promise.reject(f.error);
    return Promise.resolve();
  }
}
