import { open, readFile, type FileHandle } from 'node:fs/promises';
import { atomicWrite } from './atomic-write.ts';
import { isNotFound, StorageError, storageOp } from './errors.ts';
import { Serial } from '../util/serial.ts';

export interface RecordLogOptions {
  /**
   * fdatasync after every write group. Off by default: the page cache survives a SIGKILL, and
   * only power loss or a kernel crash needs the (costly) sync.
   */
  fsync?: boolean;
  /**
   * Keep the file open between writes (default true: one write call per group instead of three).
   * False opens it for each write group and closes it again, for logs that may be abandoned
   * without close() (a store dropped by a test that simulates a crash) and should hold no handle.
   */
  keepOpen?: boolean;
}

/** What a log file held: its complete records, and what was cut off after the last one. */
export interface LogContents {
  /** Complete records (lines without their newline), in file order; empty lines included. */
  records: string[];
  /** Bytes of the complete records, newlines included. */
  bytes: number;
  /**
   * Bytes after the last newline: a write that never completed. Its caller was never told it was
   * durable (every append resolves only after its whole record is written), so it is dropped.
   */
  tornBytes: number;
}

const NO_CONTENTS: LogContents = { records: [], bytes: 0, tornBytes: 0 };

/** Reads a record log without opening it for writing; a missing file is an empty log. */
export async function readRecords(path: string): Promise<LogContents> {
  let text: string;
  try {
    text = await storageOp('read', path, () => readFile(path, 'utf8'));
  } catch (err) {
    if (isNotFound(err)) return NO_CONTENTS;
    throw err;
  }
  const lastNewline = text.lastIndexOf('\n');
  const complete = lastNewline < 0 ? '' : text.slice(0, lastNewline);
  const records = lastNewline < 0 ? [] : complete.split('\n');
  const bytes = lastNewline < 0 ? 0 : Buffer.byteLength(complete) + 1;
  return { records, bytes, tornBytes: Buffer.byteLength(text) - bytes };
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Most buffers one writev takes (IOV_MAX is 1024 on Linux). */
const MAX_IOVECS = 1024;

/**
 * An append-only file of newline-terminated records: the journal under the event queues and the
 * inbox. Writes are group-committed: appends made while a write runs share the next write call,
 * and one append's pieces are always inside one write call. A failed write is cut off again, so
 * the next record never glues onto half a line; its appends reject, so nobody was told it was
 * durable. Every file operation (write groups, `exclusive` work such as compaction, close) runs
 * on one chain, so none of them interleave on the file.
 */
export class RecordLog {
  private fh: FileHandle | undefined;
  private opening: Promise<FileHandle> | undefined;
  private sizeBytes: number;
  private pieces: Buffer[] = [];
  private waiters: Waiter[] = [];
  private writeScheduled = false;
  private readonly chain = new Serial();
  private closed = false;
  private readonly counts = { writes: 0, bytesAppended: 0 };
  private readonly fsync: boolean;
  private readonly keepOpen: boolean;

  private constructor(
    readonly path: string,
    size: number,
    options: RecordLogOptions,
  ) {
    this.sizeBytes = size;
    this.fsync = options.fsync ?? false;
    this.keepOpen = options.keepOpen ?? true;
  }

  /**
   * Reads the log and cuts a torn final record off the file, then keeps it open for appends.
   * The records are the caller's to replay.
   */
  static async open(path: string, options: RecordLogOptions = {}): Promise<{ log: RecordLog; contents: LogContents }> {
    const contents = await readRecords(path);
    const log = new RecordLog(path, contents.bytes, options);
    log.fh = await storageOp('open', path, () => open(path, 'a+'));
    if (contents.tornBytes > 0) {
      await storageOp('truncate', path, () => log.fh!.truncate(contents.bytes));
    }
    return { log, contents };
  }

  /**
   * A log whose file is created by its first append (so an unused generation leaves no file).
   * For a file that is already there, its current size is taken at that first append.
   */
  static lazy(path: string, options: RecordLogOptions = {}): RecordLog {
    return new RecordLog(path, -1, options);
  }

  /** Bytes in the file (complete records only). */
  get size(): number {
    return Math.max(0, this.sizeBytes);
  }

  /** Write calls so far (appends are group-committed, so usually fewer than appends). */
  get writes(): number {
    return this.counts.writes;
  }

  get bytesAppended(): number {
    return this.counts.bytesAppended;
  }

  /** Pieces accepted by append() and not yet handed to a write call. */
  get hasPending(): boolean {
    return this.pieces.length > 0;
  }

  /**
   * Appends records (`text` must end with a newline; pieces are concatenated as they are, so a
   * record may be spread over several buffers without being copied). Resolves once written, and
   * synced when `fsync` is on.
   */
  append(text: string | readonly Buffer[]): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError('append', this.path, new Error('the log is closed')));
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (typeof text === 'string') this.pieces.push(Buffer.from(text, 'utf8'));
    else for (const piece of text) this.pieces.push(piece);
    if (!this.writeScheduled) {
      this.writeScheduled = true;
      void this.exclusive(() => this.writeGroup()).catch(() => undefined);
    }
    return done;
  }

  /** Runs `op` between write groups, never beside one (compaction, checkpoints tied to the log). */
  exclusive<T>(op: () => Promise<T>): Promise<T> {
    return this.chain.run(op);
  }

  /**
   * Compaction: replaces the whole file with `build()`'s records (temp + rename, so a crash leaves
   * the old log or the new one, both valid) and appends go on in the new file. Skipped (false) when
   * `build` returns undefined, or while appends wait for their write (their records would be
   * written twice: once by `build`, once by their write).
   */
  compact(build: () => string | Buffer | undefined): Promise<boolean> {
    return this.exclusive(async () => {
      if (this.closed || this.pieces.length > 0) return false;
      const content = build();
      if (content === undefined) return false;
      await storageOp('compact', this.path, async () => {
        await atomicWrite(this.path, content);
        await this.fh?.close();
        this.fh = await open(this.path, 'a+');
      });
      this.sizeBytes = Buffer.byteLength(content);
      await this.release();
      return true;
    });
  }

  /** Finishes pending writes, then closes the file. */
  close(): Promise<void> {
    if (this.closed) return this.chain.idle;
    this.closed = true;
    return this.exclusive(async () => {
      const fh = this.fh;
      this.fh = undefined;
      if (fh) await storageOp('close', this.path, () => fh.close());
    });
  }

  /** Closes the file after a write group unless it is kept open. */
  private async release(): Promise<void> {
    if (this.keepOpen || !this.fh) return;
    const fh = this.fh;
    this.fh = undefined;
    await fh.close().catch(() => undefined);
  }

  private async handle(): Promise<FileHandle> {
    if (this.fh) return this.fh;
    this.opening ??= (async () => {
      const fh = await open(this.path, 'a+');
      if (this.sizeBytes < 0) this.sizeBytes = (await fh.stat()).size;
      return fh;
    })();
    try {
      this.fh = await this.opening;
    } finally {
      this.opening = undefined;
    }
    return this.fh;
  }

  private async writeGroup(): Promise<void> {
    this.writeScheduled = false;
    const pieces = this.pieces;
    const waiters = this.waiters;
    this.pieces = [];
    this.waiters = [];
    const length = pieces.reduce((n, b) => n + b.length, 0);
    let before = this.sizeBytes;
    let fh: FileHandle | undefined;
    try {
      fh = await storageOp('open', this.path, () => this.handle());
      before = this.sizeBytes;
      await storageOp('append', this.path, async () => {
        await writevAll(fh!, pieces);
        if (this.fsync) await fh!.datasync();
      });
    } catch (err) {
      // Cut a partial write off so the next record does not glue onto half a line.
      if (fh) await fh.truncate(before).catch(() => undefined);
      await this.release();
      for (const w of waiters) w.reject(err);
      return;
    }
    await this.release();
    this.sizeBytes = before + length;
    this.counts.writes++;
    this.counts.bytesAppended += length;
    for (const w of waiters) w.resolve();
  }
}

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
