import {
  closeSync,
  mkdirSync,
  openSync,
  readSync,
  readFile as readFileCallback,
  readFileSync,
  readdirSync,
  rename as renameCallback,
  unlink as unlinkCallback,
  unlinkSync,
  writeFile as writeFileCallback,
  writeFileSync,
  renameSync,
} from 'node:fs';
import { mkdir, readdir, rm, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { Worker } from 'node:worker_threads';
import { RID, RIDType } from '../rid/index.ts';
import { Bundle, Manifest, isJsonObject } from '../knowledge/index.ts';
import { CacheError } from '../errors.ts';
import { cacheFileName, ridFromCacheFileName, MAX_FILE_NAME_BYTES } from './file-name.ts';
import { errorCode, errorText } from '../util/error-text.ts';

/**
 * What the rest of the node needs from a bundle store. The lookups are synchronous because they
 * are answered from memory (the processor asks "is it cached, with which manifest" for every
 * kobj); only bundle reads and mutations go to storage.
 */
export interface KnowledgeStore {
  /** Number of cached bundles. */
  readonly size: number;
  /**
   * True when write() and delete() change what read/exists/readManifest/listRids answer before
   * they return, so their promises only report persistence. The processor then does not wait
   * for each file and relies on sync() for durability.
   */
  readonly writesVisibleAtOnce?: boolean;
  /** Stores (replaces) the bundle of `bundle.rid`; resolves once it is persisted. */
  write(bundle: Bundle): Promise<Bundle>;
  /** The cached bundle, or undefined when there is none (or it can no longer be read). */
  read(rid: RID | string): Promise<Bundle | undefined>;
  readManifest(rid: RID | string): Manifest | undefined;
  exists(rid: RID | string): boolean;
  /** True when something was deleted; resolves once the deletion is persisted. */
  delete(rid: RID | string): Promise<boolean>;
  /** RIDs of the given types; every RID when `ridTypes` is absent or empty. */
  listRids(ridTypes?: Iterable<RIDType | string>): RID[];
  /**
   * Changes whenever what listRids, readManifest or exists answer may have changed (a write,
   * delete, drop or verification). Lets readers keep answers derived from the index, such as
   * serialized listings, until it moves. Absent: the store offers no such signal.
   */
  readonly generation?: number;
  /** The manifests of listRids(ridTypes), from memory. */
  listManifests?(ridTypes?: Iterable<RIDType | string>): Manifest[];
  /**
   * The cached bundle as JSON text (its wire form, possibly indented), checked as read() checks
   * it; undefined where read() would answer undefined. Spares parsing into a Bundle and
   * serializing it again when the bundle is only passed on.
   */
  readBundleText?(rid: RID | string): string | undefined;
  /** Removes every bundle. */
  drop(): Promise<void>;
  /**
   * Whether the store keeps up: 'degraded' while some write or delete has failed and is being
   * retried (what it holds is still served, from memory, but not yet on disk).
   */
  health?(): StoreHealth;
  /**
   * Resolves when every write and delete called before it is persisted; rejects (CacheError) if
   * one of them failed and no later write or delete of the same RID has succeeded since.
   */
  sync?(): Promise<void>;
  /** sync(), then release resources (the file cache also saves its index snapshot). */
  close?(): Promise<void>;
}

export interface StoreHealth {
  status: 'ok' | 'degraded';
  /** Mutations not yet on disk: queued, being written, or failed and waiting for their retry. */
  pendingWrites: number;
  /** While degraded: the last write error. */
  lastError?: string;
}

/** The logging calls the cache makes; the project's Logger (pino) satisfies it. */
export interface CacheLogger {
  warn(obj: object, msg?: string): void;
  /** Recovery after failures; falls back to warn when absent. */
  info?(obj: object, msg?: string): void;
  /** Background write failures; falls back to warn when absent. */
  error?(obj: object, msg?: string): void;
}

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
   * About how many bytes of bundle text readBundleText keeps in memory, most recently served
   * first (default 8 MB, ~7k bundles of 1 KB; 0 keeps none). A kept text was read and checked
   * against the index; it is served again without touching the disk until its entry is replaced,
   * deleted or pushed out.
   */
  servedTextBytes?: number;
  /**
   * Who reads the files of a deferred verification. 'worker' (default): a thread reads and parses
   * them, this thread only validates the manifests. 'main': synchronous slices on this thread.
   */
  verifier?: 'worker' | 'main';
}

interface IndexEntry {
  rid: RID;
  fileName: string;
  type: string;
  /**
   * undefined: unverified, indexed from its file name only; the file has not been read yet and
   * may not hold a valid bundle (of this RID). Set in place once it has been read.
   */
  manifest: Manifest | undefined;
}

/** What the verifier thread reports per file: the raw manifest, or why the file is unusable. */
type VerifierResult = { manifest: unknown } | { error: string };

interface VerifierAnswer {
  id: number;
  results: VerifierResult[];
}

/**
 * A mutation the index already shows but the disk does not yet. `diskEntry` is what the disk held
 * before the first unpersisted mutation of the RID, so a failure can put the index back to it.
 */
type PendingOp = (
  | {
      kind: 'write';
      seq: number;
      key: string;
      entry: IndexEntry;
      /** The bundle as compact JSON; the writer lays it out as the file (see fileText). */
      json: string;
      unlink: string[];
      diskEntry: IndexEntry | undefined;
    }
  | { kind: 'delete'; seq: number; key: string; unlink: string[]; diskEntry: IndexEntry | undefined }
) & {
  /** A retry of a failed op: not started before this time (epoch ms). */
  notBefore?: number;
  /** The op is a retry (nobody awaits it; sync() reports its failure through `failed`). */
  retry?: boolean;
};
// diskEntry is reassigned when an earlier op of the RID fails (the disk then kept the older state).

