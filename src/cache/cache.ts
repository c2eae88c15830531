/**
 * The file cache: `Cache`, the default `KnowledgeStore` (store.ts), and the facade over its parts:
 * the in-memory index (memory-index.ts), the write-behind queue (write-behind.ts), the index
 * snapshot (snapshot.ts), the background verifier (verifier.ts) and the start-up scan (scan.ts);
 * the writer and the verifier share one worker lifecycle (worker-host.ts, thread.ts).
 */
import { mkdir, rm } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { RID, RIDType } from '../rid/index.ts';
import { Bundle, Manifest } from '../knowledge/index.ts';
import { CacheError } from '../errors.ts';
import { errorCode, errorText } from '../util/error-text.ts';
import { stopAll } from '../util/lifecycle.ts';
import { cachePath, checkedBundleText, compactBundleJson, parseBundleFile, readSmallFile, readSmallTextFile } from './bundle-file.ts';
import { cacheFileName } from './file-name.ts';
import { KnowledgeIndex, indexEntry, ridKey, type IndexEntry } from './memory-index.ts';
import { ServedTexts } from './served-texts.ts';
import { IndexSnapshot } from './snapshot.ts';
import { scanDirectory } from './scan.ts';
import type { CacheLogger, KnowledgeStore, StoreHealth } from './store.ts';
import { Verifier } from './verifier.ts';
import { WriteBehind } from './write-behind.ts';

export type { CacheLogger, KnowledgeStore, StoreHealth } from './store.ts';
export { snapshotPathFor } from './snapshot.ts';

export interface CacheOptions {
  /** Default: console.warn. */
  logger?: CacheLogger;
  /**
   * How open() reads the files it indexes when it has to (no valid snapshot). 0 (default):
   * synchronously, in slices of 256 files with a yield to the event loop between slices;
   * measured 2-3x faster than 64 concurrent async reads on a local disk (each async read is
   * several thread-pool hops). n > 0: n async reads at once, better where every read has
   * latency (network file systems).
   */
  scanConcurrency?: number;
  /**
   * Use (and, on close(), write) the index snapshot (default true). See `snapshotPathFor`.
   */
  snapshot?: boolean;
  /**
   * Who persists the write-behind files. 'worker' (default): one worker thread doing synchronous
   * temp + write + rename, batches of files per message, so the main thread pays one message per
   * batch and the disk work runs on the other core. 'threadpool': each file as libuv requests
   * (four pool round trips per file); measured about half as fast here, since creates and renames
   * in one directory serialize in the file system anyway and every round trip costs the main thread.
   */
  writer?: 'worker' | 'threadpool';
  /** 'threadpool' writer: files written at once (default 8). */
  writeConcurrency?: number;
  /**
   * A file write or delete that fails (a full disk, an I/O error) is retried after this delay,
   * doubling per failure of the same RID up to `retryMaxDelayMs` (defaults 100 and 5000 ms).
   */
  retryInitialDelayMs?: number;
  retryMaxDelayMs?: number;
  /**
   * Without a valid snapshot and with more bundle files than this (default 1000), open() indexes
   * the directory from the file names alone and returns; the files are read and checked in the
   * background (see `verified()`). Up to this many, open() reads every file first, as it costs
   * only tens of milliseconds. 0 always defers; Infinity never does.
   */
  deferVerificationAbove?: number;
  /**
   * About how many bytes of bundle text readBundleText / readBundleBytes keep in memory, most
   * recently served first (default 16 MB: every bundle of a 10k cache of ~1 KB bundles; 0 keeps
   * none). A kept text was read and checked against the index; it is served again without
   * touching the disk until its entry is replaced, deleted or pushed out.
   */
  servedTextBytes?: number;
  /**
   * Who reads the files of a deferred verification. 'worker' (default): a thread reads and parses
   * them, this thread only validates the manifests. 'main': synchronous slices on this thread.
   */
  verifier?: 'worker' | 'main';
}

const NO_NAMES: readonly string[] = Object.freeze([]);

const consoleLogger: CacheLogger = {
  warn: (obj, msg) => console.warn(`[koi-net cache] ${msg ?? 'warning'}`, obj),
};

