/**
 * The inbox of acknowledged broadcasts on PostgreSQL: `append` inserts the batch into `koi_inbox`
 * (the 200 waits for the commit), the checkpoint is the one row of `koi_inbox_checkpoint`, and
 * rows at or below it are deleted in the same transaction (the file inbox's compaction). At open,
 * the rows after the checkpoint are the entries to replay.
 *
 * Seqs are assigned in memory (one process per database in phase 1). Phase 2 gives each worker
 * its own seq range or a sequence, and each worker replays only what it accepted.
 */
import type { InboxEntry, InboxLog, InboxOptions, InboxStats, PendingAppend } from '../inbox/index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { errorText } from '../util/error-text.ts';
import type { PgDatabase } from './database.ts';

const DEFAULT_CHECKPOINT_DELAY_MS = 200;

export class PgInbox implements InboxLog {
  private seq: number;
  private processed: number;
  private checkpointed: number;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointing: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly counts = { appends: 0, checkpoints: 0, bytes: 0, unprocessed: 0 };
  private readonly logger: Logger;
  private readonly checkpointDelayMs: number;
  private readonly beforeCheckpoint: (() => Promise<void>) | undefined;

  private constructor(
    private readonly db: PgDatabase,
    init: { seq: number; checkpoint: number },
    readonly recovered: readonly InboxEntry[],
    options: InboxOptions,
  ) {
    this.seq = init.seq;
    this.processed = init.checkpoint;
    this.checkpointed = init.checkpoint;
    this.counts.unprocessed = recovered.length;
    this.logger = options.logger ?? silentLogger;
    this.checkpointDelayMs = options.checkpointDelayMs ?? DEFAULT_CHECKPOINT_DELAY_MS;
    this.beforeCheckpoint = options.beforeCheckpoint;
  }

  static async open(db: PgDatabase, options: InboxOptions = {}): Promise<PgInbox> {
    const cp = await db.query<{ seq: string }>('SELECT seq FROM koi_inbox_checkpoint WHERE id = 1');
    const checkpoint = Number(cp.rows[0]?.seq ?? 0);
    const { rows } = await db.query<{ seq: string; events: string }>('SELECT seq, events FROM koi_inbox WHERE seq > $1 ORDER BY seq', [checkpoint]);
    const last = await db.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM koi_inbox');
    const recovered: InboxEntry[] = [];
    for (const row of rows) {
      const events = parseEvents(row.events);
      if (events === undefined) {
        options.logger?.error({ seq: row.seq }, 'unreadable inbox row skipped');
        continue;
      }
      recovered.push({ seq: Number(row.seq), events });
    }
    if (recovered.length > 0) options.logger?.info({ checkpoint, recovered: recovered.length }, 'inbox opened with unprocessed entries');
    return new PgInbox(db, { seq: Math.max(checkpoint, Number(last.rows[0]?.seq ?? 0)), checkpoint }, recovered, options);
  }

  get lastSeq(): number {
    return this.seq;
  }

  get processedSeq(): number {
    return this.processed;
  }

  start(): void {}

  stop(): Promise<void> {
    return this.close();
  }

  /**
   * A body that is one JSON object is stored as it came (`{"body": ...}`), so the batch is not
   * serialized again; its `events` are taken out when it is read back.
   */
  append(events: readonly unknown[], rawBody?: Buffer): PendingAppend {
    if (this.closed) throw new Error('inbox is closed');
    const seq = ++this.seq;
    this.counts.appends++;
    const text = rawBody !== undefined && rawBody[0] === 0x7b ? `{"body":${rawBody.toString('utf8')}}` : JSON.stringify(events);
    this.counts.bytes += text.length;
    const done = this.db
      .query('INSERT INTO koi_inbox (seq, events) VALUES ($1, $2)', [seq, text])
      .then(() => {
        this.counts.unprocessed++;
      })
      .catch((err: unknown) => {
        // The caller answers an error (503), so the sender retries: nothing unacknowledged is kept.
        this.logger.error({ err: errorText(err) }, 'cannot append to the inbox');
        throw err;
      });
    return { seq, done };
  }

  markProcessed(seq: number): void {
    if (seq <= this.processed) return;
    this.processed = Math.min(seq, this.seq);
    if (this.checkpointTimer || this.closed) return;
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = undefined;
      this.flushCheckpoint().catch((err: unknown) => this.logger.error({ err: errorText(err) }, 'cannot write the inbox checkpoint'));
    }, this.checkpointDelayMs);
    this.checkpointTimer.unref();
  }

  /** One checkpoint at a time, each covering what was processed when it began. */
  flushCheckpoint(): Promise<void> {
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    const next = this.checkpointing.catch(() => undefined).then(() => this.checkpoint());
    this.checkpointing = next;
    return next;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flushCheckpoint();
    this.closed = true;
  }

  stats(): InboxStats {
    return {
      lastSeq: this.seq,
      processedSeq: this.processed,
      checkpointSeq: this.checkpointed,
      unprocessed: Math.max(0, this.seq - this.checkpointed),
      appends: this.counts.appends,
      writes: this.counts.appends,
      bytesAppended: this.counts.bytes,
      checkpoints: this.counts.checkpoints,
      compactions: 0,
      logBytes: 0,
      recovered: this.recovered.length,
      skippedLines: 0,
    };
  }

  private async checkpoint(): Promise<void> {
    const target = this.processed;
    if (target <= this.checkpointed) return;
    // Processed means stored only once the knowledge store has it (a failure keeps the rows).
    if (this.beforeCheckpoint) await this.beforeCheckpoint();
    await this.db.transaction(async (client) => {
      await client.query('INSERT INTO koi_inbox_checkpoint (id, seq) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET seq = GREATEST(koi_inbox_checkpoint.seq, EXCLUDED.seq)', [target]);
      await client.query('DELETE FROM koi_inbox WHERE seq <= $1', [target]);
    });
    this.checkpointed = target;
    this.counts.checkpoints++;
  }
}

/** `[...events]`, or `{"body": {"events": [...], ...}}` for a body stored as it came. */
function parseEvents(text: string): unknown[] | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed)) return parsed;
    const body = typeof parsed === 'object' && parsed !== null ? (parsed as { body?: unknown }).body : undefined;
    const events = typeof body === 'object' && body !== null ? (body as { events?: unknown }).events : undefined;
    return Array.isArray(events) ? events : undefined;
  } catch {
    return undefined;
  }
}
