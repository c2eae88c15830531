/**
 * The inbox of acknowledged broadcasts on PostgreSQL, for one or several processes: `append`
 * inserts the batch into `koi_inbox` under this process's owner id (database.ts) with the next of
 * its own contiguous seqs (the 200 waits for the commit); the process's checkpoint is its row of
 * `koi_inbox_checkpoints`, and its rows at or below it are deleted in the same transaction.
 *
 * Per-owner checkpoints, not a shared sequence: the intake needs contiguous seqs it knows at
 * append time, and each process processes only what it accepted. What a process accepted and
 * never processed (it was killed) is adopted at open by the next process that starts on the
 * database (a restarted worker, or any other): under an advisory lock, the rows of every owner
 * with no session left are moved to the new owner, renumbered after the highest dead checkpoint,
 * and replayed (`recovered`). A process that is alive is never adopted from.
 */
import type { InboxEntry, InboxLog, InboxOptions, InboxStats, PendingAppend } from '../inbox/index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { errorText } from '../util/error-text.ts';
import { ownerAlive, type PgDatabase } from './database.ts';

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
    const { base, recovered, adoptedFrom } = await db.transaction(async (client) => {
      // One adopter at a time: two processes starting together must not both replay a dead one's rows.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('koi_inbox_adopt'))");
      const dead = await client.query<{ owner: string }>(
        `SELECT owner FROM (SELECT owner FROM koi_inbox UNION SELECT owner FROM koi_inbox_checkpoints) o
         WHERE owner <> $1 AND NOT ${ownerAlive('owner')}`,
        [db.owner],
      );
      const owners = dead.rows.map((r) => r.owner);
      if (owners.length === 0) return { base: 0, recovered: [] as InboxEntry[], adoptedFrom: owners };
      const cp = await client.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM koi_inbox_checkpoints WHERE owner = ANY($1::text[])', [owners]);
      const base = Number(cp.rows[0]?.seq ?? 0);
      const { rows } = await client.query<{ owner: string; seq: string; events: string }>(
        `SELECT i.owner, i.seq, i.events FROM koi_inbox i LEFT JOIN koi_inbox_checkpoints c ON c.owner = i.owner
         WHERE i.owner = ANY($1::text[]) AND i.seq > COALESCE(c.seq, 0) ORDER BY min(i.accepted_at) OVER (PARTITION BY i.owner), i.owner, i.seq`,
        [owners],
      );
      const kept: { seq: number; text: string; events: unknown[] }[] = [];
      for (const row of rows) {
        const events = parseEvents(row.events);
        if (events === undefined) {
          options.logger?.error({ owner: row.owner, seq: row.seq }, 'unreadable inbox row skipped');
          continue;
        }
        kept.push({ seq: base + kept.length + 1, text: row.events, events });
      }
      await client.query('DELETE FROM koi_inbox WHERE owner = ANY($1::text[])', [owners]);
      await client.query('DELETE FROM koi_inbox_checkpoints WHERE owner = ANY($1::text[])', [owners]);
      if (kept.length > 0) {
        await client.query(
          'INSERT INTO koi_inbox (owner, seq, events) SELECT $1, u.seq, u.events FROM unnest($2::bigint[], $3::text[]) AS u(seq, events)',
          [db.owner, kept.map((k) => k.seq), kept.map((k) => k.text)],
        );
      }
      await client.query('INSERT INTO koi_inbox_checkpoints (owner, seq) VALUES ($1, $2)', [db.owner, base]);
      return { base, recovered: kept.map((k) => ({ seq: k.seq, events: k.events })), adoptedFrom: owners };
    });
    if (recovered.length > 0) options.logger?.info({ checkpoint: base, recovered: recovered.length, from: adoptedFrom }, 'inbox opened with unprocessed entries');
    return new PgInbox(db, { seq: base + recovered.length, checkpoint: base }, recovered, options);
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
      .query('INSERT INTO koi_inbox (owner, seq, events) VALUES ($1, $2, $3)', [this.db.owner, seq, text])
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
      await client.query(
        'INSERT INTO koi_inbox_checkpoints (owner, seq) VALUES ($1, $2) ON CONFLICT (owner) DO UPDATE SET seq = GREATEST(koi_inbox_checkpoints.seq, EXCLUDED.seq)',
        [this.db.owner, target],
      );
      await client.query('DELETE FROM koi_inbox WHERE owner = $1 AND seq <= $2', [this.db.owner, target]);
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
