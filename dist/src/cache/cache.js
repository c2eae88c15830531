import { mkdirSync, readFile as readFileCallback, readFileSync, readdirSync, rename as renameCallback, unlink as unlinkCallback, unlinkSync, writeFile as writeFileCallback, writeFileSync, renameSync, } from 'node:fs';
import { mkdir, readdir, rm, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { basename, dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { RID, RIDType } from "../rid/index.js";
import { Bundle, Manifest, isJsonObject } from "../knowledge/index.js";
import { CacheError } from "../errors.js";
import { cacheFileName, ridFromCacheFileName, MAX_FILE_NAME_BYTES } from "./file-name.js";
const consoleLogger = {
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
const SNAPSHOT_VERSION = 1;
/** Files per message to the writer thread, and messages out at once. */
const WORKER_BATCH_SIZE = 256;
const WORKER_BATCHES_IN_FLIGHT = 2;
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
      if (op.text !== undefined) {
        try {
          try {
            fs.writeFileSync(op.temp, op.text, 'utf8');
          } catch (err) {
            if (err.code !== 'ENOENT') throw err;
            fs.mkdirSync(directory, { recursive: true });
            fs.writeFileSync(op.temp, op.text, 'utf8');
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
function errorCode(err) {
    return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}
function errorMessage(err) {
    return err instanceof Error ? err.message : String(err);
}
/**
 * Where the index snapshot of a cache directory lives: beside the directory, never in it, because
 * rid-lib (and the start-up scan) read every `*.json` in the cache directory as a bundle.
 * `<dataDir>/cache` -> `<dataDir>/cache.index-snapshot.json`.
 */
export function snapshotPathFor(directory) {
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
export class Cache {
    directory;
    logger;
    writesVisibleAtOnce = true;
    snapshotPath;
    index = new Map();
    byType = new Map();
    /** Mutations not yet started, at most one per RID (coalesced). */
    queued = new Map();
    /** Mutations being written, by RID; a queued op of the same RID waits for it. */
    inflight = new Map();
    /** Seqs of ops not yet settled; a Set iterates in insertion (= seq) order, so the first is the oldest. */
    outstanding = new Set();
    /** Promise settlers of each op, including the ops coalesced into it. */
    settlers = new Map();
    syncWaiters = [];
    /** RIDs whose last persisted attempt failed, with the seq of that attempt and the failures in a row. */
    failed = new Map();
    /** RIDs whose failed op is queued (or being written) again as a retry. */
    retrying = new Set();
    retryTimer;
    retryTimerAt = Infinity;
    retryInitialDelayMs;
    retryMaxDelayMs;
    lastError;
    opSeq = 0;
    writing = 0;
    pumpScheduled = false;
    /** A snapshot file may exist and describe the disk; the next mutation must delete it first. */
    snapshotLive;
    useSnapshot;
    writeConcurrency;
    writerKind;
    worker;
    /** Batches sent to the worker and not yet answered, by batch id. */
    batches = new Map();
    batchId = 0;
    /** Index entries whose file has not been read yet (each is the current entry of its RID). */
    unverified = new Set();
    /** Unverified entries in the order to verify; may hold stale ones, skipped when taken. */
    verifyQueue = [];
    verifyCursor = 0;
    verifiedWaiters = [];
    verifierKind;
    verifierThread;
    verifyBatches = new Map();
    verifyBatchId = 0;
    mainVerifyScheduled = false;
    /**
     * A file read at open whose RID an unverified canonically named file also claims: the full scan
     * would prefer the canonical one, and uses this one only if the canonical file is not valid.
     */
    shadowed = new Map();
    deferAbove;
    constructor(directory, logger, options) {
        this.directory = directory;
        this.logger = logger;
        this.snapshotPath = snapshotPathFor(directory);
        this.useSnapshot = options.snapshot ?? true;
        // Assume one may exist until open() knows; deleting a missing file is cheap.
        this.snapshotLive = this.useSnapshot;
        this.writeConcurrency = Math.max(1, Math.floor(options.writeConcurrency ?? 8));
        this.writerKind = options.writer ?? 'worker';
        this.verifierKind = options.verifier ?? 'worker';
        this.deferAbove = Math.max(0, options.deferVerificationAbove ?? 1000);
        this.retryInitialDelayMs = Math.max(1, options.retryInitialDelayMs ?? 100);
        this.retryMaxDelayMs = Math.max(this.retryInitialDelayMs, options.retryMaxDelayMs ?? 5000);
    }
    /** Creates the directory if needed, removes leftover temp files and indexes every bundle file. */
    static async open(dir, options = {}) {
        const directory = resolve(dir);
        try {
            await mkdir(directory, { recursive: true });
        }
        catch (err) {
            throw new CacheError(`cannot create cache directory ${directory}: ${errorMessage(err)}`, { cause: err });
        }
        const cache = new Cache(directory, options.logger ?? consoleLogger, options);
        await cache.scan(Math.max(0, Math.floor(options.scanConcurrency ?? 0)));
        return cache;
    }
    get size() {
        return this.index.size;
    }
    /** Mutations not yet on disk (queued, being written, or waiting for a retry). */
    get pendingWrites() {
        return this.outstanding.size + this.retrying.size;
    }
    health() {
        const degraded = this.failed.size > 0;
        return {
            status: degraded ? 'degraded' : 'ok',
            pendingWrites: this.pendingWrites,
            ...(degraded && this.lastError !== undefined ? { lastError: this.lastError } : {}),
        };
    }
    /** Index entries not yet checked against their file (see the class comment). */
    get unverifiedCount() {
        return this.unverified.size;
    }
    /**
     * Resolves once every index entry has been checked against its file (at once unless open()
     * deferred verification), i.e. when size and listRids hold only valid bundles.
     */
    verified() {
        if (this.unverified.size === 0)
            return Promise.resolve();
        return new Promise((res) => this.verifiedWaiters.push(res));
    }
    write(bundle) {
        // The snapshot must be gone before any file changes, or a crash would leave it describing
        // a directory it no longer matches (with the same file names, undetectably).
        if (this.snapshotLive)
            this.invalidateSnapshot();
        const key = bundle.rid.toString();
        const fileName = cacheFileName(bundle.rid);
        // Serialized now, as the synchronous cache did: a handler mutating the contents afterwards
        // must not change what gets written. Two-space indent, manifest before contents: the layout
        // rid-lib's model_dump_json(indent=2) writes.
        const text = JSON.stringify(bundle.toJSON(), null, 2);
        const entry = { rid: bundle.rid, fileName, type: bundle.rid.type.toString(), manifest: bundle.manifest };
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
            text,
            unlink: mergeNames(carried, unlinkNames),
            diskEntry,
        })).then(() => bundle);
    }
    async read(rid) {
        const key = ridKey(rid);
        const entry = this.current(key);
        if (entry === undefined)
            return undefined;
        const pending = this.queued.get(key) ?? this.inflight.get(key);
        if (pending !== undefined && pending.kind === 'write' && pending.entry === entry) {
            // Parsed from the serialized text, as from disk: callers get their own copy of the contents.
            return parseBundleFile(pending.text);
        }
        let text;
        try {
            // Synchronous: a ~1 KB read costs less than the thread-pool hops of the async one, and
            // fetch_bundles of 100 RIDs went from ~25 ms to a few.
            text = readFileSync(this.pathOf(entry.fileName), 'utf8');
        }
        catch (err) {
            if (errorCode(err) !== 'ENOENT') {
                throw new CacheError(`cannot read cache file ${entry.fileName}: ${errorMessage(err)}`, { cause: err });
            }
            this.logger.warn({ rid: key, file: entry.fileName }, 'cache file vanished; dropping it from the index');
            this.forgetIfCurrent(key, entry);
            return undefined;
        }
        try {
            const bundle = parseBundleFile(text);
            if (bundle.rid.toString() !== key) {
                throw new Error(`file holds the bundle of ${bundle.rid.toString()}`);
            }
            return bundle;
        }
        catch (err) {
            this.logger.warn({ rid: key, file: entry.fileName, error: errorMessage(err) }, 'cache file is no longer a valid bundle; dropping it from the index');
            this.forgetIfCurrent(key, entry);
            return undefined;
        }
    }
    readManifest(rid) {
        return this.current(ridKey(rid))?.manifest;
    }
    exists(rid) {
        return this.current(ridKey(rid)) !== undefined;
    }
    delete(rid) {
        const key = ridKey(rid);
        // Verified first: deleting a file that never held a valid bundle deletes nothing, as after a full scan.
        const entry = this.current(key);
        if (entry === undefined)
            return Promise.resolve(false);
        this.shadowed.delete(key);
        if (this.snapshotLive)
            this.invalidateSnapshot();
        this.indexRemove(key);
        return this.enqueue(key, entry, (seq, diskEntry, carried) => ({
            kind: 'delete',
            seq,
            key,
            unlink: mergeNames(carried, [entry.fileName]),
            diskEntry,
        })).then(() => true);
    }
    listRids(ridTypes) {
        const types = ridTypes === undefined ? [] : [...ridTypes].map((t) => RIDType.of(t).toString());
        if (types.length === 0)
            return [...this.index.values()].map((e) => e.rid);
        const out = [];
        for (const type of new Set(types)) {
            for (const key of this.byType.get(type) ?? []) {
                const entry = this.index.get(key);
                if (entry !== undefined)
                    out.push(entry.rid);
            }
        }
        return out;
    }
    /** Removes the directory, as rid-lib does; the next write creates it again. */
    async drop() {
        // Pending files would land in (or recreate) the directory after the rm; drop them instead.
        for (const op of this.queued.values())
            this.settle(op, undefined);
        this.queued.clear();
        this.failed.clear();
        this.retrying.clear();
        await this.sync().catch(() => undefined);
        this.invalidateSnapshot();
        try {
            await rm(this.directory, { recursive: true, force: true });
        }
        catch (err) {
            throw new CacheError(`cannot remove cache directory ${this.directory}: ${errorMessage(err)}`, { cause: err });
        }
        this.index.clear();
        this.byType.clear();
        this.shadowed.clear();
        this.clearUnverified();
    }
    sync() {
        const upTo = this.opSeq;
        const oldest = this.oldestOutstanding();
        if (oldest === undefined || oldest > upTo)
            return this.failureUpTo(upTo);
        return new Promise((res, rej) => this.syncWaiters.push({ upTo, resolve: res, reject: rej }));
    }
    /**
     * sync(), then writes the index snapshot so the next open() need not read every file. Without
     * a clean close (a crash) there is no valid snapshot and the next open scans. The cache stays
     * usable: a later mutation deletes the snapshot again first.
     */
    async close() {
        // The snapshot must only hold manifests read from the files.
        await this.verified();
        try {
            await this.sync();
        }
        catch (err) {
            // Closing a store that cannot write: stop retrying; whoever acknowledged the data keeps it
            // (the node's inbox replays what its checkpoint did not pass).
            if (this.retryTimer !== undefined)
                clearTimeout(this.retryTimer);
            this.retryTimer = undefined;
            this.retryTimerAt = Infinity;
            throw err;
        }
        // A failed write can put an unverified entry back; rare, so checked right here.
        for (const entry of [...this.unverified])
            this.verifyNow(entry);
        // Idle now; a later write starts a new one.
        const worker = this.worker;
        this.worker = undefined;
        if (worker !== undefined)
            await worker.terminate();
        await this.stopVerifier();
        if (!this.useSnapshot)
            return;
        const rows = [];
        const indexed = new Set();
        for (const e of this.index.values()) {
            if (e.manifest === undefined)
                continue;
            rows.push([e.fileName, e.rid.toString(), e.manifest.timestamp, e.manifest.sha256Hash]);
            indexed.add(e.fileName);
        }
        const temp = `${this.snapshotPath}.tmp-${process.pid}-${++tempCounter}`;
        try {
            // Bundle files the index does not use (invalid, or the losing copy of a duplicated RID) are
            // listed too, so that next time the name sets match and the scan would skip them anyway.
            const ignored = readdirSync(this.directory, { withFileTypes: true })
                .filter((d) => d.isFile() && d.name.endsWith('.json') && !TEMP_FILE.test(d.name) && !indexed.has(d.name))
                .map((d) => d.name);
            const text = JSON.stringify({ version: SNAPSHOT_VERSION, directory: this.directory, entries: rows, ignored });
            writeFileSync(temp, text, 'utf8');
            renameSync(temp, this.snapshotPath);
            this.snapshotLive = true;
        }
        catch (err) {
            try {
                unlinkSync(temp);
            }
            catch {
                // Nothing to clean up.
            }
            // Only a slower next start: it scans.
            this.logger.warn({ file: this.snapshotPath, error: errorMessage(err) }, 'cannot write the cache index snapshot');
        }
    }
    // --- write-behind internals ---
    /**
     * Queues the mutation of `key`, coalescing it with a queued (not yet started) one: the disk
     * state before that one stays the revert point, and its file-name cleanups are carried over.
     */
    enqueue(key, 
    /** The index entry before this mutation: with nothing pending for the RID, the disk state. */
    indexBefore, make) {
        const seq = ++this.opSeq;
        const waiting = this.queued.get(key);
        const running = this.inflight.get(key);
        let diskEntry;
        let carried = [];
        let settlers = [];
        if (waiting !== undefined) {
            // A queued retry is superseded: the new op carries its file-name cleanups and is awaited.
            this.retrying.delete(key);
            diskEntry = waiting.diskEntry;
            carried = waiting.unlink;
            this.outstanding.delete(waiting.seq);
            settlers = this.settlers.get(waiting.seq) ?? [];
            this.settlers.delete(waiting.seq);
        }
        else if (running !== undefined) {
            // What the disk holds once the running op is done (the revert point if ours fails).
            diskEntry = running.kind === 'write' ? running.entry : undefined;
        }
        else {
            diskEntry = indexBefore;
        }
        const op = make(seq, diskEntry, carried);
        // A write whose name equals one to unlink must not delete its own file after the rename.
        if (op.kind === 'write')
            op.unlink = op.unlink.filter((n) => n !== op.entry.fileName);
        this.queued.delete(key);
        this.queued.set(key, op);
        this.outstanding.add(seq);
        const done = new Promise((res, rej) => settlers.push({ resolve: res, reject: rej }));
        this.settlers.set(seq, settlers);
        this.schedulePump();
        return done;
    }
    schedulePump() {
        if (this.pumpScheduled)
            return;
        this.pumpScheduled = true;
        // After the current task: mutations made in one go (a batch of kobjs) coalesce first.
        setImmediate(() => {
            this.pumpScheduled = false;
            this.pump();
        });
    }
    pump() {
        if (this.writerKind === 'worker')
            return this.pumpWorker();
        if (this.queued.size === 0 || this.writing >= this.writeConcurrency)
            return;
        const now = Date.now();
        for (const [key, op] of this.queued) {
            if (this.writing >= this.writeConcurrency)
                break;
            if (this.inflight.has(key) || !this.due(op, now))
                continue;
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
    pumpWorker() {
        const now = Date.now();
        while (this.queued.size > 0 && this.batches.size < WORKER_BATCHES_IN_FLIGHT) {
            const ops = [];
            const messages = [];
            for (const [key, op] of this.queued) {
                if (ops.length >= WORKER_BATCH_SIZE)
                    break;
                if (this.inflight.has(key) || !this.due(op, now))
                    continue;
                let message;
                try {
                    message = this.workerOp(op);
                }
                catch (err) {
                    this.queued.delete(key);
                    this.finish(op, err instanceof CacheError ? err : new CacheError(errorMessage(err)));
                    continue;
                }
                this.queued.delete(key);
                this.inflight.set(key, op);
                ops.push(op);
                messages.push(message);
            }
            if (ops.length === 0)
                return;
            const id = ++this.batchId;
            this.batches.set(id, ops);
            const worker = this.startWorker();
            worker.ref();
            worker.postMessage({ id, directory: this.directory, ops: messages });
        }
    }
    workerOp(op) {
        const unlinkPaths = op.unlink.map((n) => this.pathOf(n));
        if (op.kind === 'delete')
            return { unlink: unlinkPaths };
        const fileName = op.entry.fileName;
        const suffix = `.tmp-${process.pid}-${++tempCounter}`;
        return {
            temp: this.pathOf(fileName.slice(0, MAX_FILE_NAME_BYTES - suffix.length) + suffix),
            path: this.pathOf(fileName),
            text: op.text,
            unlink: unlinkPaths,
        };
    }
    startWorker() {
        if (this.worker !== undefined)
            return this.worker;
        // Plain JavaScript evaluated in the thread: no TypeScript loader to start (execArgv: []).
        const worker = new Worker(WRITER_SOURCE, { eval: true, execArgv: [] });
        worker.on('message', (raw) => {
            const { id, results } = raw;
            const ops = this.batches.get(id);
            if (ops === undefined)
                return;
            this.batches.delete(id);
            ops.forEach((op, i) => {
                this.inflight.delete(op.key);
                const failure = results[i];
                this.finish(op, failure == null ? undefined : new CacheError(`cannot write cache file for ${op.key}: ${failure}`), true);
            });
            // Nothing out: the thread must not keep an otherwise finished process alive.
            if (this.batches.size === 0)
                worker.unref();
            this.pump();
        });
        worker.on('error', (err) => this.workerDied(worker, err));
        worker.on('exit', (code) => this.workerDied(worker, new Error(`cache writer thread exited with code ${code}`)));
        this.worker = worker;
        return worker;
    }
    /** The batches it had are unknown on disk: failed, so the index goes back and sync() rejects. */
    workerDied(worker, err) {
        if (this.worker !== worker)
            return;
        this.worker = undefined;
        const lost = [...this.batches.values()].flat();
        this.batches.clear();
        for (const op of lost) {
            this.inflight.delete(op.key);
            this.finish(op, new CacheError(`cache writer thread failed: ${errorMessage(err)}`, { cause: err }), true);
        }
        this.pump();
    }
    /** Runs one op on the thread pool: temp file + rename, or unlink; then its stale names. */
    persist(op, done) {
        const unlinkRest = (names, i) => {
            if (i >= names.length)
                return done(undefined);
            let path;
            try {
                path = this.pathOf(names[i]);
            }
            catch (err) {
                return done(err instanceof CacheError ? err : new CacheError(errorMessage(err)));
            }
            unlinkCallback(path, (err) => {
                if (err && err.code !== 'ENOENT')
                    return done(new CacheError(`cannot delete cache file ${names[i]}: ${err.message}`, { cause: err }));
                unlinkRest(names, i + 1);
            });
        };
        if (op.kind === 'delete')
            return unlinkRest(op.unlink, 0);
        const fileName = op.entry.fileName;
        const suffix = `.tmp-${process.pid}-${++tempCounter}`;
        let tempPath;
        let finalPath;
        try {
            tempPath = this.pathOf(fileName.slice(0, MAX_FILE_NAME_BYTES - suffix.length) + suffix);
            finalPath = this.pathOf(fileName);
        }
        catch (err) {
            return done(err instanceof CacheError ? err : new CacheError(errorMessage(err)));
        }
        const fail = (err) => {
            // The scan at the next open removes a temp file this cannot.
            unlinkCallback(tempPath, () => done(new CacheError(`cannot write cache file ${fileName}: ${err.message}`, { cause: err })));
        };
        const rename = () => renameCallback(tempPath, finalPath, (err) => {
            if (err)
                return fail(err);
            unlinkRest(op.unlink, 0);
        });
        writeFileCallback(tempPath, op.text, 'utf8', (err) => {
            if (!err)
                return rename();
            if (err.code !== 'ENOENT')
                return fail(err);
            // The directory went away (drop(), or removed by hand); rid-lib recreates it too.
            try {
                mkdirSync(this.directory, { recursive: true });
            }
            catch (mkErr) {
                return fail(mkErr);
            }
            writeFileCallback(tempPath, op.text, 'utf8', (again) => (again ? fail(again) : rename()));
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
    finish(op, err, retryable = false) {
        if (op.retry)
            this.retrying.delete(op.key);
        if (err === undefined) {
            const wasFailed = this.failed.get(op.key);
            this.failed.delete(op.key);
            if (wasFailed !== undefined && this.failed.size === 0) {
                (this.logger.info ?? this.logger.warn).call(this.logger, { pendingWrites: this.pendingWrites }, 'cache writes succeed again; store healthy');
            }
        }
        else {
            const previous = this.failed.get(op.key);
            const attempts = (previous?.attempts ?? 0) + 1;
            if (this.failed.size === 0) {
                (this.logger.error ?? this.logger.warn).call(this.logger, { rid: op.key, error: err.message }, 'cache write failed; store degraded, retrying with backoff');
            }
            this.failed.set(op.key, { seq: op.seq, error: err, attempts });
            this.lastError = err.message;
            const next = this.queued.get(op.key);
            if (next !== undefined) {
                // A later mutation of the RID supersedes this one; it also does this one's file cleanups.
                next.diskEntry = op.diskEntry;
                next.unlink = mergeNames(op.unlink, next.unlink);
                if (next.kind === 'write')
                    next.unlink = next.unlink.filter((n) => n !== next.entry.fileName);
            }
            else if (retryable) {
                const delay = Math.min(this.retryInitialDelayMs * 2 ** (attempts - 1), this.retryMaxDelayMs);
                const retry = { ...op, seq: ++this.opSeq, retry: true, notBefore: Date.now() + delay };
                this.queued.set(op.key, retry);
                this.retrying.add(op.key);
                this.scheduleRetry(retry.notBefore);
            }
            else {
                const current = this.index.get(op.key);
                const ours = op.kind === 'write' ? current === op.entry : current === undefined;
                if (ours) {
                    if (op.diskEntry === undefined)
                        this.indexRemove(op.key);
                    else
                        this.indexPut(op.diskEntry);
                }
                (this.logger.error ?? this.logger.warn).call(this.logger, { rid: op.key, error: err.message }, 'cache write failed; index reverted to the disk state');
            }
        }
        this.settle(op, err);
    }
    due(op, now) {
        return op.notBefore === undefined || op.notBefore <= now;
    }
    /** One timer for the earliest retry; the pump then takes every op that is due. */
    scheduleRetry(at) {
        if (this.retryTimer !== undefined && this.retryTimerAt <= at)
            return;
        if (this.retryTimer !== undefined)
            clearTimeout(this.retryTimer);
        this.retryTimerAt = at;
        this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.retryTimerAt = Infinity;
            this.pump();
            // Ops not yet due get the next timer.
            let next = Infinity;
            for (const op of this.queued.values())
                if (op.notBefore !== undefined && op.notBefore > Date.now())
                    next = Math.min(next, op.notBefore);
            if (next < Infinity)
                this.scheduleRetry(next);
        }, Math.max(0, at - Date.now()));
        // Retries alone must not keep a finished process alive.
        this.retryTimer.unref();
    }
    settle(op, err) {
        this.outstanding.delete(op.seq);
        const settlers = this.settlers.get(op.seq) ?? [];
        this.settlers.delete(op.seq);
        for (const s of settlers) {
            if (err === undefined)
                s.resolve();
            else
                s.reject(err);
        }
        if (this.syncWaiters.length === 0)
            return;
        const oldest = this.oldestOutstanding() ?? Infinity;
        const still = [];
        for (const w of this.syncWaiters) {
            if (w.upTo >= oldest)
                still.push(w);
            else
                this.failureUpTo(w.upTo).then(w.resolve, w.reject);
        }
        this.syncWaiters = still;
    }
    oldestOutstanding() {
        for (const seq of this.outstanding)
            return seq;
        return undefined;
    }
    failureUpTo(upTo) {
        for (const f of this.failed.values())
            if (f.seq <= upTo)
                return Promise.reject(f.error);
        return Promise.resolve();
    }
    invalidateSnapshot() {
        this.snapshotLive = false;
        if (!this.useSnapshot)
            return;
        try {
            unlinkSync(this.snapshotPath);
        }
        catch (err) {
            if (errorCode(err) !== 'ENOENT') {
                // A snapshot that cannot be removed would be trusted at the next open after this
                // mutation; stop rather than risk serving a stale index.
                throw new CacheError(`cannot remove the cache index snapshot ${this.snapshotPath}: ${errorMessage(err)}`, { cause: err });
            }
        }
    }
    // --- index and scan ---
    pathOf(fileName) {
        // cacheFileName never yields these; the check keeps that promise independent of it.
        if (fileName.includes('/') || fileName.includes('\\') || fileName === '.' || fileName === '..') {
            throw new CacheError(`refusing cache file name outside the cache directory: ${fileName}`);
        }
        return join(this.directory, fileName);
    }
    async unlinkQuiet(fileName) {
        try {
            await unlink(this.pathOf(fileName));
        }
        catch (err) {
            if (errorCode(err) !== 'ENOENT') {
                throw new CacheError(`cannot delete cache file ${fileName}: ${errorMessage(err)}`, { cause: err });
            }
        }
    }
    indexPut(entry) {
        const key = entry.rid.toString();
        const previous = this.index.get(key);
        if (previous !== undefined && previous !== entry)
            this.unverifiedGone(previous);
        if (previous !== undefined && previous.type !== entry.type)
            this.byType.get(previous.type)?.delete(key);
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
    indexRemove(key) {
        const entry = this.index.get(key);
        if (entry === undefined)
            return;
        this.index.delete(key);
        this.unverifiedGone(entry);
        const keys = this.byType.get(entry.type);
        keys?.delete(key);
        if (keys?.size === 0)
            this.byType.delete(entry.type);
    }
    /** Only if no write replaced the entry meanwhile (its file is then fine). */
    forgetIfCurrent(key, entry) {
        if (this.index.get(key) === entry)
            this.indexRemove(key);
    }
    async scan(concurrency) {
        let dirents;
        try {
            dirents = await readdir(this.directory, { withFileTypes: true });
        }
        catch (err) {
            throw new CacheError(`cannot list cache directory ${this.directory}: ${errorMessage(err)}`, { cause: err });
        }
        const names = [];
        const leftovers = [];
        for (const d of dirents) {
            if (!d.isFile())
                continue;
            if (TEMP_FILE.test(d.name))
                leftovers.push(d.name);
            else if (d.name.endsWith('.json'))
                names.push(d.name);
            else
                this.logger.warn({ file: d.name }, 'ignoring a file that is not a cache file');
        }
        await Promise.all(leftovers.map((name) => this.unlinkQuiet(name).catch((err) => this.logger.warn({ file: name, error: errorMessage(err) }, 'cannot remove a leftover temp file'))));
        if (this.useSnapshot && this.loadSnapshot(names))
            return;
        if (names.length <= this.deferAbove) {
            this.indexLoaded(await this.readEntries(names, concurrency));
            return;
        }
        // Deferred verification (see the class comment): only names that are not the canonical name
        // of the RID they decode to are read now, since the name alone does not say their RID.
        const toRead = [];
        for (const name of names) {
            const rid = ridFromCacheFileName(name);
            if (rid === undefined)
                toRead.push(name);
            else
                this.indexPut({ rid, fileName: name, type: rid.type.toString(), manifest: undefined });
        }
        this.indexLoaded(await this.readEntries(toRead, concurrency));
    }
    /** Reads and parses the files `names`; undefined for each that is not a valid bundle (warned). */
    async readEntries(names, concurrency) {
        const loaded = new Array(names.length);
        if (concurrency === 0) {
            for (let start = 0; start < names.length; start += SCAN_SLICE) {
                const end = Math.min(start + SCAN_SLICE, names.length);
                for (let i = start; i < end; i++)
                    loaded[i] = this.loadEntry(names[i], this.readSyncOrError(names[i]));
                // Let timers and sockets run between slices; a slice of small files takes a few ms.
                if (end < names.length)
                    await new Promise((done) => setImmediate(done));
            }
        }
        else {
            let next = 0;
            const worker = async () => {
                while (next < names.length) {
                    const i = next++;
                    let text;
                    try {
                        text = await readFileAsync(this.pathOf(names[i]), 'utf8');
                    }
                    catch (err) {
                        text = err instanceof Error ? err : new Error(String(err));
                    }
                    loaded[i] = this.loadEntry(names[i], text);
                }
            };
            await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
        }
        return loaded;
    }
    /** Indexes files read at open, resolving two files that claim one RID as the full scan always has. */
    indexLoaded(loaded) {
        // Directory order, so which of two files claiming one RID wins does not depend on timing.
        for (const entry of loaded) {
            if (entry === undefined)
                continue;
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
                this.logger.warn({ rid: key, files: [existing.fileName, entry.fileName], using: keepExisting ? existing.fileName : entry.fileName }, 'two cache files hold the same RID');
                if (keepExisting)
                    continue;
            }
            this.indexPut(entry);
        }
    }
    // --- deferred verification ---
    /** The index entry of `key`, verified first if it is not yet. */
    current(key) {
        let entry = this.index.get(key);
        // verifyNow settles the entry (checked or removed); a fallback that replaces it was read at open.
        while (entry !== undefined && entry.manifest === undefined) {
            this.verifyNow(entry);
            entry = this.index.get(key);
        }
        return entry;
    }
    /** Synchronous: ~1 KB, and the caller (readManifest, exists) must answer synchronously. */
    verifyNow(entry) {
        let result;
        try {
            result = parseBundleFile(readFileSync(this.pathOf(entry.fileName), 'utf8')).manifest;
        }
        catch (err) {
            result = err instanceof Error ? err : new Error(String(err));
        }
        this.applyVerification(entry, result);
    }
    /** What the file of `entry` turned out to hold; ignored unless `entry` is still current and unchecked. */
    applyVerification(entry, result) {
        const key = entry.rid.toString();
        // A write or delete replaced the entry after the file was read: the newer state stands.
        if (this.index.get(key) !== entry || entry.manifest !== undefined)
            return;
        if (!(result instanceof Error) && result.rid.toString() === key) {
            entry.manifest = result;
            const loser = this.shadowed.get(key);
            if (loser !== undefined) {
                this.shadowed.delete(key);
                this.logger.warn({ rid: key, files: [entry.fileName, loser.fileName], using: entry.fileName }, 'two cache files hold the same RID');
            }
            this.unverifiedGone(entry);
            return;
        }
        if (result instanceof Error) {
            this.logger.warn({ file: entry.fileName, error: result.message }, 'skipping a cache file that is not a valid bundle');
        }
        else {
            this.logger.warn({ rid: result.rid.toString(), file: entry.fileName, expected: cacheFileName(result.rid) }, 'cache file name does not match its RID');
        }
        this.indexRemove(key);
        const fallback = this.shadowed.get(key);
        this.shadowed.delete(key);
        if (fallback !== undefined)
            this.indexPut(fallback);
        if (result instanceof Error)
            return;
        // Named for one RID, holding another: the full scan indexes it under the one it holds.
        const other = result.rid.toString();
        const existing = this.index.get(other);
        if (existing === undefined) {
            this.indexPut({ rid: result.rid, fileName: entry.fileName, type: result.rid.type.toString(), manifest: result });
        }
        else {
            this.logger.warn({ rid: other, files: [existing.fileName, entry.fileName], using: existing.fileName }, 'two cache files hold the same RID');
        }
    }
    unverifiedGone(entry) {
        if (!this.unverified.delete(entry) || this.unverified.size > 0)
            return;
        this.resolveVerifiedWaiters();
    }
    clearUnverified() {
        this.unverified.clear();
        this.verifyQueue = [];
        this.verifyCursor = 0;
        this.resolveVerifiedWaiters();
    }
    resolveVerifiedWaiters() {
        const waiters = this.verifiedWaiters;
        this.verifiedWaiters = [];
        for (const w of waiters)
            w();
    }
    scheduleVerify() {
        if (this.mainVerifyScheduled)
            return;
        this.mainVerifyScheduled = true;
        // After the current task: open() finishes indexing, and answers requests, before any check.
        setImmediate(() => {
            this.mainVerifyScheduled = false;
            this.pumpVerifier();
        });
    }
    /** Up to `max` unverified entries not being verified already, in queue order. */
    takeToVerify(max, inFlight) {
        const out = [];
        while (out.length < max && this.verifyCursor < this.verifyQueue.length) {
            const entry = this.verifyQueue[this.verifyCursor++];
            if (this.unverified.has(entry) && !inFlight.has(entry))
                out.push(entry);
        }
        if (this.verifyCursor >= this.verifyQueue.length) {
            this.verifyQueue = [];
            this.verifyCursor = 0;
        }
        return out;
    }
    pumpVerifier() {
        const inFlight = new Set();
        for (const batch of this.verifyBatches.values())
            for (const e of batch)
                inFlight.add(e);
        if (this.verifierKind === 'main' || this.verifierFailed) {
            // The same slices as the full scan: a few ms each, then timers and sockets run.
            for (const entry of this.takeToVerify(SCAN_SLICE, inFlight))
                this.verifyNow(entry);
            if (this.verifyCursor < this.verifyQueue.length)
                this.scheduleVerify();
            return;
        }
        while (this.verifyBatches.size < VERIFY_BATCHES_IN_FLIGHT) {
            const batch = this.takeToVerify(VERIFY_BATCH_SIZE, inFlight);
            if (batch.length === 0)
                break;
            const id = ++this.verifyBatchId;
            this.verifyBatches.set(id, batch);
            for (const e of batch)
                inFlight.add(e);
            const thread = this.startVerifier();
            thread.ref();
            thread.postMessage({ id, paths: batch.map((e) => this.pathOf(e.fileName)) });
        }
        // Done: the thread holds a V8 heap of its own, not worth keeping for a rare re-check.
        if (this.verifyBatches.size === 0 && this.unverified.size === 0)
            void this.stopVerifier();
    }
    verifierFailed = false;
    startVerifier() {
        if (this.verifierThread !== undefined)
            return this.verifierThread;
        const thread = new Worker(VERIFIER_SOURCE, { eval: true, execArgv: [] });
        thread.on('message', (raw) => {
            const { id, results } = raw;
            const batch = this.verifyBatches.get(id);
            if (batch === undefined)
                return;
            this.verifyBatches.delete(id);
            batch.forEach((entry, i) => this.applyVerification(entry, manifestFromVerifier(results[i])));
            if (this.verifyBatches.size === 0)
                thread.unref();
            this.pumpVerifier();
        });
        thread.on('error', (err) => this.verifierDied(thread, err));
        thread.on('exit', (code) => this.verifierDied(thread, new Error(`cache verifier thread exited with code ${code}`)));
        this.verifierThread = thread;
        return thread;
    }
    /** Its batches are re-queued and the rest is checked on this thread: slower, but never lost. */
    verifierDied(thread, err) {
        if (this.verifierThread !== thread)
            return;
        this.verifierThread = undefined;
        this.verifierFailed = true;
        this.logger.warn({ error: errorMessage(err) }, 'cache verifier thread failed; verifying on the main thread');
        for (const batch of this.verifyBatches.values())
            this.verifyQueue.push(...batch);
        this.verifyBatches.clear();
        this.scheduleVerify();
    }
    async stopVerifier() {
        const thread = this.verifierThread;
        this.verifierThread = undefined;
        // Answers of batches still out would be for entries checked meanwhile (close() verifies them).
        this.verifyBatches.clear();
        if (thread !== undefined)
            await thread.terminate();
    }
    /**
     * Fills the index from the snapshot if it exists, is well formed, belongs to this directory and
     * names exactly the bundle files `names` lists. Anything else (a crash, files added or removed
     * by another process, a corrupt snapshot) returns false and the caller scans every file: a
     * different name set means someone else changed the directory, so none of it is trusted.
     */
    loadSnapshot(names) {
        let text;
        try {
            text = readFileSync(this.snapshotPath, 'utf8');
        }
        catch (err) {
            if (errorCode(err) !== 'ENOENT')
                this.logger.warn({ file: this.snapshotPath, error: errorMessage(err) }, 'cannot read the cache index snapshot; scanning');
            return false;
        }
        try {
            const json = JSON.parse(text);
            if (!isJsonObject(json) || json['version'] !== SNAPSHOT_VERSION || json['directory'] !== this.directory)
                return false;
            const rows = json['entries'];
            const ignored = json['ignored'];
            if (!Array.isArray(rows) || !Array.isArray(ignored) || rows.length + ignored.length !== names.length)
                return false;
            const expected = new Set(ignored);
            for (const row of rows)
                expected.add(Array.isArray(row) ? row[0] : undefined);
            if (expected.size !== names.length)
                return false;
            for (const name of names)
                if (!expected.has(name))
                    return false;
            const entries = [];
            for (const row of rows) {
                if (!Array.isArray(row) || row.length !== 4 || !row.every((c) => typeof c === 'string'))
                    return false;
                const [fileName, ridString, timestamp, sha256Hash] = row;
                const rid = RID.fromString(ridString);
                entries.push({ rid, fileName, type: rid.type.toString(), manifest: new Manifest({ rid, timestamp, sha256Hash }) });
            }
            for (const entry of entries)
                this.indexPut(entry);
            return true;
        }
        catch (err) {
            this.logger.warn({ file: this.snapshotPath, error: errorMessage(err) }, 'cache index snapshot is invalid; scanning');
            this.index.clear();
            this.byType.clear();
            return false;
        }
    }
    readSyncOrError(fileName) {
        try {
            return readFileSync(this.pathOf(fileName), 'utf8');
        }
        catch (err) {
            return err instanceof Error ? err : new Error(String(err));
        }
    }
    loadEntry(fileName, text) {
        try {
            if (text instanceof Error)
                throw text;
            const { manifest } = parseBundleFile(text);
            return { rid: manifest.rid, fileName, type: manifest.rid.type.toString(), manifest };
        }
        catch (err) {
            this.logger.warn({ file: fileName, error: errorMessage(err) }, 'skipping a cache file that is not a valid bundle');
            return undefined;
        }
    }
}
/**
 * Bundle.fromJSON, minus its cost: the Bundle schema is "a Manifest plus any JSON object", so it
 * is checked as such, which spares the schema validator's deep copy (structuredClone) and walk of
 * every file's contents, on each read and on every file of the start-up scan.
 */
function parseBundleFile(text) {
    const json = JSON.parse(text);
    if (!isJsonObject(json))
        throw new Error('not a JSON object');
    const contents = json['contents'];
    if (!isJsonObject(contents))
        throw new Error('contents is missing or not a JSON object');
    return new Bundle(Manifest.fromJSON(json['manifest']), contents);
}
/** The verifier thread's report as the result parseBundleFile would have given. */
function manifestFromVerifier(result) {
    if (result === undefined)
        return new Error('no answer from the verifier thread');
    if ('error' in result)
        return new Error(result.error);
    try {
        return Manifest.fromJSON(result.manifest);
    }
    catch (err) {
        return err instanceof Error ? err : new Error(String(err));
    }
}
function ridKey(rid) {
    return RID.of(rid).toString();
}
function mergeNames(a, b) {
    return b.length === 0 ? [...a] : [...new Set([...a, ...b])];
}
//# sourceMappingURL=cache.js.map