/**
 * rid-lib compatible file cache: one `<base64url(rid)>.json` file per bundle holding
 * `{"manifest": ..., "contents": ...}` (see `cacheFileName` for long RIDs).
 *
 * The directory is indexed once at open, so exists/readManifest/listRids never touch the disk;
 * only read() loads contents. The index assumes this process owns the directory: files another
 * process adds later are not seen until the next open.
 *
 * Writes are write-behind (write-behind.ts): write() and delete() update the index (and, for
 * writes, the pending file text read() serves) synchronously, and the files follow in the
 * background; each promise resolves when that mutation is on disk, sync() waits for everything.
 *
 * Start-up: close() writes the index snapshot (snapshot.ts), which the next open() trusts when the
 * directory's file names match it. Without one (after a crash) a large directory is indexed from
 * the file names and checked in the background (verifier.ts). What can show meanwhile: `size` and
 * `listRids` count/list unverified entries, so a corrupt file may appear in listings for the few
 * seconds until it is verified; `verified()` resolves once none is left. readManifest, exists,
 * read and delete verify an unverified entry on demand first.
 */
export class Cache implements KnowledgeStore {
  readonly writesVisibleAtOnce = true;
  readonly snapshotPath: string;
  private readonly index: KnowledgeIndex;
  private readonly servedTexts: ServedTexts;
  private readonly verifier: Verifier;
  private readonly writeBehind: WriteBehind;
  private readonly snapshot: IndexSnapshot;
  /** `directory` with one trailing separator. */
  private readonly directoryPrefix: string;

  private constructor(
    readonly directory: string,
    private readonly logger: CacheLogger,
    options: CacheOptions,
  ) {
    this.directoryPrefix = directory.endsWith(sep) ? directory : directory + sep;
    const pathOf = (fileName: string): string => cachePath(this.directoryPrefix, fileName);
    this.servedTexts = new ServedTexts(Math.max(0, options.servedTextBytes ?? 16 * 1024 * 1024));
    this.index = new KnowledgeIndex({
      added: (entry) => this.verifier.track(entry),
      gone: (entry) => {
        this.servedTexts.forget(entry);
        this.verifier.untrack(entry);
      },
    });
    this.verifier = new Verifier(this.index, pathOf, logger, options.verifier ?? 'worker');
    const retryInitialDelayMs = Math.max(1, options.retryInitialDelayMs ?? 100);
    this.writeBehind = new WriteBehind(directory, pathOf, this.index, logger, {
      writer: options.writer ?? 'worker',
      writeConcurrency: Math.max(1, Math.floor(options.writeConcurrency ?? 8)),
      retryInitialDelayMs,
      retryMaxDelayMs: Math.max(retryInitialDelayMs, options.retryMaxDelayMs ?? 5000),
    });
    this.snapshot = new IndexSnapshot(directory, options.snapshot ?? true, logger);
    this.snapshotPath = this.snapshot.path;
  }

  /** Creates the directory if needed, removes leftover temp files and indexes every bundle file. */
  static async open(dir: string, options: CacheOptions = {}): Promise<Cache> {
    const directory = resolve(dir);
    try {
      await mkdir(directory, { recursive: true });
    } catch (err) {
      throw new CacheError(`cannot create cache directory ${directory}: ${errorText(err)}`, { cause: err });
    }
    const cache = new Cache(directory, options.logger ?? consoleLogger, options);
    await scanDirectory({
      directory,
      pathOf: (fileName) => cache.pathOf(fileName),
      logger: cache.logger,
      index: cache.index,
      verifier: cache.verifier,
      snapshot: cache.snapshot,
      deferAbove: Math.max(0, options.deferVerificationAbove ?? 1000),
      concurrency: Math.max(0, Math.floor(options.scanConcurrency ?? 0)),
    });
    return cache;
  }

  get size(): number {
    return this.index.size;
  }

  get generation(): number {
    return this.index.generation;
  }

  /** Mutations not yet on disk (queued, being written, or waiting for a retry). */
  get pendingWrites(): number {
    return this.writeBehind.pendingWrites;
  }

  health(): StoreHealth {
    return this.writeBehind.health();
  }

  /** Index entries not yet checked against their file (see the class comment). */
  get unverifiedCount(): number {
    return this.verifier.count;
  }

