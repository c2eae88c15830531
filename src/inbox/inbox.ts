import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { silentLogger, type Logger } from '../logger.ts';
import { errorCode, errorText } from '../util/error-text.ts';
import { atomicWrite } from '../storage/atomic-write.ts';

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

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

const DEFAULT_COMPACT_BYTES = 8 * 1024 * 1024;
const DEFAULT_CHECKPOINT_DELAY_MS = 200;

/**
 * The append-only log of accepted broadcasts plus its checkpoint (design: src/inbox/index.ts).
 * Every file operation runs on one promise chain, so appends, checkpoint-driven compaction and
 * close never interleave on the file.
 */
export class Inbox {
  readonly checkpointPath: string;
  /** Entries after the checkpoint found at open, oldest first; the node replays them once. */
  readonly recovered: readonly InboxEntry[];
  private readonly logger: Logger;
  private readonly compactBytes: number;
  private readonly checkpointDelayMs: number;
  private readonly fsync: boolean;
  private readonly beforeCheckpoint: (() => Promise<void>) | undefined;
  private seq: number;
  private processed: number;
  private checkpointed: number;
  /** Lines not yet known processed, by seq, so compaction can rewrite them without re-reading. */
  private readonly unprocessed = new Map<number, Buffer[]>();
  /** The pieces of the lines waiting for the next write call, in order. */
  private batchLines: Buffer[] = [];
  private batchWaiters: Waiter[] = [];
  private batchSeqs: number[] = [];
  private writeScheduled = false;
  private ops: Promise<void> = Promise.resolve();
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointScheduled = false;
  private closed = false;
  private size: number;
  private readonly counts = { appends: 0, writes: 0, bytesAppended: 0, checkpoints: 0, compactions: 0, skippedLines: 0 };

  private constructor(
    readonly filePath: string,
    private fh: FileHandle,
    init: { seq: number; checkpoint: number; size: number; recovered: InboxEntry[]; lines: Map<number, Buffer[]>; skipped: number },
    options: InboxOptions,
  ) {
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
    for (const [seq, line] of init.lines) this.unprocessed.set(seq, line);
    this.counts.skippedLines = init.skipped;
  }

  /**
   * Reads the checkpoint and the log. A final line without its newline is the torn write of a
   * request that was never answered (the answer waits for the whole line), so it is cut off.
   */
  static async open(filePath: string, options: InboxOptions = {}): Promise<Inbox> {
    const logger = options.logger ?? silentLogger;
    await mkdir(dirname(filePath), { recursive: true });
    const checkpoint = await readCheckpoint(`${filePath}.checkpoint`, logger);
    let text = '';
    try {
      text = await readFile(filePath, 'utf8');
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
    }
    let seq = checkpoint;
    let skipped = 0;
    const recovered: InboxEntry[] = [];
    const lines = new Map<number, Buffer[]>();
    const lastNewline = text.lastIndexOf('\n');
    const complete = lastNewline < 0 ? '' : text.slice(0, lastNewline + 1);
    if (complete.length < text.length) {
      skipped++;
      logger.warn({ filePath, bytes: Buffer.byteLength(text) - Buffer.byteLength(complete) }, 'inbox log ends with a torn line (a request that was never acknowledged); dropped it');
    }
    for (const line of complete.split('\n')) {
      if (line.length === 0) continue;
      const entry = parseLine(line);
      if (entry === undefined) {
        // Only a bug or a disk fault gets here: every line is written whole before its 200.
        skipped++;
        logger.error({ filePath, line: line.slice(0, 120) }, 'unreadable inbox line skipped');
        continue;
      }
      if (entry.seq > seq) seq = entry.seq;
      if (entry.seq <= checkpoint) continue;
      recovered.push(entry);
      lines.set(entry.seq, [Buffer.from(`${line}\n`, 'utf8')]);
    }
    recovered.sort((a, b) => a.seq - b.seq);
    const size = Buffer.byteLength(complete);
    const fh = await open(filePath, 'a+');
    if (complete.length < text.length) await fh.truncate(size);
    if (recovered.length > 0 || skipped > 0) {
      logger.info({ filePath, checkpoint, recovered: recovered.length, lastSeq: seq, skipped }, 'inbox opened with unprocessed entries');
    }
    return new Inbox(filePath, fh, { seq, checkpoint, size, recovered, lines, skipped }, options);
  }