interface Settlers {
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface SyncWaiter extends Settlers {
  /** Every op with seq <= upTo must be settled. */
  upTo: number;
}

const consoleLogger: CacheLogger = {
  warn: (obj, msg) => console.warn(`[koi-net cache] ${msg ?? 'warning'}`, obj),
};

/** Temp files of an interrupted write: `<name>.tmp-<pid>-<counter>`. */
const TEMP_FILE = /\.tmp-\d+-\d+$/;

let tempCounter = 0;

/**
 * The callback readFile, promisified: fs/promises' readFile takes more thread-pool round trips and
 * indexed 20k files about 1.5x slower.
 */
const readFileAsync = promisify(readFileCallback);

/** Files read synchronously between two yields to the event loop during the start-up scan. */
const SCAN_SLICE = 256;

const SNAPSHOT_VERSION = 2;

/** Files per message to the writer thread, and messages out at once. */
const WORKER_BATCH_SIZE = 256;
const WORKER_BATCHES_IN_FLIGHT = 2;

/** One file operation for the writer thread: write `text` to `temp` and rename it to `path`, then unlink. */
interface WorkerOp {
  temp?: string;
  path?: string;
  /** Compact JSON of the bundle; the thread lays it out as the file. */
  json?: string;
  unlink: string[];
}

/** The writer thread's answer: per op, null or the error message. */
interface WorkerAnswer {
  id: number;
  results: (string | null)[];
}

/**
 * The writer thread. Synchronous calls are the cheapest way to do a small file (one syscall
 * each, no round trips), and here they block only this thread. Order within a batch is kept.
 */
const WRITER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
parentPort.on('message', ({ id, directory, ops }) => {
  const results = [];
  for (const op of ops) {
    try {
      if (op.json !== undefined) {
        // The file layout (fileText in cache.ts), made here so the main thread only pays for the
        // compact JSON: parse + stringify gives back the same keys, order and values.
        const text = JSON.stringify(JSON.parse(op.json), null, 2);
        try {
          try {
            fs.writeFileSync(op.temp, text, 'utf8');
          } catch (err) {
            if (err.code !== 'ENOENT') throw err;
            fs.mkdirSync(directory, { recursive: true });
            fs.writeFileSync(op.temp, text, 'utf8');
          }
          fs.renameSync(op.temp, op.path);
        } catch (err) {
          try { fs.unlinkSync(op.temp); } catch {}
          throw err;
        }
      }
      for (const path of op.unlink) {
        try { fs.unlinkSync(path); } catch (err) { if (err.code !== 'ENOENT') throw err; }
      }
      results.push(null);
    } catch (err) {
      results.push(err && err.message ? err.message : String(err));
    }
  }
  parentPort.postMessage({ id, results });
});
`;

/** Files per message to the verifier thread, and messages out at once. */
const VERIFY_BATCH_SIZE = 256;
const VERIFY_BATCHES_IN_FLIGHT = 2;

/**
 * The verifier thread: read + JSON.parse are most of the cost of checking a file, and here they
 * run beside the main thread. The checks mirror parseBundleFile's; Manifest.fromJSON stays on the
 * main thread, so both paths validate manifests with the same code.
 */
const VERIFIER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
parentPort.on('message', ({ id, paths }) => {
  const results = [];
  for (const path of paths) {
    try {
      const json = JSON.parse(fs.readFileSync(path, 'utf8'));
      if (!isObject(json)) throw new Error('not a JSON object');
      if (!isObject(json.contents)) throw new Error('contents is missing or not a JSON object');
      results.push({ manifest: json.manifest });
    } catch (err) {
      results.push({ error: err && err.message ? err.message : String(err) });
    }
  }
  parentPort.postMessage({ id, results });
});
`;

/** Version 1 rows: [fileName, rid, timestamp, sha256_hash]. Still read, never written. */
type SnapshotRowV1 = [string, string, string, string];

/**
 * Version 2: one array per column instead of an array per entry (100k small arrays were most of
 * the parse's garbage), plus each timestamp in microseconds so open() does not parse 100k dates.
 */
interface SnapshotV2 {
  version: 2;
  directory: string;
  files: string[];
  rids: string[];
  timestamps: string[];
  hashes: string[];
  micros: number[];
  ignored: string[];
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

/**
 * rid-lib compatible file cache: one `<base64url(rid)>.json` file per bundle holding
 * `{"manifest": ..., "contents": ...}` (see `cacheFileName` for long RIDs).
 *
 * The directory is indexed once at open, so exists/readManifest/listRids never touch the disk;
 * only read() loads contents. The index assumes this process owns the directory: files another
 * process adds later are not seen until the next open.
 *
 * Writes are write-behind: write() and delete() update the index (and, for writes, a map of
 * pending file texts that read() serves) synchronously, and a background writer persists them
 * with temp file + rename on the libuv thread pool, several at a time, so the disk work overlaps
 * with the processing of the next knowledge. Mutations of one RID reach the disk in call order;
 * repeated writes of an RID not yet started are coalesced into the last one. The promise of each
 * write()/delete() resolves when that mutation is on disk (or superseded by a later one of the same
 * RID that is); sync() waits for everything so far.
 *
 * Start-up snapshot: close() writes every index entry to `snapshotPathFor(directory)`, and the
 * first mutation after open (or after close) deletes it before any file changes. open() trusts a
 * snapshot whose set of file names equals the directory's (one readdir, no file reads), reads only
 * the files that differ otherwise, and scans everything without one (e.g. after a crash).
 * Limitation: a file that another process rewrote in place while no node had the cache open is
 * not detected (same name, so the snapshot's manifest is served until the next write of that RID).
 *
 * Start-up without a snapshot (after a crash), large directory: reading 100k files took seconds,
 * so open() instead indexes each canonically named file under the RID its name encodes, marked
 * unverified, and returns (files with any other name, e.g. `~<sha256>` long-RID files, are read
 * at once: their name does not say which RID they hold). A background verifier then reads every
 * unverified file and fills in its manifest, or drops the entry with the same warning the full
 * scan gives when the file is not a valid bundle of that RID. readManifest, exists, read and
 * delete verify an unverified entry on demand first, so no caller sees a manifest (or existence)
 * the disk does not back. What can show: `size` and `listRids` count/list unverified entries, so
 * a corrupt file may appear in listings for the few seconds until it is verified; `verified()`
 * resolves once none is left. A write or delete replaces the entry, and the verifier's result for
 * a replaced entry is discarded, so it never overwrites a newer mutation with the old file.
 */
export class Cache implements KnowledgeStore {
  readonly writesVisibleAtOnce = true;
  readonly snapshotPath: string;
  private readonly index = new Map<string, IndexEntry>();
  private readonly byType = new Map<string, Set<string>>();
  /** Mutations not yet started, at most one per RID (coalesced). */
  private readonly queued = new Map<string, PendingOp>();
  /** Mutations being written, by RID; a queued op of the same RID waits for it. */
  private readonly inflight = new Map<string, PendingOp>();
  /** Seqs of ops not yet settled; a Set iterates in insertion (= seq) order, so the first is the oldest. */
  private readonly outstanding = new Set<number>();
  /** Promise settlers of each op, including the ops coalesced into it. */
  private readonly settlers = new Map<number, Settlers[]>();
  private syncWaiters: SyncWaiter[] = [];
  /** RIDs whose last persisted attempt failed, with the seq of that attempt and the failures in a row. */
  private readonly failed = new Map<string, { seq: number; error: CacheError; attempts: number }>();
  /** RIDs whose failed op is queued (or being written) again as a retry. */
  private readonly retrying = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryTimerAt = Infinity;
  private readonly retryInitialDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private lastError: string | undefined;
  private opSeq = 0;
  private writing = 0;
  private pumpScheduled = false;
  /** A snapshot file may exist and describe the disk; the next mutation must delete it first. */
  private snapshotLive: boolean;
  private readonly useSnapshot: boolean;
  private readonly writeConcurrency: number;
  private readonly writerKind: 'worker' | 'threadpool';
  private worker: Worker | undefined;
  /** Batches sent to the worker and not yet answered, by batch id. */
  private readonly batches = new Map<number, PendingOp[]>();
  private batchId = 0;
  /** Index entries whose file has not been read yet (each is the current entry of its RID). */
  private readonly unverified = new Set<IndexEntry>();
  /** Unverified entries in the order to verify; may hold stale ones, skipped when taken. */
  private verifyQueue: IndexEntry[] = [];
  private verifyCursor = 0;
  private verifiedWaiters: (() => void)[] = [];
  private readonly verifierKind: 'worker' | 'main';
  private verifierThread: Worker | undefined;
  private readonly verifyBatches = new Map<number, IndexEntry[]>();
  private verifyBatchId = 0;
  private mainVerifyScheduled = false;
  /**
   * A file read at open whose RID an unverified canonically named file also claims: the full scan
   * would prefer the canonical one, and uses this one only if the canonical file is not valid.
   */
  private readonly shadowed = new Map<string, IndexEntry>();
  private readonly deferAbove: number;
  private generationCount = 0;
  /** Texts readBundleText served, by the index entry they belong to, least recently served first. */
  private readonly servedTexts = new Map<IndexEntry, string>();
  private servedTextLength = 0;
  private readonly servedTextBudget: number;
  /** `directory` with one trailing separator. */
  private readonly directoryPrefix: string;