  /**
   * Resolves once every index entry has been checked against its file (at once unless open()
   * deferred verification), i.e. when size and listRids hold only valid bundles.
   */
  verified(): Promise<void> {
    return this.verifier.verified();
  }

  write(bundle: Bundle): Promise<Bundle> {
    // The snapshot must be gone before any file changes, or a crash would leave it describing
    // a directory it no longer matches (with the same file names, undetectably).
    this.snapshot.invalidateIfLive();
    const key = bundle.rid.toString();
    const fileName = cacheFileName(bundle.rid);
    // Serialized now, as the synchronous cache did: a handler mutating the contents afterwards
    // must not change what gets written. Compact: V8's fast path, several times cheaper than the
    // indented file layout, which the writer makes off this thread (fileText).
    const json = compactBundleJson(bundle);
    const entry = indexEntry(bundle.rid, fileName, bundle.manifest);
    const previous = this.index.get(key);
    this.verifier.unshadow(key);
    // A file indexed under a name that is not the canonical one (written by another
    // implementation or an older normalization) would otherwise shadow-survive a delete.
    const unlinkNames = previous !== undefined && previous.fileName !== fileName ? [previous.fileName] : NO_NAMES;
    this.index.put(entry);
    return this.writeBehind.write(key, entry, json, previous, unlinkNames, bundle);
  }

  async read(rid: RID | string): Promise<Bundle | undefined> {
    const key = ridKey(rid);
    const entry = this.verifier.current(key);
    if (entry === undefined) return undefined;
    const pending = this.writeBehind.pendingText(key, entry);
    // Parsed from the serialized text, as from disk: callers get their own copy of the contents.
    if (pending !== undefined) return parseBundleFile(pending);
    const text = this.readEntryFile(key, entry);
    if (text === undefined) return undefined;
    try {
      const bundle = parseBundleFile(text);
      if (bundle.rid.toString() !== key) {
        throw new Error(`file holds the bundle of ${bundle.rid.toString()}`);
      }
      return bundle;
    } catch (err) {
      this.invalidFile(key, entry, err);
      return undefined;
    }
  }

  /**
   * The bundle's file text when it is exactly the wire form (`{manifest, contents}`, the
   * manifest the index holds), else the bundle re-serialized as read() would return it. Parsed
   * either way, so a corrupt or foreign file is dropped from the index as read() drops it and
   * never reaches a caller.
   */
  readBundleText(rid: RID | string): string | undefined {
    const served = this.servedBundle(rid);
    return typeof served === 'string' || served === undefined ? served : served.toString('utf8');
  }

  /**
   * readBundleText as UTF-8 bytes: what the server sends, so an answer of many bundles is one
   * copy of kept buffers rather than a string built and encoded again on every request.
   */
  readBundleBytes(rid: RID | string): Buffer | undefined {
    const served = this.servedBundle(rid);
    return typeof served === 'string' ? Buffer.from(served) : served;
  }

  /** The served form of readBundleText: a pending write's text, else the file's checked bytes (kept). */
  private servedBundle(rid: RID | string): string | Buffer | undefined {
    // A string that is an index key is a normalized RID already: no parse (a second hash-table
    // lookup of a cold string per bundle, ~0.4 µs at 10k cached).
    const key = typeof rid === 'string' && this.index.get(rid) !== undefined ? rid : ridKey(rid);
    const entry = this.verifier.current(key);
    if (entry === undefined) return undefined;
    // Serialized by write() from a valid Bundle.
    const pending = this.writeBehind.pendingText(key, entry);
    if (pending !== undefined) return pending;
    const kept = this.servedTexts.get(entry);
    if (kept !== undefined) return kept;
    const bytes = this.readEntry(key, entry, readSmallFile);
    if (bytes === undefined) return undefined;
    const text = bytes.toString('utf8');
    let served: Buffer;
    try {
      const checked = checkedBundleText(text, key, entry.manifest);
      served = checked === text ? bytes : Buffer.from(checked);
    } catch (err) {
      this.invalidFile(key, entry, err);
      return undefined;
    }
    this.servedTexts.keep(entry, served);
    return served;
  }