  get lastSeq(): number {
    return this.seq;
  }

  get processedSeq(): number {
    return this.processed;
  }

  /**
   * Records a batch. The seq is assigned now; `done` resolves once its line is in the file.
   * Appends made while a write is running share the next write call (group commit), and one
   * batch's line is always inside one write call.
   *
   * `rawBody`: the request body `events` was parsed from (`events` must be its `events` field).
   * When it is one line of JSON it is logged as it came, `{"seq":N,"body":<rawBody>}`, which
   * spares serializing the batch again (the biggest cost of an append).
   */
  append(events: readonly unknown[], rawBody?: Buffer): PendingAppend {
    if (this.closed) throw new Error('inbox is closed');
    const seq = ++this.seq;
    // Pieces, written with one writev: the body is never copied.
    const line =
      rawBody !== undefined && isOneLineJsonObject(rawBody)
        ? [Buffer.from(`{"seq":${seq},"body":`, 'latin1'), rawBody, LINE_END]
        : [Buffer.from(`${JSON.stringify({ seq, events })}\n`, 'utf8')];
    this.unprocessed.set(seq, line);
    const done = new Promise<void>((resolve, reject) => {
      this.batchWaiters.push({ resolve, reject });
    });
    for (const piece of line) this.batchLines.push(piece);
    this.batchSeqs.push(seq);
    this.counts.appends++;
    if (!this.writeScheduled) {
      this.writeScheduled = true;
      this.enqueue(() => this.writeBatch());
    }
    return { seq, done };
  }

  /** Every entry with seq <= `seq` is processed; the checkpoint follows shortly (coalesced). */
  markProcessed(seq: number): void {
    if (seq <= this.processed) return;
    this.processed = Math.min(seq, this.seq);
    for (const key of this.unprocessed.keys()) {
      // Map keeps insertion (= seq) order, so the first key above the mark ends the sweep.
      if (key > this.processed) break;
      this.unprocessed.delete(key);
    }
    this.scheduleCheckpoint();
  }

  /** Writes the checkpoint now (and compacts if due); resolves when both are on disk. */
  flushCheckpoint(): Promise<void> {
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    this.checkpointScheduled = false;
    return this.checkpoint();
  }

  /** Finishes pending writes, writes the checkpoint, closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flushCheckpoint();
    this.closed = true;
    await this.enqueue(() => this.fh.close());
  }

  stats(): InboxStats {
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

  private enqueue(op: () => Promise<void>): Promise<void> {
    const run = this.ops.then(op);
    this.ops = run.catch(() => undefined);
    return run;
  }

  private async writeBatch(): Promise<void> {
    this.writeScheduled = false;
    const lines = this.batchLines;
    const waiters = this.batchWaiters;
    const seqs = this.batchSeqs;
    this.batchLines = [];
    this.batchWaiters = [];
    this.batchSeqs = [];
    const length = lines.reduce((n, b) => n + b.length, 0);
    const before = this.size;
    try {
      await writevAll(this.fh, lines);
      if (this.fsync) await this.fh.datasync();
      this.size += length;
      this.counts.writes++;
      this.counts.bytesAppended += length;
      for (const w of waiters) w.resolve();
    } catch (err) {
      // Cut a partial write off so the next append does not glue onto half a line; the callers
      // answer an error, so the sender retries and nothing unacknowledged is kept.
      await this.fh.truncate(before).catch(() => undefined);
      for (const seq of seqs) this.unprocessed.delete(seq);
      this.logger.error({ filePath: this.filePath, err: errorText(err) }, 'cannot append to the inbox log');
      for (const w of waiters) w.reject(err);
    }
  }

  private scheduleCheckpoint(): void {
    if (this.checkpointScheduled || this.closed) return;
    this.checkpointScheduled = true;
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = undefined;
      this.checkpointScheduled = false;
      this.checkpoint().catch((err: unknown) => {
        this.logger.error({ filePath: this.checkpointPath, err: errorText(err) }, 'cannot write the inbox checkpoint');
      });
    }, this.checkpointDelayMs);
    // A pending checkpoint must not keep a finished process alive; close() writes it anyway.
    this.checkpointTimer.unref();
  }

  /**
   * The wait for beforeCheckpoint runs outside the op chain: appends share that chain, and holding
   * it while the cache catches up would hold every broadcast's 200 too.
   */
  private async checkpoint(): Promise<void> {
    // Taken before the sync: everything processed up to it was handed to the cache before now.
    const target = this.processed;
    // A failure throws: the checkpoint stays behind, so the batch is replayed after a restart.
    if (target > this.checkpointed && this.beforeCheckpoint) await this.beforeCheckpoint();
    await this.enqueue(() => this.checkpointAndCompact(target));
  }

