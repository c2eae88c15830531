import { type Logger } from '../logger.ts';
/** One accepted broadcast: its sequence number and the raw wire events, as the sender sent them. */
export interface InboxEntry {
    seq: number;
    events: unknown[];
}
export interface InboxOptions {
    /**
     * Rewrite the log (keeping only unprocessed entries) once it grows past this many bytes.
     * Default 8 MiB: big enough that compaction is rare under load, small enough that recovery
     * reads little.
     */
    compactBytes?: number;
    /** Checkpoint writes are coalesced: at most one per this many ms (default 200). */
    checkpointDelayMs?: number;
    /**
     * fdatasync after every group of appends. Off by default: the page cache survives a SIGKILL,
     * and only power loss or a kernel crash needs the (costly) sync.
     */
    fsync?: boolean;
    /**
     * Awaited before each checkpoint write; the checkpoint is written only if it resolves. The
     * node passes the cache's sync(): processed means "in the cache" only once the write-behind
     * cache has the files on disk, so the checkpoint must not pass a batch before that.
     */
    beforeCheckpoint?: () => Promise<void>;
    logger?: Logger;
}
export interface InboxStats {
    /** Sequence number of the newest accepted entry. */
    lastSeq: number;
    /** Highest sequence number known processed (in memory). */
    processedSeq: number;
    /** Highest sequence number in the checkpoint file. */
    checkpointSeq: number;
    /** Entries in the log not yet processed. */
    unprocessed: number;
    appends: number;
    /** Write calls to the log (appends are group-committed, so usually fewer than appends). */
    writes: number;
    bytesAppended: number;
    checkpoints: number;
    compactions: number;
    logBytes: number;
    /** Entries found unprocessed at open (to be replayed). */
    recovered: number;
    /** Torn or unreadable lines skipped at open. */
    skippedLines: number;
}
/** The handle append() gives back at once, so a caller knows the seq even when the write fails. */
export interface PendingAppend {
    seq: number;
    /** Resolves once the entry's line is in the file. */
    done: Promise<void>;
}
/**
 * The append-only log of accepted broadcasts plus its checkpoint (design: src/inbox/index.ts).
 * Every file operation runs on one promise chain, so appends, checkpoint-driven compaction and
 * close never interleave on the file.
 */
export declare class Inbox {
    readonly filePath: string;
    private fh;
    readonly checkpointPath: string;
    /** Entries after the checkpoint found at open, oldest first; the node replays them once. */
    readonly recovered: readonly InboxEntry[];
    private readonly logger;
    private readonly compactBytes;
    private readonly checkpointDelayMs;
    private readonly fsync;
    private readonly beforeCheckpoint;
    private seq;
    private processed;
    private checkpointed;
    /** Lines not yet known processed, by seq, so compaction can rewrite them without re-reading. */
    private readonly unprocessed;
    private batchLines;
    private batchWaiters;
    private batchSeqs;
    private writeScheduled;
    private ops;
    private checkpointTimer;
    private checkpointScheduled;
    private closed;
    private size;
    private readonly counts;
    private constructor();
    /**
     * Reads the checkpoint and the log. A final line without its newline is the torn write of a
     * request that was never answered (the answer waits for the whole line), so it is cut off.
     */
    static open(filePath: string, options?: InboxOptions): Promise<Inbox>;
    get lastSeq(): number;
    get processedSeq(): number;
    /**
     * Records a batch. The seq is assigned now; `done` resolves once its line is in the file.
     * Appends made while a write is running share the next write call (group commit), and one
     * batch's line is always inside one write call.
     */
    append(events: readonly unknown[]): PendingAppend;
    /** Every entry with seq <= `seq` is processed; the checkpoint follows shortly (coalesced). */
    markProcessed(seq: number): void;
    /** Writes the checkpoint now (and compacts if due); resolves when both are on disk. */
    flushCheckpoint(): Promise<void>;
    /** Finishes pending writes, writes the checkpoint, closes the file. */
    close(): Promise<void>;
    stats(): InboxStats;
    private enqueue;
    private writeBatch;
    private scheduleCheckpoint;
    /**
     * The wait for beforeCheckpoint runs outside the op chain: appends share that chain, and holding
     * it while the cache catches up would hold every broadcast's 200 too.
     */
    private checkpoint;
    private checkpointAndCompact;
    /**
     * Rewrites the log with only the entries after the checkpoint (temp file + rename, so a crash
     * leaves the old or the new log, both valid). Runs on the op chain: no append is in progress.
     */
    private compact;
}