  private constructor(
    readonly directory: string,
    private readonly logger: CacheLogger,
    options: CacheOptions,
  ) {
    this.snapshotPath = snapshotPathFor(directory);
    this.directoryPrefix = directory.endsWith(sep) ? directory : directory + sep;
    this.useSnapshot = options.snapshot ?? true;
    // Assume one may exist until open() knows; deleting a missing file is cheap.
    this.snapshotLive = this.useSnapshot;
    this.writeConcurrency = Math.max(1, Math.floor(options.writeConcurrency ?? 8));
    this.writerKind = options.writer ?? 'worker';
    this.verifierKind = options.verifier ?? 'worker';
    this.deferAbove = Math.max(0, options.deferVerificationAbove ?? 1000);
    this.servedTextBudget = Math.max(0, options.servedTextBytes ?? 8 * 1024 * 1024);
    this.retryInitialDelayMs = Math.max(1, options.retryInitialDelayMs ?? 100);
    this.retryMaxDelayMs = Math.max(this.retryInitialDelayMs, options.retryMaxDelayMs ?? 5000);
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
    await cache.scan(Math.max(0, Math.floor(options.scanConcurrency ?? 0)));
    return cache;
  }

  get size(): number {
    return this.index.size;
  }

  get generation(): number {
    return this.generationCount;
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

  /** Index entries not yet checked against their file (see the class comment). */
  get unverifiedCount(): number {
    return this.unverified.size;
  }

  /**
   * Resolves once every index entry has been checked against its file (at once unless open()
   * deferred verification), i.e. when size and listRids hold only valid bundles.
   */
  verified(): Promise<void> {
    if (this.unverified.size === 0) return Promise.resolve();
    return new Promise((res) => this.verifiedWaiters.push(res));
  }

  write(bundle: Bundle): Promise<Bundle> {
    // The snapshot must be gone before any file changes, or a crash would leave it describing
    // a directory it no longer matches (with the same file names, undetectably).
    if (this.snapshotLive) this.invalidateSnapshot();
    const key = bundle.rid.toString();
    const fileName = cacheFileName(bundle.rid);
    // Serialized now, as the synchronous cache did: a handler mutating the contents afterwards
    // must not change what gets written. Compact: V8's fast path, several times cheaper than the
    // indented file layout, which the writer makes off this thread (fileText).
    const json = JSON.stringify(bundle.toJSON());
    const entry: IndexEntry = { rid: bundle.rid, fileName, type: bundle.rid.type.toString(), manifest: bundle.manifest };
    const previous = this.index.get(key);
    // The losing copy stays on disk, as after a full scan; it is just no longer a fallback.
    this.shadowed.delete(key);
    // A file indexed under a name that is not the canonical one (written by another
    // implementation or an older normalization) would otherwise shadow-survive a delete.
    const unlinkNames = previous !== undefined && previous.fileName !== fileName ? [previous.fileName] : [];
    this.indexPut(entry);
    return this.enqueue(key, previous, (seq, diskEntry, carried) => ({
      kind: 'write',
      seq,
      key,
      entry,
      json,
      unlink: mergeNames(carried, unlinkNames),
      diskEntry,
    })).then(() => bundle);
  }

  async read(rid: RID | string): Promise<Bundle | undefined> {
    const key = ridKey(rid);
    const entry = this.current(key);
    if (entry === undefined) return undefined;
    const pending = this.pendingWrite(key, entry);
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
    const key = ridKey(rid);
    const entry = this.current(key);
    if (entry === undefined) return undefined;
    // Serialized by write() from a valid Bundle.
    const pending = this.pendingWrite(key, entry);
    if (pending !== undefined) return pending;
    const kept = this.servedTexts.get(entry);
    if (kept !== undefined) {
      this.servedTexts.delete(entry);
      this.servedTexts.set(entry, kept);
      return kept;
    }
    const text = this.readEntryFile(key, entry);
    if (text === undefined) return undefined;
    let checked: string;
    try {
      checked = checkedBundleText(text, key, entry.manifest);
    } catch (err) {
      this.invalidFile(key, entry, err);
      return undefined;
    }
    this.keepServedText(entry, checked);
    return checked;
  }

  private keepServedText(entry: IndexEntry, text: string): void {
    // One text may take at most an eighth of the budget, so a few large bundles cannot flush it.
    if (text.length > this.servedTextBudget / 8) return;
    this.servedTexts.set(entry, text);
    this.servedTextLength += text.length;
    for (const [oldest, oldText] of this.servedTexts) {
      if (this.servedTextLength <= this.servedTextBudget) break;
      this.servedTexts.delete(oldest);
      this.servedTextLength -= oldText.length;
    }
  }

  /** The entry left the index: its kept text can never be served again. */
  private forgetServedText(entry: IndexEntry): void {
    const text = this.servedTexts.get(entry);
    if (text === undefined) return;
    this.servedTexts.delete(entry);
    this.servedTextLength -= text.length;
  }

  /** The text a write of `entry` has not yet put on disk, if that write is what the index shows. */
  private pendingWrite(key: string, entry: IndexEntry): string | undefined {
    const pending = this.queued.get(key) ?? this.inflight.get(key);
    return pending !== undefined && pending.kind === 'write' && pending.entry === entry ? pending.json : undefined;
  }

  /** The file of `entry`; undefined (and the entry forgotten) when it vanished. */
  private readEntryFile(key: string, entry: IndexEntry): string | undefined {
    try {
      // Synchronous: a ~1 KB read costs less than the thread-pool hops of the async one, and
      // fetch_bundles of 100 RIDs went from ~25 ms to a few.
      return readSmallTextFile(this.pathOf(entry.fileName));
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') {
        throw new CacheError(`cannot read cache file ${entry.fileName}: ${errorText(err)}`, { cause: err });
      }
      this.logger.warn({ rid: key, file: entry.fileName }, 'cache file vanished; dropping it from the index');
      this.forgetIfCurrent(key, entry);
      return undefined;
    }
  }

  private invalidFile(key: string, entry: IndexEntry, err: unknown): void {
    this.logger.warn(
      { rid: key, file: entry.fileName, err: errorText(err) },
      'cache file is no longer a valid bundle; dropping it from the index',
    );
    this.forgetIfCurrent(key, entry);
  }

  readManifest(rid: RID | string): Manifest | undefined {
    return this.current(ridKey(rid))?.manifest;
  }

  exists(rid: RID | string): boolean {
    return this.current(ridKey(rid)) !== undefined;
  }

