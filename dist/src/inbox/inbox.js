import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { silentLogger } from "../logger.js";
const DEFAULT_COMPACT_BYTES = 8 * 1024 * 1024;
const DEFAULT_CHECKPOINT_DELAY_MS = 200;
/**
 * The append-only log of accepted broadcasts plus its checkpoint (design: src/inbox/index.ts).
 * Every file operation runs on one promise chain, so appends, checkpoint-driven compaction and
 * close never interleave on the file.
 */
export class Inbox {
    filePath;
    fh;
    checkpointPath;
    /** Entries after the checkpoint found at open, oldest first; the node replays them once. */
    recovered;
    logger;
    compactBytes;
    checkpointDelayMs;
    fsync;
    beforeCheckpoint;
    seq;
    processed;
    checkpointed;
    /** Lines not yet known processed, by seq, so compaction can rewrite them without re-reading. */
    unprocessed = new Map();
    batchLines = [];
    batchWaiters = [];
    batchSeqs = [];
    writeScheduled = false;
    ops = Promise.resolve();
    checkpointTimer;
    checkpointScheduled = false;
    closed = false;
    size;
    counts = { appends: 0, writes: 0, bytesAppended: 0, checkpoints: 0, compactions: 0, skippedLines: 0 };
    constructor(filePath, fh, init, options) {
        this.filePath = filePath;
        this.fh = fh;
        this.checkpointPath = `${filePath}.checkpoint`;
        this.logger = options.logger ?? silentLogger;
        this.compactBytes = options.compactBytes ?? DEFAULT_COMPACT_BYTES;
        this.checkpointDelayMs = options.checkpointDelayMs ?? DEFAULT_CHECKPOINT_DELAY_MS;
        this.fsync = options.fsync ?? false;
        this.beforeCheckpoint = options.beforeCheckpoint;
        this.seq = init.seq;
        this.processed = init.checkpoint;
        this.checkpointed = init.checkpoint;
        this.size = init.size;
        this.recovered = init.recovered;
        for (const [seq, line] of init.lines)
            this.unprocessed.set(seq, line);
        this.counts.skippedLines = init.skipped;
    }
    /**
     * Reads the checkpoint and the log. A final line without its newline is the torn write of a
     * request that was never answered (the answer waits for the whole line), so it is cut off.
     */
    static async open(filePath, options = {}) {
        const logger = options.logger ?? silentLogger;
        await mkdir(dirname(filePath), { recursive: true });
        const checkpoint = await readCheckpoint(`${filePath}.checkpoint`, logger);
        let text = '';
        try {
            text = await readFile(filePath, 'utf8');
        }
        catch (err) {
            if (errorCode(err) !== 'ENOENT')
                throw err;
        }
        let seq = checkpoint;
        let skipped = 0;
        const recovered = [];
        const lines = new Map();
        const lastNewline = text.lastIndexOf('\n');
        const complete = lastNewline < 0 ? '' : text.slice(0, lastNewline + 1);
        if (complete.length < text.length) {
            skipped++;
            logger.warn({ filePath, bytes: Buffer.byteLength(text) - Buffer.byteLength(complete) }, 'inbox log ends with a torn line (a request that was never acknowledged); dropped it');
        }
        for (const line of complete.split('\n')) {
            if (line.length === 0)
                continue;
            const entry = parseLine(line);
            if (entry === undefined) {
                // Only a bug or a disk fault gets here: every line is written whole before its 200.
                skipped++;
                logger.error({ filePath, line: line.slice(0, 120) }, 'unreadable inbox line skipped');
                continue;
            }
            if (entry.seq > seq)
                seq = entry.seq;
            if (entry.seq <= checkpoint)
                continue;
            recovered.push(entry);
            lines.set(entry.seq, `${line}\n`);
        }
        recovered.sort((a, b) => a.seq - b.seq);
        const size = Buffer.byteLength(complete);
        const fh = await open(filePath, 'a+');
        if (complete.length < text.length)
            await fh.truncate(size);
        if (recovered.length > 0 || skipped > 0) {
            logger.info({ filePath, checkpoint, recovered: recovered.length, lastSeq: seq, skipped }, 'inbox opened with unprocessed entries');
        }
        return new Inbox(filePath, fh, { seq, checkpoint, size, recovered, lines, skipped }, options);
    }
    get lastSeq() {
        return this.seq;
    }
    get processedSeq() {
        return this.processed;
    }
    /**
     * Records a batch. The seq is assigned now; `done` resolves once its line is in the file.
     * Appends made while a write is running share the next write call (group commit), and one
     * batch's line is always inside one write call.
     */
    append(events) {
        if (this.closed)
            throw new Error('inbox is closed');
        const seq = ++this.seq;
        const line = `${JSON.stringify({ seq, events })}\n`;
        this.unprocessed.set(seq, line);
        const done = new Promise((resolve, reject) => {
            this.batchWaiters.push({ resolve, reject });
        });
        this.batchLines.push(line);
        this.batchSeqs.push(seq);
        this.counts.appends++;
        if (!this.writeScheduled) {
            this.writeScheduled = true;
            this.enqueue(() => this.writeBatch());
        }
        return { seq, done };
    }
    /** Every entry with seq <= `seq` is processed; the checkpoint follows shortly (coalesced). */
    markProcessed(seq) {
        if (seq <= this.processed)
            return;
        this.processed = Math.min(seq, this.seq);
        for (const key of this.unprocessed.keys()) {
            // Map keeps insertion (= seq) order, so the first key above the mark ends the sweep.
            if (key > this.processed)
                break;
            this.unprocessed.delete(key);
        }
        this.scheduleCheckpoint();
    }
    /** Writes the checkpoint now (and compacts if due); resolves when both are on disk. */
    flushCheckpoint() {
        if (this.checkpointTimer)
            clearTimeout(this.checkpointTimer);
        this.checkpointTimer = undefined;
        this.checkpointScheduled = false;
        return this.checkpoint();
    }
    /** Finishes pending writes, writes the checkpoint, closes the file. */
    async close() {
        if (this.closed)
            return;
        await this.flushCheckpoint();
        this.closed = true;
        await this.enqueue(() => this.fh.close());
    }
    stats() {
        return {
            lastSeq: this.seq,
            processedSeq: this.processed,
            checkpointSeq: this.checkpointed,
            unprocessed: this.unprocessed.size,
            ...this.counts,
            logBytes: this.size,
            recovered: this.recovered.length,
        };
    }
    // --- internals -------------------------------------------------------------------------------
    enqueue(op) {
        const run = this.ops.then(op);
        this.ops = run.catch(() => undefined);
        return run;
    }
    async writeBatch() {
        this.writeScheduled = false;
        const lines = this.batchLines;
        const waiters = this.batchWaiters;
        const seqs = this.batchSeqs;
        this.batchLines = [];
        this.batchWaiters = [];
        this.batchSeqs = [];
        const buffer = Buffer.from(lines.length === 1 ? lines[0] : lines.join(''), 'utf8');
        const before = this.size;
        try {
            let offset = 0;
            while (offset < buffer.length) {
                const { bytesWritten } = await this.fh.write(buffer, offset, buffer.length - offset, null);
                offset += bytesWritten;
            }
            if (this.fsync)
                await this.fh.datasync();
            this.size += buffer.length;
            this.counts.writes++;
            this.counts.bytesAppended += buffer.length;
            for (const w of waiters)
                w.resolve();
        }
        catch (err) {
            // Cut a partial write off so the next append does not glue onto half a line; the callers
            // answer an error, so the sender retries and nothing unacknowledged is kept.
            await this.fh.truncate(before).catch(() => undefined);
            for (const seq of seqs)
                this.unprocessed.delete(seq);
            this.logger.error({ filePath: this.filePath, err: errorMessage(err) }, 'cannot append to the inbox log');
            for (const w of waiters)
                w.reject(err);
        }
    }
    scheduleCheckpoint() {
        if (this.checkpointScheduled || this.closed)
            return;
        this.checkpointScheduled = true;
        this.checkpointTimer = setTimeout(() => {
            this.checkpointTimer = undefined;
            this.checkpointScheduled = false;
            this.checkpoint().catch((err) => {
                this.logger.error({ filePath: this.checkpointPath, err: errorMessage(err) }, 'cannot write the inbox checkpoint');
            });
        }, this.checkpointDelayMs);
        // A pending checkpoint must not keep a finished process alive; close() writes it anyway.
        this.checkpointTimer.unref();
    }
    /**
     * The wait for beforeCheckpoint runs outside the op chain: appends share that chain, and holding
     * it while the cache catches up would hold every broadcast's 200 too.
     */
    async checkpoint() {
        // Taken before the sync: everything processed up to it was handed to the cache before now.
        const target = this.processed;
        // A failure throws: the checkpoint stays behind, so the batch is replayed after a restart.
        if (target > this.checkpointed && this.beforeCheckpoint)
            await this.beforeCheckpoint();
        await this.enqueue(() => this.checkpointAndCompact(target));
    }
    async checkpointAndCompact(target) {
        if (this.closed)
            return;
        if (target > this.checkpointed) {
            await atomicWrite(this.checkpointPath, `${JSON.stringify({ seq: target })}\n`);
            this.checkpointed = target;
            this.counts.checkpoints++;
        }
        // Compact only behind a checkpoint on disk: the rewritten log drops entries <= checkpoint.
        if (this.size > this.compactBytes && this.batchLines.length === 0)
            await this.compact();
    }
    /**
     * Rewrites the log with only the entries after the checkpoint (temp file + rename, so a crash
     * leaves the old or the new log, both valid). Runs on the op chain: no append is in progress.
     */
    async compact() {
        const keep = [...this.unprocessed.entries()].filter(([seq]) => seq > this.checkpointed).map(([, line]) => line);
        const text = keep.join('');
        const before = this.size;
        await atomicWrite(this.filePath, text);
        await this.fh.close();
        this.fh = await open(this.filePath, 'a+');
        this.size = Buffer.byteLength(text);
        this.counts.compactions++;
        this.logger.info({ filePath: this.filePath, bytesBefore: before, bytesAfter: this.size, kept: keep.length }, 'inbox log compacted');
    }
}
async function readCheckpoint(path, logger) {
    let text;
    try {
        text = await readFile(path, 'utf8');
    }
    catch (err) {
        if (errorCode(err) === 'ENOENT')
            return 0;
        throw err;
    }
    try {
        const parsed = JSON.parse(text);
        const seq = typeof parsed === 'object' && parsed !== null ? parsed.seq : undefined;
        if (typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0)
            return seq;
    }
    catch {
        // fall through
    }
    // Written by rename only, so this is a disk fault; replaying everything is the safe side.
    logger.error({ path }, 'inbox checkpoint unreadable; replaying the whole log');
    return 0;
}
function parseLine(line) {
    try {
        const parsed = JSON.parse(line);
        if (typeof parsed !== 'object' || parsed === null)
            return undefined;
        const { seq, events } = parsed;
        if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1 || !Array.isArray(events))
            return undefined;
        return { seq, events: events };
    }
    catch {
        return undefined;
    }
}
let tempCounter = 0;
async function atomicWrite(path, text) {
    const temp = `${path}.tmp-${process.pid}-${++tempCounter}`;
    await writeFile(temp, text, 'utf8');
    await rename(temp, path);
}
function errorCode(err) {
    return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}
function errorMessage(err) {
    return err instanceof Error ? err.message : String(err);
}
//# sourceMappingURL=inbox.js.map