  readManifest(rid: RID | string): Manifest | undefined {
    return this.verifier.current(ridKey(rid))?.manifest;
  }

  exists(rid: RID | string): boolean {
    return this.verifier.current(ridKey(rid)) !== undefined;
  }

  delete(rid: RID | string): Promise<boolean> {
    const key = ridKey(rid);
    // Verified first: deleting a file that never held a valid bundle deletes nothing, as after a full scan.
    const entry = this.verifier.current(key);
    if (entry === undefined) return Promise.resolve(false);
    this.verifier.unshadow(key);
    this.snapshot.invalidateIfLive();
    this.index.remove(key);
    return this.writeBehind.delete(key, entry).then(() => true);
  }

  listRids(ridTypes?: Iterable<RIDType | string>): RID[] {
    return this.index.listRids(ridTypes);
  }

  listManifests(ridTypes?: Iterable<RIDType | string>): Manifest[] {
    const out: Manifest[] = [];
    // Keys first: verifying an unchecked entry may remove it from the index meanwhile.
    for (const rid of this.index.listRids(ridTypes)) {
      const manifest = this.verifier.current(rid.toString())?.manifest;
      if (manifest !== undefined) out.push(manifest);
    }
    return out;
  }

  /** Removes the directory, as rid-lib does; the next write creates it again. */
  async drop(): Promise<void> {
    // Pending files would land in (or recreate) the directory after the rm; drop them instead.
    this.writeBehind.discardQueued();
    await this.sync().catch(() => undefined);
    this.snapshot.invalidate();
    try {
      await rm(this.directory, { recursive: true, force: true });
    } catch (err) {
      throw new CacheError(`cannot remove cache directory ${this.directory}: ${errorText(err)}`, { cause: err });
    }
    this.index.clear();
    this.servedTexts.clear();
    this.verifier.clear();
  }

  sync(): Promise<void> {
    return this.writeBehind.sync();
  }

  /**
   * sync(), then writes the index snapshot so the next open() need not read every file. Without
   * a clean close (a crash) there is no valid snapshot and the next open scans. The cache stays
   * usable: a later mutation deletes the snapshot again first, and starts the threads it needs.
   */
  async close(): Promise<void> {
    // The snapshot must only hold manifests read from the files.
    await this.verified();
    try {
      await this.sync();
    } catch (err) {
      // Closing a store that cannot write: stop retrying; whoever acknowledged the data keeps it
      // (the node's inbox replays what its checkpoint did not pass).
      this.writeBehind.stopRetrying();
      throw err;
    }
    // A failed write can put an unverified entry back; rare, so checked right here.
    this.verifier.verifyAll();
    // Idle now; a later write starts a new thread.
    await stopAll([this.verifier, this.writeBehind]);
    // No file operation may start while the snapshot is written (see IndexSnapshot.save).
    this.writeBehind.pause();
    try {
      await this.snapshot.save(this.index.values());
    } finally {
      this.writeBehind.resume();
    }
  }

  private pathOf(fileName: string): string {
    return cachePath(this.directoryPrefix, fileName);
  }

  /** The file of `entry`; undefined (and the entry forgotten) when it vanished. */
  private readEntryFile(key: string, entry: IndexEntry): string | undefined {
    return this.readEntry(key, entry, readSmallTextFile);
  }

  private readEntry<T>(key: string, entry: IndexEntry, readFile: (path: string) => T): T | undefined {
    try {
      // Synchronous: a ~1 KB read costs less than the thread-pool hops of the async one, and
      // fetch_bundles of 100 RIDs went from ~25 ms to a few.
      return readFile(this.pathOf(entry.fileName));
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') {
        throw new CacheError(`cannot read cache file ${entry.fileName}: ${errorText(err)}`, { cause: err });
      }
      this.logger.warn({ rid: key, file: entry.fileName }, 'cache file vanished; dropping it from the index');
      this.index.removeIfCurrent(key, entry);
      return undefined;
    }
  }

  private invalidFile(key: string, entry: IndexEntry, err: unknown): void {
    this.logger.warn(
      { rid: key, file: entry.fileName, err: errorText(err) },
      'cache file is no longer a valid bundle; dropping it from the index',
    );
    this.index.removeIfCurrent(key, entry);
  }
}