  delete(rid: RID | string): Promise<boolean> {
    const key = ridKey(rid);
    // Verified first: deleting a file that never held a valid bundle deletes nothing, as after a full scan.
    const entry = this.current(key);
    if (entry === undefined) return Promise.resolve(false);
    this.shadowed.delete(key);
    if (this.snapshotLive) this.invalidateSnapshot();
    this.indexRemove(key);
    return this.enqueue(key, entry, (seq, diskEntry, carried) => ({
      kind: 'delete',
      seq,
      key,
      unlink: mergeNames(carried, [entry.fileName]),
      diskEntry,
    })).then(() => true);
  }

  listRids(ridTypes?: Iterable<RIDType | string>): RID[] {
    const types = ridTypes === undefined ? [] : [...ridTypes].map((t) => RIDType.of(t).toString());
    if (types.length === 0) return [...this.index.values()].map((e) => e.rid);
    const out: RID[] = [];
    for (const type of new Set(types)) {
      for (const key of this.byType.get(type) ?? []) {
        const entry = this.index.get(key);
        if (entry !== undefined) out.push(entry.rid);
      }
    }
    return out;
  }

  listManifests(ridTypes?: Iterable<RIDType | string>): Manifest[] {
    const out: Manifest[] = [];
    // Keys first: verifying an unchecked entry may remove it from the index meanwhile.
    for (const rid of this.listRids(ridTypes)) {
      const manifest = this.current(rid.toString())?.manifest;
      if (manifest !== undefined) out.push(manifest);
    }
    return out;
  }

  /** Removes the directory, as rid-lib does; the next write creates it again. */
  async drop(): Promise<void> {
    // Pending files would land in (or recreate) the directory after the rm; drop them instead.
    for (const op of this.queued.values()) this.settle(op, undefined);
    this.queued.clear();
    this.failed.clear();
    this.retrying.clear();
    await this.sync().catch(() => undefined);
    this.invalidateSnapshot();
    try {
      await rm(this.directory, { recursive: true, force: true });
    } catch (err) {
      throw new CacheError(`cannot remove cache directory ${this.directory}: ${errorText(err)}`, { cause: err });
    }
    this.index.clear();
    this.byType.clear();
    this.generationCount++;
    this.servedTexts.clear();
    this.servedTextLength = 0;
    this.shadowed.clear();
    this.clearUnverified();
  }

  sync(): Promise<void> {
    const upTo = this.opSeq;
    const oldest = this.oldestOutstanding();
    if (oldest === undefined || oldest > upTo) return this.failureUpTo(upTo);
    return new Promise((res, rej) => this.syncWaiters.push({ upTo, resolve: res, reject: rej }));
  }

  /**
   * sync(), then writes the index snapshot so the next open() need not read every file. Without
   * a clean close (a crash) there is no valid snapshot and the next open scans. The cache stays
   * usable: a later mutation deletes the snapshot again first.
   */
  async close(): Promise<void> {
    // The snapshot must only hold manifests read from the files.
    await this.verified();
    try {
      await this.sync();
    } catch (err) {
      // Closing a store that cannot write: stop retrying; whoever acknowledged the data keeps it
      // (the node's inbox replays what its checkpoint did not pass).
      if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.retryTimerAt = Infinity;
      throw err;
    }
    // A failed write can put an unverified entry back; rare, so checked right here.
    for (const entry of [...this.unverified]) this.verifyNow(entry);
    // Idle now; a later write starts a new one.
    const worker = this.worker;
    this.worker = undefined;
    if (worker !== undefined) await worker.terminate();
    await this.stopVerifier();
    if (!this.useSnapshot) return;
    const snapshot: SnapshotV2 = { version: SNAPSHOT_VERSION, directory: this.directory, files: [], rids: [], timestamps: [], hashes: [], micros: [], ignored: [] };
    const indexed = new Set<string>();
    for (const e of this.index.values()) {
      if (e.manifest === undefined) continue;
      snapshot.files.push(e.fileName);
      snapshot.rids.push(e.rid.toString());
      snapshot.timestamps.push(e.manifest.timestamp);
      snapshot.hashes.push(e.manifest.sha256Hash);
      snapshot.micros.push(e.manifest.timeMicros);
      indexed.add(e.fileName);
    }
    const temp = `${this.snapshotPath}.tmp-${process.pid}-${++tempCounter}`;
    try {
      // Bundle files the index does not use (invalid, or the losing copy of a duplicated RID) are
      // listed too, so that next time the name sets match and the scan would skip them anyway.
      snapshot.ignored = readdirSync(this.directory, { withFileTypes: true })
        .filter((d) => d.isFile() && d.name.endsWith('.json') && !TEMP_FILE.test(d.name) && !indexed.has(d.name))
        .map((d) => d.name);
      const text = JSON.stringify(snapshot);
      writeFileSync(temp, text, 'utf8');
      renameSync(temp, this.snapshotPath);
      this.snapshotLive = true;
    } catch (err) {
      try {
        unlinkSync(temp);
      } catch {
        // Nothing to clean up.
      }
      // Only a slower next start: it scans.
      this.logger.warn({ file: this.snapshotPath, err: errorText(err) }, 'cannot write the cache index snapshot');
    }
  }

  // --- write-behind internals ---

  /**
   * Queues the mutation of `key`, coalescing it with a queued (not yet started) one: the disk
   * state before that one stays the revert point, and its file-name cleanups are carried over.
   */
  private enqueue(
    key: string,
    /** The index entry before this mutation: with nothing pending for the RID, the disk state. */
    indexBefore: IndexEntry | undefined,
    make: (seq: number, diskEntry: IndexEntry | undefined, carried: readonly string[]) => PendingOp,
  ): Promise<void> {
    const seq = ++this.opSeq;
    const waiting = this.queued.get(key);
    const running = this.inflight.get(key);
    let diskEntry: IndexEntry | undefined;
    let carried: readonly string[] = [];
    let settlers: Settlers[] = [];
    if (waiting !== undefined) {
      // A queued retry is superseded: the new op carries its file-name cleanups and is awaited.
      this.retrying.delete(key);
      diskEntry = waiting.diskEntry;
      carried = waiting.unlink;
      this.outstanding.delete(waiting.seq);
      settlers = this.settlers.get(waiting.seq) ?? [];
      this.settlers.delete(waiting.seq);
    } else if (running !== undefined) {
      // What the disk holds once the running op is done (the revert point if ours fails).
      diskEntry = running.kind === 'write' ? running.entry : undefined;
    } else {
      diskEntry = indexBefore;
    }
    const op = make(seq, diskEntry, carried);
    // A write whose name equals one to unlink must not delete its own file after the rename.
    if (op.kind === 'write') op.unlink = op.unlink.filter((n) => n !== op.entry.fileName);
    this.queued.delete(key);
    this.queued.set(key, op);
    this.outstanding.add(seq);
    const done = new Promise<void>((res, rej) => settlers.push({ resolve: res, reject: rej }));
    this.settlers.set(seq, settlers);
    this.schedulePump();
    return done;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // After the current task: mutations made in one go (a batch of kobjs) coalesce first.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.writerKind === 'worker') return this.pumpWorker();
    if (this.queued.size === 0 || this.writing >= this.writeConcurrency) return;
    const now = Date.now();
    for (const [key, op] of this.queued) {
      if (this.writing >= this.writeConcurrency) break;
      if (this.inflight.has(key) || !this.due(op, now)) continue;
      this.queued.delete(key);
      this.inflight.set(key, op);
      this.writing++;
      this.persist(op, (err) => {
        this.writing--;
        this.inflight.delete(key);
        this.finish(op, err, true);
        this.pump();
      });
    }
  }

