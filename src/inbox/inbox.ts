import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { silentLogger, type Logger } from '../logger.ts';
import { errorText } from '../util/error-text.ts';
import type { Startable } from '../util/lifecycle.ts';
import { atomicWrite, readSnapshotText, RecordLog } from '../storage/index.ts';

/** One accepted broadcast: its sequence number and the raw wire events, as the sender sent them. */
export interface InboxEntry {
  seq: number;
  events: unknown[];
}

export interface InboxOptions {
  /**
   * Rewrite the log (keeping only the entries after the checkpoint) once it grows past this many bytes.
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
  /** Entries in the log the checkpoint has not passed yet (processed ones included until it does). */
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
 * What the intake needs of an inbox: the seam a second backend (PostgreSQL: src/postgres/inbox.ts)
 * implements. `Inbox` (below) is the file one. Contract: `append` assigns the next seq at once and
 * `done` resolves only once the entry is durable (the 200 waits for it; a rejection means nothing
 * was acknowledged); `markProcessed` lets the checkpoint pass entries, which are then never
 * replayed; `recovered` holds the entries after the checkpoint found at open, oldest first.
 */
export interface InboxLog {
  readonly recovered: readonly InboxEntry[];
  readonly lastSeq: number;
  readonly processedSeq: number;
  append(events: readonly unknown[], rawBody?: Buffer): PendingAppend;
  markProcessed(seq: number): void;
  /** Writes the checkpoint now; resolves once it is durable. */
  flushCheckpoint(): Promise<void>;
  /** Finishes pending writes and writes the checkpoint; the log must not be used afterwards. */
  close(): Promise<void>;
  stats(): InboxStats;
}

const DEFAULT_COMPACT_BYTES = 8 * 1024 * 1024;
const DEFAULT_CHECKPOINT_DELAY_MS = 200;

/**
 * The append-only log of accepted broadcasts plus its checkpoint (design: src/inbox/index.ts), on
 * the storage engine: the log is a RecordLog (group commit, torn-tail cut, compaction), the
 * checkpoint a small snapshot written by atomicWrite.
 */
export class Inbox implements Startable, InboxLog {
  readonly checkpointPath: string;
  /** Entries after the checkpoint found at open, oldest first; the node replays them once. */
  readonly recovered: readonly InboxEntry[];
  private readonly logger: Logger;
  private readonly compactBytes: number;
  private readonly checkpointDelayMs: number;
  private readonly beforeCheckpoint: (() => Promise<void>) | undefined;
  private seq: number;
  private processed: number;
  private checkpointed: number;
  /**
   * Lines the checkpoint has not passed, by seq, so compaction can rewrite them without re-reading.
   * A processed line stays until then: dropping it at markProcessed let a compaction between the
   * two lose events whose cache files were not yet written (seen as lost events in the SIGKILL test).
   */
  private readonly uncheckpointed = new Map<number, Buffer[]>();
  /** Bytes of the lines in `uncheckpointed`: what a compaction would have to keep. */
  private uncheckpointedBytes = 0;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointScheduled = false;
  private closed = false;
  private readonly counts = { appends: 0, checkpoints: 0, compactions: 0, skippedLines: 0 };