  private async checkpointAndCompact(target: number): Promise<void> {
    if (this.closed) return;
    if (target > this.checkpointed) {
      await atomicWrite(this.checkpointPath, `${JSON.stringify({ seq: target })}\n`);
      this.checkpointed = target;
      this.counts.checkpoints++;
    }
    // Compact only behind a checkpoint on disk: the rewritten log drops entries <= checkpoint.
    if (this.size > this.compactBytes && this.batchLines.length === 0) await this.compact();
  }

  /**
   * Rewrites the log with only the entries after the checkpoint (temp file + rename, so a crash
   * leaves the old or the new log, both valid). Runs on the op chain: no append is in progress.
   */
  private async compact(): Promise<void> {
    const keep = [...this.unprocessed.entries()].filter(([seq]) => seq > this.checkpointed).map(([, line]) => line);
    const text = Buffer.concat(keep.flat());
    const before = this.size;
    await atomicWrite(this.filePath, text);
    await this.fh.close();
    this.fh = await open(this.filePath, 'a+');
    this.size = text.length;
    this.counts.compactions++;
    this.logger.info({ filePath: this.filePath, bytesBefore: before, bytesAfter: this.size, kept: keep.length }, 'inbox log compacted');
  }
}

async function readCheckpoint(path: string, logger: Logger): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return 0;
    throw err;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    const seq = typeof parsed === 'object' && parsed !== null ? (parsed as { seq?: unknown }).seq : undefined;
    if (typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0) return seq;
  } catch {
    // fall through
  }
  // Written by rename only, so this is a disk fault; replaying everything is the safe side.
  logger.error({ path }, 'inbox checkpoint unreadable; replaying the whole log');
  return 0;
}

const LINE_END = Buffer.from('}\n', 'latin1');
/** Most buffers one writev takes (IOV_MAX is 1024 on Linux). */
const MAX_IOVECS = 1024;

/** Appends every byte of `pieces`, in order, however the kernel splits the writes. */
async function writevAll(fh: FileHandle, pieces: readonly Buffer[]): Promise<void> {
  let rest = pieces.filter((b) => b.length > 0);
  while (rest.length > 0) {
    const chunk = rest.length > MAX_IOVECS ? rest.slice(0, MAX_IOVECS) : rest;
    let { bytesWritten } = await fh.writev(chunk);
    let i = 0;
    while (i < chunk.length && bytesWritten >= chunk[i]!.length) bytesWritten -= chunk[i++]!.length;
    const tail = rest.slice(i);
    if (bytesWritten > 0) tail[0] = tail[0]!.subarray(bytesWritten);
    rest = tail;
  }
}
const OPEN_BRACE = 0x7b;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * A body that can be embedded in a log line as it is: starts with `{` (no BOM or leading
 * whitespace, so it is the JSON object itself) and holds no line break, which would split the line.
 * JSON.parse already accepted it, so it is one complete object.
 */
function isOneLineJsonObject(raw: Buffer): boolean {
  return raw.length > 0 && raw[0] === OPEN_BRACE && raw.indexOf(NEWLINE) < 0 && raw.indexOf(CARRIAGE_RETURN) < 0;
}

/** `{"seq":N,"events":[...]}`, or `{"seq":N,"body":{"events":[...],...}}` for a body logged as it came. */
function parseLine(line: string): InboxEntry | undefined {
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { seq, body } = parsed as { seq?: unknown; body?: unknown };
    let { events } = parsed as { events?: unknown };
    if (events === undefined && typeof body === 'object' && body !== null && !Array.isArray(body)) {
      events = Object.prototype.hasOwnProperty.call(body, 'events') ? (body as { events?: unknown }).events : undefined;
    }
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1 || !Array.isArray(events)) return undefined;
    return { seq, events: events as unknown[] };
  } catch {
    return undefined;
  }
}