  /**
   * Sends queued ops to the writer thread in batches. Two batches may be out at once, so the
   * worker starts the next while this thread handles the answer to the last.
   */
  private pumpWorker(): void {
    const now = Date.now();
    while (this.queued.size > 0 && this.batches.size < WORKER_BATCHES_IN_FLIGHT) {
      const ops: PendingOp[] = [];
      const messages: WorkerOp[] = [];
      for (const [key, op] of this.queued) {
        if (ops.length >= WORKER_BATCH_SIZE) break;
        if (this.inflight.has(key) || !this.due(op, now)) continue;
        let message: WorkerOp;
        try {
          message = this.workerOp(op);
        } catch (err) {
          this.queued.delete(key);
          this.finish(op, err instanceof CacheError ? err : new CacheError(errorText(err)));
          continue;
        }
        this.queued.delete(key);
        this.inflight.set(key, op);
        ops.push(op);
        messages.push(message);
      }
      if (ops.length === 0) return;
      const id = ++this.batchId;
      this.batches.set(id, ops);
      const worker = this.startWorker();
      worker.ref();
      worker.postMessage({ id, directory: this.directory, ops: messages });
    }
  }

  private workerOp(op: PendingOp): WorkerOp {
    const unlinkPaths = op.unlink.map((n) => this.pathOf(n));
    if (op.kind === 'delete') return { unlink: unlinkPaths };
    const fileName = op.entry.fileName;
    const suffix = `.tmp-${process.pid}-${++tempCounter}`;
    return {
      temp: this.pathOf(fileName.slice(0, MAX_FILE_NAME_BYTES - suffix.length) + suffix),
      path: this.pathOf(fileName),
      json: op.json,
      unlink: unlinkPaths,
    };
  }

