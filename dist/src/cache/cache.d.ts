import { RID, RIDType } from '../rid/index.ts';
import { Bundle, Manifest } from '../knowledge/index.ts';
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
     * Who reads the files of a deferred verification. 'worker' (default): a thread reads and parses
     * them, this thread only validates the manifests. 'main': synchronous slices on this thread.
     */
    verifier?: 'worker' | 'main';
}
/**
 * Where the index snapshot of a cache directory lives: beside the directory, never in it, because
 * rid-lib (and the start-up scan) read every `*.json` in the cache directory as a bundle.
 * `<dataDir>/cache` -> `<dataDir>/cache.index-snapshot.json`.
 */
export declare function snapshotPathFor(directory: string): string;
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
export declare class Cache implements KnowledgeStore {
    readonly directory: string;
    private readonly logger;
    readonly writesVisibleAtOnce = true;
    readonly snapshotPath: string;
    private readonly index;
    private readonly byType;
    /** Mutations not yet started, at most one per RID (coalesced). */
    private readonly queued;
    /** Mutations being written, by RID; a queued op of the same RID waits for it. */
    private readonly inflight;
    /** Seqs of ops not yet settled; a Set iterates in insertion (= seq) order, so the first is the oldest. */
    private readonly outstanding;
    /** Promise settlers of each op, including the ops coalesced into it. */
    private readonly settlers;
    private syncWaiters;
    /** RIDs whose last persisted attempt failed, with the seq of that attempt and the failures in a row. */
    private readonly failed;
    /** RIDs whose failed op is queued (or being written) again as a retry. */
    private readonly retrying;
    private retryTimer;
    private retryTimerAt;
    private readonly retryInitialDelayMs;
    private readonly retryMaxDelayMs;
    private lastError;
    private opSeq;
    private writing;
    private pumpScheduled;
    /** A snapshot file may exist and describe the disk; the next mutation must delete it first. */
    private snapshotLive;
    private readonly useSnapshot;
    private readonly writeConcurrency;
    private readonly writerKind;
    private worker;
    /** Batches sent to the worker and not yet answered, by batch id. */
    private readonly batches;
    private batchId;
    /** Index entries whose file has not been read yet (each is the current entry of its RID). */
    private readonly unverified;
    /** Unverified entries in the order to verify; may hold stale ones, skipped when taken. */
    private verifyQueue;
    private verifyCursor;
    private verifiedWaiters;
    private readonly verifierKind;
    private verifierThread;
    private readonly verifyBatches;
    private verifyBatchId;
    private mainVerifyScheduled;
    /**
     * A file read at open whose RID an unverified canonically named file also claims: the full scan
     * would prefer the canonical one, and uses this one only if the canonical file is not valid.
     */
    private readonly shadowed;
    private readonly deferAbove;
    private constructor();
    /** Creates the directory if needed, removes leftover temp files and indexes every bundle file. */
    static open(dir: string, options?: CacheOptions): Promise<Cache>;
    get size(): number;
    /** Mutations not yet on disk (queued, being written, or waiting for a retry). */
    get pendingWrites(): number;
    health(): StoreHealth;
    /** Index entries not yet checked against their file (see the class comment). */
    get unverifiedCount(): number;
    /**
     * Resolves once every index entry has been checked against its file (at once unless open()
     * deferred verification), i.e. when size and listRids hold only valid bundles.
     */
    verified(): Promise<void>;
    write(bundle: Bundle): Promise<Bundle>;
    read(rid: RID | string): Promise<Bundle | undefined>;
    readManifest(rid: RID | string): Manifest | undefined;
    exists(rid: RID | string): boolean;
    delete(rid: RID | string): Promise<boolean>;
    listRids(ridTypes?: Iterable<RIDType | string>): RID[];
    /** Removes the directory, as rid-lib does; the next write creates it again. */
    drop(): Promise<void>;
    sync(): Promise<void>;
    /**
     * sync(), then writes the index snapshot so the next open() need not read every file. Without
     * a clean close (a crash) there is no valid snapshot and the next open scans. The cache stays
     * usable: a later mutation deletes the snapshot again first.
     */
    close(): Promise<void>;
    /**
     * Queues the mutation of `key`, coalescing it with a queued (not yet started) one: the disk
     * state before that one stays the revert point, and its file-name cleanups are carried over.
     */
    private enqueue;
    private schedulePump;
    private pump;
    /**
     * Sends queued ops to the writer thread in batches. Two batches may be out at once, so the
     * worker starts the next while this thread handles the answer to the last.
     */
    private pumpWorker;
    private workerOp;
    private startWorker;
    /** The batches it had are unknown on disk: failed, so the index goes back and sync() rejects. */
    private workerDied;
    /** Runs one op on the thread pool: temp file + rename, or unlink; then its stale names. */
    private persist;
    /**
     * Settles an op. A failed file operation (`retryable`: a full disk, an I/O error) is not undone:
     * the index keeps showing the new state, read() keeps serving it from memory, and the op is
     * queued again after a backoff until the disk takes it, so what was acknowledged becomes durable
     * as soon as there is room, without a restart. Its callers' promises reject at once (and sync()
     * rejects while it is unpersisted), so durability checks such as the inbox checkpoint wait.
     * A failure that cannot heal (a refused file name) puts the index back to the disk state.
     */
    private finish;
    private due;
    /** One timer for the earliest retry; the pump then takes every op that is due. */
    private scheduleRetry;
    private settle;
    private oldestOutstanding;
    private failureUpTo;
    private invalidateSnapshot;
    private pathOf;
    private unlinkQuiet;
    private indexPut;
    private indexRemove;
    /** Only if no write replaced the entry meanwhile (its file is then fine). */
    private forgetIfCurrent;
    private scan;
    /** Reads and parses the files `names`; undefined for each that is not a valid bundle (warned). */
    private readEntries;
    /** Indexes files read at open, resolving two files that claim one RID as the full scan always has. */
    private indexLoaded;
    /** The index entry of `key`, verified first if it is not yet. */
    private current;
    /** Synchronous: ~1 KB, and the caller (readManifest, exists) must answer synchronously. */
    private verifyNow;
    /** What the file of `entry` turned out to hold; ignored unless `entry` is still current and unchecked. */
    private applyVerification;
    private unverifiedGone;
    private clearUnverified;
    private resolveVerifiedWaiters;
    private scheduleVerify;
    /** Up to `max` unverified entries not being verified already, in queue order. */
    private takeToVerify;
    private pumpVerifier;
    private verifierFailed;
    private startVerifier;
    /** Its batches are re-queued and the rest is checked on this thread: slower, but never lost. */
    private verifierDied;
    private stopVerifier;
    /**
     * Fills the index from the snapshot if it exists, is well formed, belongs to this directory and
     * names exactly the bundle files `names` lists. Anything else (a crash, files added or removed
     * by another process, a corrupt snapshot) returns false and the caller scans every file: a
     * different name set means someone else changed the directory, so none of it is trusted.
     */
    private loadSnapshot;
    private readSyncOrError;
    private loadEntry;
}