  private constructor(
    readonly filePath: string,
    private readonly log: RecordLog,
    init: { seq: number; checkpoint: number; recovered: InboxEntry[]; lines: Map<number, Buffer[]>; skipped: number },
    options: InboxOptions,
  ) {
    this.checkpointPath = `${filePath}.checkpoint`;
    this.logger = options.logger ?? silentLogger;
    this.compactBytes = options.compactBytes ?? DEFAULT_COMPACT_BYTES;
    this.checkpointDelayMs = options.checkpointDelayMs ?? DEFAULT_CHECKPOINT_DELAY_MS;
    this.beforeCheckpoint = options.beforeCheckpoint;
    this.seq = init.seq;
    this.processed = init.checkpoint;
    this.checkpointed = init.checkpoint;
    this.recovered = init.recovered;
    for (const [seq, line] of init.lines) this.keepLine(seq, line);
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
    const { log, contents } = await RecordLog.open(filePath, { fsync: options.fsync ?? false });
    let seq = checkpoint;
    let skipped = 0;
    const recovered: InboxEntry[] = [];
    const lines = new Map<number, Buffer[]>();
    if (contents.tornBytes > 0) {
      skipped++;
      logger.warn({ filePath, bytes: contents.tornBytes }, 'inbox log ends with a torn line (a request that was never acknowledged); dropped it');
    }
    for (const line of contents.records) {
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
    if (recovered.length > 0 || skipped > 0) {
      logger.info({ filePath, checkpoint, recovered: recovered.length, lastSeq: seq, skipped }, 'inbox opened with unprocessed entries');
    }
    return new Inbox(filePath, log, { seq, checkpoint, recovered, lines, skipped }, options);
  }

  get lastSeq(): number {
    return this.seq;
  }

  get processedSeq(): number {
    return this.processed;
  }

  /** Nothing to acquire: the file is opened by open(), the checkpoint timer armed on demand. */
  start(): void {}

  /** Startable: the same as close(). */
  stop(): Promise<void> {
    return this.close();
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
    this.keepLine(seq, line);
    this.counts.appends++;
    const done = this.log.append(line).catch((err: unknown) => {
      // The caller answers an error, so the sender retries: nothing unacknowledged is kept.
      this.dropLine(seq);
      this.logger.error({ filePath: this.filePath, err: errorText(err) }, 'cannot append to the inbox log');
      throw err;
    });
    return { seq, done };
  }

  /** Every entry with seq <= `seq` is processed; the checkpoint follows shortly (coalesced). */
  markProcessed(seq: number): void {
    if (seq <= this.processed) return;
    this.processed = Math.min(seq, this.seq);
    // The lines stay kept until the checkpoint passes them: processed is not yet durable (the
    // cache files may still be in the write-behind), and a compaction in between must keep them.
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
    await this.log.close();
  }

  stats(): InboxStats {
    return {
      lastSeq: this.seq,
      processedSeq: this.processed,
      checkpointSeq: this.checkpointed,
      unprocessed: this.uncheckpointed.size,
      appends: this.counts.appends,
      writes: this.log.writes,
      bytesAppended: this.log.bytesAppended,
      checkpoints: this.counts.checkpoints,
      compactions: this.counts.compactions,
      skippedLines: this.counts.skippedLines,
      logBytes: this.log.size,
      recovered: this.recovered.length,
    };
  }

  // --- internals -------------------------------------------------------------------------------

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
   * The wait for beforeCheckpoint runs outside the log's chain: appends share that chain, and
   * holding it while the cache catches up would hold every broadcast's 200 too.
   */
  private async checkpoint(): Promise<void> {
    // Taken before the sync: everything processed up to it was handed to the cache before now.
    const target = this.processed;
    // A failure throws: the checkpoint stays behind, so the batch is replayed after a restart.
    if (target > this.checkpointed && this.beforeCheckpoint) await this.beforeCheckpoint();
    await this.log.exclusive(async () => {
      if (this.closed || target <= this.checkpointed) return;
      await atomicWrite(this.checkpointPath, `${JSON.stringify({ seq: target })}\n`);
      this.checkpointed = target;
      for (const key of this.uncheckpointed.keys()) {
        // Map keeps insertion (= seq) order, so the first key above the checkpoint ends the sweep.
        if (key > target) break;
        this.dropLine(key);
      }
      this.counts.checkpoints++;
    });
    // Compact only behind a checkpoint on disk: the rewritten log drops entries <= checkpoint.
    // And only when at least half the file would go: while the files of a long burst follow
    // behind, the checkpoint passes a little at a time, and compacting at each step rewrote (and
    // copied in memory) megabytes of kept lines over and over.
    if (this.log.size > this.compactBytes && this.uncheckpointedBytes * 2 <= this.log.size) await this.compact();
  }

  private keepLine(seq: number, line: Buffer[]): void {
    this.uncheckpointed.set(seq, line);
    for (const piece of line) this.uncheckpointedBytes += piece.length;
  }

  private dropLine(seq: number): void {
    const line = this.uncheckpointed.get(seq);
    if (line === undefined) return;
    this.uncheckpointed.delete(seq);
    for (const piece of line) this.uncheckpointedBytes -= piece.length;
  }

  /** Rewrites the log with only the entries after the checkpoint (skipped while appends wait). */
  private async compact(): Promise<void> {
    const before = this.log.size;
    let kept = 0;
    const done = await this.log.compact(() => {
      if (this.closed) return undefined;
      // Exactly the entries after the checkpoint: the map loses its lines as the checkpoint passes them.
      const keep = [...this.uncheckpointed.values()];
      kept = keep.length;
      return Buffer.concat(keep.flat());
    });
    if (!done) return;
    this.counts.compactions++;
    this.logger.info({ filePath: this.filePath, bytesBefore: before, bytesAfter: this.log.size, kept }, 'inbox log compacted');
  }
}

async function readCheckpoint(path: string, logger: Logger): Promise<number> {
  const text = await readSnapshotText(path);
  if (text === undefined) return 0;
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