  private startWorker(): Worker {
    if (this.worker !== undefined) return this.worker;
    // Plain JavaScript evaluated in the thread: no TypeScript loader to start (execArgv: []).
    const worker = new Worker(WRITER_SOURCE, { eval: true, execArgv: [] });
    worker.on('message', (raw: unknown) => {
      const { id, results } = raw as WorkerAnswer;
      const ops = this.batches.get(id);
      if (ops === undefined) return;
      this.batches.delete(id);
      ops.forEach((op, i) => {
        this.inflight.delete(op.key);
        const failure = results[i];
        this.finish(op, failure == null ? undefined : new CacheError(`cannot write cache file for ${op.key}: ${failure}`), true);
      });
      // Nothing out: the thread must not keep an otherwise finished process alive.
      if (this.batches.size === 0) worker.unref();
      this.pump();
    });
    worker.on('error', (err: unknown) => this.workerDied(worker, err));
    worker.on('exit', (code) => this.workerDied(worker, new Error(`cache writer thread exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  /** The batches it had are unknown on disk: failed, so the index goes back and sync() rejects. */
  private workerDied(worker: Worker, err: unknown): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const lost = [...this.batches.values()].flat();
    this.batches.clear();
    for (const op of lost) {
      this.inflight.delete(op.key);
      this.finish(op, new CacheError(`cache writer thread failed: ${errorText(err)}`, { cause: err }), true);
    }
    this.pump();
  }

  /** Runs one op on the thread pool: temp file + rename, or unlink; then its stale names. */
  private persist(op: PendingOp, done: (err: CacheError | undefined) => void): void {
    const unlinkRest = (names: readonly string[], i: number): void => {
      if (i >= names.length) return done(undefined);
      let path: string;
      try {
        path = this.pathOf(names[i]!);
      } catch (err) {
        return done(err instanceof CacheError ? err : new CacheError(errorText(err)));
      }
      unlinkCallback(path, (err) => {
        if (err && err.code !== 'ENOENT') return done(new CacheError(`cannot delete cache file ${names[i]!}: ${err.message}`, { cause: err }));
        unlinkRest(names, i + 1);
      });
    };
    if (op.kind === 'delete') return unlinkRest(op.unlink, 0);

    const fileName = op.entry.fileName;
    const suffix = `.tmp-${process.pid}-${++tempCounter}`;
    let tempPath: string;
    let finalPath: string;
    try {
      tempPath = this.pathOf(fileName.slice(0, MAX_FILE_NAME_BYTES - suffix.length) + suffix);
      finalPath = this.pathOf(fileName);
    } catch (err) {
      return done(err instanceof CacheError ? err : new CacheError(errorText(err)));
    }
    const fail = (err: NodeJS.ErrnoException): void => {
      // The scan at the next open removes a temp file this cannot.
      unlinkCallback(tempPath, () => done(new CacheError(`cannot write cache file ${fileName}: ${err.message}`, { cause: err })));
    };
    const rename = (): void =>
      renameCallback(tempPath, finalPath, (err) => {
        if (err) return fail(err);
        unlinkRest(op.unlink, 0);
      });
    const text = fileText(op.json);
    writeFileCallback(tempPath, text, 'utf8', (err) => {
      if (!err) return rename();
      if (err.code !== 'ENOENT') return fail(err);
      // The directory went away (drop(), or removed by hand); rid-lib recreates it too.
      try {
        mkdirSync(this.directory, { recursive: true });
      } catch (mkErr) {
        return fail(mkErr as NodeJS.ErrnoException);
      }
      writeFileCallback(tempPath, text, 'utf8', (again) => (again ? fail(again) : rename()));
    });
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
        const delay = Math.min(this.retryInitialDelayMs * 2 ** (attempts - 1), this.retryMaxDelayMs);
        const retry: PendingOp = { ...op, seq: ++this.opSeq, retry: true, notBefore: Date.now() + delay };
        this.queued.set(op.key, retry);
        this.retrying.add(op.key);
        this.scheduleRetry(retry.notBefore!);
      } else {
        const current = this.index.get(op.key);
        const ours = op.kind === 'write' ? current === op.entry : current === undefined;
        if (ours) {
          if (op.diskEntry === undefined) this.indexRemove(op.key);
          else this.indexPut(op.diskEntry);
        }
        (this.logger.error ?? this.logger.warn).call(this.logger, { rid: op.key, err: err.message }, 'cache write failed; index reverted to the disk state');
      }
    }
    this.settle(op, err);
  }

  private due(op: PendingOp, now: number): boolean {
    return op.notBefore === undefined || op.notBefore <= now;
  }

  /** One timer for the earliest retry; the pump then takes every op that is due. */
  private scheduleRetry(at: number): void {
    if (this.retryTimer !== undefined && this.retryTimerAt <= at) return;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimerAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryTimerAt = Infinity;
      this.pump();
      // Ops not yet due get the next timer.
      let next = Infinity;
      for (const op of this.queued.values()) if (op.notBefore !== undefined && op.notBefore > Date.now()) next = Math.min(next, op.notBefore);
      if (next < Infinity) this.scheduleRetry(next);
    }, Math.max(0, at - Date.now()));
    // Retries alone must not keep a finished process alive.
    this.retryTimer.unref();
  }

  private settle(op: PendingOp, err: CacheError | undefined): void {
    this.outstanding.delete(op.seq);
    const settlers = this.settlers.get(op.seq) ?? [];
    this.settlers.delete(op.seq);
    for (const s of settlers) {
      if (err === undefined) s.resolve();
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

  private invalidateSnapshot(): void {
    this.snapshotLive = false;
    if (!this.useSnapshot) return;
    try {
      unlinkSync(this.snapshotPath);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') {
        // A snapshot that cannot be removed would be trusted at the next open after this
        // mutation; stop rather than risk serving a stale index.
        throw new CacheError(`cannot remove the cache index snapshot ${this.snapshotPath}: ${errorText(err)}`, { cause: err });
      }
    }
  }

  // --- index and scan ---

  private pathOf(fileName: string): string {
    // cacheFileName never yields these; the check keeps that promise independent of it.
    if (fileName.includes('/') || fileName.includes('\\') || fileName === '.' || fileName === '..') {
      throw new CacheError(`refusing cache file name outside the cache directory: ${fileName}`);
    }
    // Concatenation, not join(): the directory is resolved and the name has no separator, so
    // join's normalization only cost time on every file written (~3 µs each).
    return this.directoryPrefix + fileName;
  }

  private async unlinkQuiet(fileName: string): Promise<void> {
    try {
      await unlink(this.pathOf(fileName));
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') {
        throw new CacheError(`cannot delete cache file ${fileName}: ${errorText(err)}`, { cause: err });
      }
    }
  }

  private indexPut(entry: IndexEntry): void {
    this.generationCount++;
    const key = entry.rid.toString();
    const previous = this.index.get(key);
    if (previous !== undefined && previous !== entry) this.forgetServedText(previous);
    if (previous !== undefined && previous !== entry) this.unverifiedGone(previous);
    if (previous !== undefined && previous.type !== entry.type) this.byType.get(previous.type)?.delete(key);
    this.index.set(key, entry);
    // Also when a failed write puts an unverified disk entry back: it still needs its check.
    if (entry.manifest === undefined && !this.unverified.has(entry)) {
      this.unverified.add(entry);
      this.verifyQueue.push(entry);
      this.scheduleVerify();
    }
    let keys = this.byType.get(entry.type);
    if (keys === undefined) {
      keys = new Set();
      this.byType.set(entry.type, keys);
    }
    keys.add(key);
  }

  private indexRemove(key: string): void {
    const entry = this.index.get(key);
    if (entry === undefined) return;
    this.generationCount++;
    this.forgetServedText(entry);
    this.index.delete(key);
    this.unverifiedGone(entry);
    const keys = this.byType.get(entry.type);
    keys?.delete(key);
    if (keys?.size === 0) this.byType.delete(entry.type);
  }

  /** Only if no write replaced the entry meanwhile (its file is then fine). */
  private forgetIfCurrent(key: string, entry: IndexEntry): void {
    if (this.index.get(key) === entry) this.indexRemove(key);
  }

  private async scan(concurrency: number): Promise<void> {
    // The listing runs on the thread pool while this thread reads and parses the snapshot: on a
    // large cache they take about as long as each other.
    const listing = readdir(this.directory, { withFileTypes: true });
    listing.catch(() => undefined);
    const snapshot = this.useSnapshot ? this.readSnapshot() : undefined;
    let dirents;
    try {
      dirents = await listing;
    } catch (err) {
      throw new CacheError(`cannot list cache directory ${this.directory}: ${errorText(err)}`, { cause: err });
    }
    const names: string[] = [];
    const leftovers: string[] = [];
    for (const d of dirents) {
      if (!d.isFile()) continue;
      if (TEMP_FILE.test(d.name)) leftovers.push(d.name);
      else if (d.name.endsWith('.json')) names.push(d.name);
      else this.logger.warn({ file: d.name }, 'ignoring a file that is not a cache file');
    }
    await Promise.all(
      leftovers.map((name) =>
        this.unlinkQuiet(name).catch((err: unknown) =>
          this.logger.warn({ file: name, err: errorText(err) }, 'cannot remove a leftover temp file'),
        ),
      ),
    );

    if (snapshot !== undefined && this.loadSnapshot(snapshot, names)) return;

    if (names.length <= this.deferAbove) {
      this.indexLoaded(await this.readEntries(names, concurrency));
      return;
    }
    // Deferred verification (see the class comment): only names that are not the canonical name
    // of the RID they decode to are read now, since the name alone does not say their RID.
    const toRead: string[] = [];
    for (const name of names) {
      const rid = ridFromCacheFileName(name);
      if (rid === undefined) toRead.push(name);
      else this.indexPut({ rid, fileName: name, type: rid.type.toString(), manifest: undefined });
    }
    this.indexLoaded(await this.readEntries(toRead, concurrency));
  }

  /** Reads and parses the files `names`; undefined for each that is not a valid bundle (warned). */
  private async readEntries(names: readonly string[], concurrency: number): Promise<(IndexEntry | undefined)[]> {
    const loaded: (IndexEntry | undefined)[] = new Array(names.length);
    if (concurrency === 0) {
      for (let start = 0; start < names.length; start += SCAN_SLICE) {
        const end = Math.min(start + SCAN_SLICE, names.length);
        for (let i = start; i < end; i++) loaded[i] = this.loadEntry(names[i]!, this.readSyncOrError(names[i]!));
        // Let timers and sockets run between slices; a slice of small files takes a few ms.
        if (end < names.length) await new Promise<void>((done) => setImmediate(done));
      }
    } else {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < names.length) {
          const i = next++;
          let text: string | Error;
          try {
            text = await readFileAsync(this.pathOf(names[i]!), 'utf8');
          } catch (err) {
            text = err instanceof Error ? err : new Error(String(err));
          }
          loaded[i] = this.loadEntry(names[i]!, text);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
    }
    return loaded;
  }

  /** Indexes files read at open, resolving two files that claim one RID as the full scan always has. */
  private indexLoaded(loaded: readonly (IndexEntry | undefined)[]): void {
    // Directory order, so which of two files claiming one RID wins does not depend on timing.
    for (const entry of loaded) {
      if (entry === undefined) continue;
      const key = entry.rid.toString();
      const canonical = cacheFileName(entry.rid);
      if (entry.fileName !== canonical) {
        this.logger.warn({ rid: key, file: entry.fileName, expected: canonical }, 'cache file name does not match its RID');
      }
      const existing = this.index.get(key);
      if (existing?.manifest === undefined && existing !== undefined) {
        // An unverified entry has the canonical name: it wins if valid (warned then), and this
        // file takes over otherwise, as in the full scan, which never saw the invalid one.
        this.shadowed.set(key, entry);
        continue;
      }
      if (existing !== undefined) {
        const keepExisting = existing.fileName === canonical;
        this.logger.warn(
          { rid: key, files: [existing.fileName, entry.fileName], using: keepExisting ? existing.fileName : entry.fileName },
          'two cache files hold the same RID',
        );
        if (keepExisting) continue;
      }
      this.indexPut(entry);
    }
  }

  // --- deferred verification ---

  /** The index entry of `key`, verified first if it is not yet. */
  private current(key: string): IndexEntry | undefined {
    let entry = this.index.get(key);
    // verifyNow settles the entry (checked or removed); a fallback that replaces it was read at open.
    while (entry !== undefined && entry.manifest === undefined) {
      this.verifyNow(entry);
      entry = this.index.get(key);
    }
    return entry;
  }

  /** Synchronous: ~1 KB, and the caller (readManifest, exists) must answer synchronously. */
  private verifyNow(entry: IndexEntry): void {
    let result: Manifest | Error;
    try {
      result = parseBundleFile(readFileSync(this.pathOf(entry.fileName), 'utf8')).manifest;
    } catch (err) {
      result = err instanceof Error ? err : new Error(String(err));
    }
    this.applyVerification(entry, result);
  }

  /** What the file of `entry` turned out to hold; ignored unless `entry` is still current and unchecked. */
  private applyVerification(entry: IndexEntry, result: Manifest | Error): void {
    const key = entry.rid.toString();
    // A write or delete replaced the entry after the file was read: the newer state stands.
    if (this.index.get(key) !== entry || entry.manifest !== undefined) return;
    if (!(result instanceof Error) && result.rid.toString() === key) {
      entry.manifest = result;
      this.generationCount++;
      const loser = this.shadowed.get(key);
      if (loser !== undefined) {
        this.shadowed.delete(key);
        this.logger.warn({ rid: key, files: [entry.fileName, loser.fileName], using: entry.fileName }, 'two cache files hold the same RID');
      }
      this.unverifiedGone(entry);
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
    this.indexRemove(key);
    const fallback = this.shadowed.get(key);
    this.shadowed.delete(key);
    if (fallback !== undefined) this.indexPut(fallback);
    if (result instanceof Error) return;
    // Named for one RID, holding another: the full scan indexes it under the one it holds.
    const other = result.rid.toString();
    const existing = this.index.get(other);
    if (existing === undefined) {
      this.indexPut({ rid: result.rid, fileName: entry.fileName, type: result.rid.type.toString(), manifest: result });
    } else {
      this.logger.warn({ rid: other, files: [existing.fileName, entry.fileName], using: existing.fileName }, 'two cache files hold the same RID');
    }
  }

  private unverifiedGone(entry: IndexEntry): void {
    if (!this.unverified.delete(entry) || this.unverified.size > 0) return;
    this.resolveVerifiedWaiters();
  }

  private clearUnverified(): void {
    this.unverified.clear();
    this.verifyQueue = [];
    this.verifyCursor = 0;
    this.resolveVerifiedWaiters();
  }

  private resolveVerifiedWaiters(): void {
    const waiters = this.verifiedWaiters;
    this.verifiedWaiters = [];
    for (const w of waiters) w();
  }

  private scheduleVerify(): void {
    if (this.mainVerifyScheduled) return;
    this.mainVerifyScheduled = true;
    // After the current task: open() finishes indexing, and answers requests, before any check.
    setImmediate(() => {
      this.mainVerifyScheduled = false;
      this.pumpVerifier();
    });
  }

  /** Up to `max` unverified entries not being verified already, in queue order. */
  private takeToVerify(max: number, inFlight: ReadonlySet<IndexEntry>): IndexEntry[] {
    const out: IndexEntry[] = [];
    while (out.length < max && this.verifyCursor < this.verifyQueue.length) {
      const entry = this.verifyQueue[this.verifyCursor++]!;
      if (this.unverified.has(entry) && !inFlight.has(entry)) out.push(entry);
    }
    if (this.verifyCursor >= this.verifyQueue.length) {
      this.verifyQueue = [];
      this.verifyCursor = 0;
    }
    return out;
  }

  private pumpVerifier(): void {
    const inFlight = new Set<IndexEntry>();
    for (const batch of this.verifyBatches.values()) for (const e of batch) inFlight.add(e);
    if (this.verifierKind === 'main' || this.verifierFailed) {
      // The same slices as the full scan: a few ms each, then timers and sockets run.
      for (const entry of this.takeToVerify(SCAN_SLICE, inFlight)) this.verifyNow(entry);
      if (this.verifyCursor < this.verifyQueue.length) this.scheduleVerify();
      return;
    }
    while (this.verifyBatches.size < VERIFY_BATCHES_IN_FLIGHT) {
      const batch = this.takeToVerify(VERIFY_BATCH_SIZE, inFlight);
      if (batch.length === 0) break;
      const id = ++this.verifyBatchId;
      this.verifyBatches.set(id, batch);
      for (const e of batch) inFlight.add(e);
      const thread = this.startVerifier();
      thread.ref();
      thread.postMessage({ id, paths: batch.map((e) => this.pathOf(e.fileName)) });
    }
    // Done: the thread holds a V8 heap of its own, not worth keeping for a rare re-check.
    if (this.verifyBatches.size === 0 && this.unverified.size === 0) void this.stopVerifier();
  }

  private verifierFailed = false;

  private startVerifier(): Worker {
    if (this.verifierThread !== undefined) return this.verifierThread;
    const thread = new Worker(VERIFIER_SOURCE, { eval: true, execArgv: [] });
    thread.on('message', (raw: unknown) => {
      const { id, results } = raw as VerifierAnswer;
      const batch = this.verifyBatches.get(id);
      if (batch === undefined) return;
      this.verifyBatches.delete(id);
      batch.forEach((entry, i) => this.applyVerification(entry, manifestFromVerifier(results[i])));
      if (this.verifyBatches.size === 0) thread.unref();
      this.pumpVerifier();
    });
    thread.on('error', (err: unknown) => this.verifierDied(thread, err));
    thread.on('exit', (code) => this.verifierDied(thread, new Error(`cache verifier thread exited with code ${code}`)));
    this.verifierThread = thread;
    return thread;
  }

  /** Its batches are re-queued and the rest is checked on this thread: slower, but never lost. */
  private verifierDied(thread: Worker, err: unknown): void {
    if (this.verifierThread !== thread) return;
    this.verifierThread = undefined;
    this.verifierFailed = true;
    this.logger.warn({ err: errorText(err) }, 'cache verifier thread failed; verifying on the main thread');
    for (const batch of this.verifyBatches.values()) this.verifyQueue.push(...batch);
    this.verifyBatches.clear();
    this.scheduleVerify();
  }

  private async stopVerifier(): Promise<void> {
    const thread = this.verifierThread;
    this.verifierThread = undefined;
    // Answers of batches still out would be for entries checked meanwhile (close() verifies them).
    this.verifyBatches.clear();
    if (thread !== undefined) await thread.terminate();
  }

  /** The parsed snapshot file, or undefined when there is none or it is not JSON (then open() scans). */
  private readSnapshot(): unknown {
    let text: string;
    try {
      text = readFileSync(this.snapshotPath, 'utf8');
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') this.logger.warn({ file: this.snapshotPath, err: errorText(err) }, 'cannot read the cache index snapshot; scanning');
      return undefined;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      this.logger.warn({ file: this.snapshotPath, err: errorText(err) }, 'cache index snapshot is invalid; scanning');
      return undefined;
    }
  }

  /**
   * Fills the index from the snapshot if it is well formed, belongs to this directory and names
   * exactly the bundle files `names` lists. Anything else (a crash, files added or removed by
   * another process, a corrupt snapshot) returns false and the caller scans every file: a
   * different name set means someone else changed the directory, so none of it is trusted.
   */
  private loadSnapshot(json: unknown, names: readonly string[]): boolean {
    try {
      if (!isJsonObject(json) || json['directory'] !== this.directory) return false;
      const columns = json['version'] === SNAPSHOT_VERSION ? snapshotColumns(json) : json['version'] === 1 ? snapshotColumnsV1(json) : undefined;
      if (columns === undefined) return false;
      const { files, rids, timestamps, hashes, micros, ignored } = columns;
      if (files.length + ignored.length !== names.length) return false;
      const expected = new Set<string>(ignored);
      for (const f of files) expected.add(f);
      if (expected.size !== names.length) return false;
      for (const name of names) if (!expected.has(name)) return false;
      const entries: IndexEntry[] = new Array(files.length);
      for (let i = 0; i < files.length; i++) {
        const rid = RID.fromString(rids[i]!);
        const manifest = new Manifest({ rid, timestamp: timestamps[i]!, sha256Hash: hashes[i]!, ...(micros ? { timeMicros: micros[i]! } : {}) });
        entries[i] = { rid, fileName: files[i]!, type: rid.type.toString(), manifest };
      }
      for (const entry of entries) this.indexPut(entry);
      return true;
    } catch (err) {
      this.logger.warn({ file: this.snapshotPath, err: errorText(err) }, 'cache index snapshot is invalid; scanning');
      this.index.clear();
      this.byType.clear();
      this.generationCount++;
      return false;
    }
  }

  private readSyncOrError(fileName: string): string | Error {
    try {
      return readFileSync(this.pathOf(fileName), 'utf8');
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  private loadEntry(fileName: string, text: string | Error): IndexEntry | undefined {
    try {
      if (text instanceof Error) throw text;
      const { manifest } = parseBundleFile(text);
      return { rid: manifest.rid, fileName, type: manifest.rid.type.toString(), manifest };
    } catch (err) {
      this.logger.warn({ file: fileName, err: errorText(err) }, 'skipping a cache file that is not a valid bundle');
      return undefined;
    }
  }
}

/**
 * A bundle file's text from the bundle's compact JSON: two-space indent, manifest before contents,
 * the layout rid-lib's model_dump_json(indent=2) writes. (The writer thread does the same.)
 */
function fileText(json: string): string {
  return JSON.stringify(JSON.parse(json), null, 2);
}

/**
 * Bundle.fromJSON, minus its cost: the Bundle schema is "a Manifest plus any JSON object", so it
 * is checked as such, which spares the schema validator's deep copy (structuredClone) and walk of
 * every file's contents, on each read and on every file of the start-up scan.
 */
function parseBundleFile(text: string): Bundle {
  const json: unknown = JSON.parse(text);
  if (!isJsonObject(json)) throw new Error('not a JSON object');
  const contents = json['contents'];
  if (!isJsonObject(contents)) throw new Error('contents is missing or not a JSON object');
  return new Bundle(Manifest.fromJSON(json['manifest']), contents);
}

/**
 * `text` when it is exactly `{manifest, contents}` with the index's manifest (the common case:
 * no manifest validation or re-serialization needed), else the bundle as read() would return it,
 * serialized. Throws when the file is not a valid bundle of `key`.
 */
function checkedBundleText(text: string, key: string, indexed: Manifest | undefined): string {
  const json: unknown = JSON.parse(text);
  if (!isJsonObject(json)) throw new Error('not a JSON object');
  const contents = json['contents'];
  if (!isJsonObject(contents)) throw new Error('contents is missing or not a JSON object');
  const m = json['manifest'];
  const asIndexed =
    indexed !== undefined &&
    isJsonObject(m) &&
    m['rid'] === key &&
    m['timestamp'] === indexed.timestamp &&
    m['sha256_hash'] === indexed.sha256Hash &&
    Object.keys(m).length === 3;
  if (asIndexed && Object.keys(json).length === 2) return text;
  const bundle = new Bundle(Manifest.fromJSON(m), contents);
  if (bundle.rid.toString() !== key) throw new Error(`file holds the bundle of ${bundle.rid.toString()}`);
  return JSON.stringify(bundle.toJSON());
}

/** Reads served files go through one buffer: open + read + close, no stat and no allocation. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

function readSmallTextFile(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const n = readSync(fd, READ_BUFFER, 0, READ_BUFFER.length, 0);
    if (n < READ_BUFFER.length) return READ_BUFFER.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
  return readFileSync(path, 'utf8');
}

interface SnapshotColumns {
  files: string[];
  rids: string[];
  timestamps: string[];
  hashes: string[];
  /** Absent in version 1 snapshots: the timestamps are parsed then. */
  micros: number[] | undefined;
  ignored: string[];
}

function isStringArray(v: unknown, length?: number): v is string[] {
  return Array.isArray(v) && (length === undefined || v.length === length) && v.every((x) => typeof x === 'string');
}

/** The columns of a version 2 snapshot, or undefined when any is missing, mistyped or of another length. */
function snapshotColumns(json: Record<string, unknown>): SnapshotColumns | undefined {
  const { files, rids, timestamps, hashes, micros, ignored } = json;
  if (!isStringArray(files) || !isStringArray(ignored)) return undefined;
  const n = files.length;
  if (!isStringArray(rids, n) || !isStringArray(timestamps, n) || !isStringArray(hashes, n)) return undefined;
  if (!Array.isArray(micros) || micros.length !== n || !micros.every((x) => Number.isSafeInteger(x))) return undefined;
  return { files, rids, timestamps, hashes, micros: micros as number[], ignored };
}

function snapshotColumnsV1(json: Record<string, unknown>): SnapshotColumns | undefined {
  const rows = json['entries'];
  const ignored = json['ignored'];
  if (!Array.isArray(rows) || !isStringArray(ignored)) return undefined;
  const columns: SnapshotColumns = { files: [], rids: [], timestamps: [], hashes: [], micros: undefined, ignored };
  for (const row of rows as unknown[]) {
    if (!isStringArray(row, 4)) return undefined;
    const [file, rid, timestamp, hash] = row as SnapshotRowV1;
    columns.files.push(file);
    columns.rids.push(rid);
    columns.timestamps.push(timestamp);
    columns.hashes.push(hash);
  }
  return columns;
}

/** The verifier thread's report as the result parseBundleFile would have given. */
function manifestFromVerifier(result: VerifierResult | undefined): Manifest | Error {
  if (result === undefined) return new Error('no answer from the verifier thread');
  if ('error' in result) return new Error(result.error);
  try {
    return Manifest.fromJSON(result.manifest);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function ridKey(rid: RID | string): string {
  return RID.of(rid).toString();
}

function mergeNames(a: readonly string[], b: readonly string[]): string[] {
  return b.length === 0 ? [...a] : [...new Set([...a, ...b])];
}
