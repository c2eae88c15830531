/**
 * The outgoing event queues on PostgreSQL (`koi_queue_events`: one row per queued event and peer,
 * ordered by id within a (kind, peer)), behind the EventQueueStore contract: the readers (peek,
 * depths, *Nodes) answer from memory at once, and each mutation's promise resolves once its rows
 * are committed. The statements run one at a time, in the order the mutations were made, so a
 * row is always inserted before anything deletes or updates it.
 *
 * Phase 2 (several processes): a worker claims a webhook batch with
 * `UPDATE ... SET inflight, claimed_by WHERE id IN (SELECT id ... FOR UPDATE SKIP LOCKED)` instead
 * of taking from its memory, and a poll drain is one `DELETE ... RETURNING`; the in-memory mirror
 * then becomes a hint for the readers, refreshed by NOTIFY.
 */
import { Event } from '../knowledge/index.ts';
import { DEFAULT_MAX_PER_PEER, type EventQueueStore, type NodeKey, type QueueDepths } from '../queues/index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { Deque } from '../util/deque.ts';
import { Serial } from '../util/serial.ts';
import { errorText } from '../util/error-text.ts';
import type { PgDatabase } from './database.ts';

type Kind = 'webhook' | 'poll';

/** One queued event; `id` is its row's, known once the insert ran (always before any later statement). */
interface Slot {
  id: string | undefined;
  readonly event: Event;
}

interface QueueRow {
  id: string;
  kind: Kind;
  peer: string;
  event: string;
  inflight: boolean;
}

export interface PgEventQueuesOptions {
  /** Cap of each queue; a push onto a full queue drops the oldest event (default 10,000). */
  maxPerPeer?: number;
  logger?: Logger;
}

export class PgEventQueues implements EventQueueStore {
  private readonly queues: Record<Kind, Map<string, Deque<Slot>>> = { webhook: new Map(), poll: new Map() };
  private readonly inflight = new Map<string, Slot[]>();
  private readonly dropped = new Map<string, number>();
  /** Queues in a dropping burst (`kind:node`). */
  private readonly dropping = new Set<string>();
  private readonly serial = new Serial();
  private readonly maxPerPeer: number;
  private readonly logger: Logger;
  private closed = false;

  private constructor(
    private readonly db: PgDatabase,
    options: PgEventQueuesOptions,
  ) {
    this.maxPerPeer = Math.max(1, options.maxPerPeer ?? DEFAULT_MAX_PER_PEER);
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Loads every queue. A batch left in flight by a process that stopped goes back to the front
   * of its queue (its rows are the oldest of that queue already; only the flag is cleared).
   */
  static async open(db: PgDatabase, options: PgEventQueuesOptions = {}): Promise<PgEventQueues> {
    const store = new PgEventQueues(db, options);
    const { rows } = await db.query<QueueRow>('SELECT id, kind, peer, event, inflight FROM koi_queue_events ORDER BY kind, peer, id');
    const interrupted = new Set<string>();
    const unreadable: string[] = [];
    for (const row of rows) {
      let event: Event;
      try {
        event = Event.fromJSON(JSON.parse(row.event));
      } catch (err) {
        store.logger.error({ id: row.id, peer: row.peer, err: errorText(err) }, 'stored queued event cannot be read; dropped');
        unreadable.push(row.id);
        continue;
      }
      if (row.inflight) interrupted.add(row.peer);
      store.queueOf(row.kind, row.peer).push({ id: row.id, event });
    }
    if (unreadable.length > 0) await db.query('DELETE FROM koi_queue_events WHERE id = ANY($1::bigint[])', [unreadable]);
    if (interrupted.size > 0) {
      await db.query('UPDATE koi_queue_events SET inflight = false, claimed_by = NULL, claimed_at = NULL WHERE inflight');
      store.logger.info({ nodes: [...interrupted] }, 'requeued webhook events whose delivery was interrupted');
    }
    // A cap lowered since the last run applies now.
    const over: string[] = [];
    for (const kind of ['webhook', 'poll'] as const) {
      for (const [key, queue] of store.queues[kind]) {
        while (queue.length > store.maxPerPeer) over.push(store.dropOldest(kind, key, queue).id!);
      }
    }
    if (over.length > 0) await db.query('DELETE FROM koi_queue_events WHERE id = ANY($1::bigint[])', [over]);
    return store;
  }

  pushWebhook(node: NodeKey, event: Event): Promise<void> {
    return this.push('webhook', String(node), event);
  }

  pushPoll(node: NodeKey, event: Event): Promise<void> {
    return this.push('poll', String(node), event);
  }

  async drainPoll(node: NodeKey, limit = 0): Promise<Event[]> {
    const key = String(node);
    const slots = this.shift('poll', key, limit);
    if (slots.length === 0) return [];
    await this.deleteRows(slots);
    return slots.map((s) => s.event);
  }

  async takeWebhook(node: NodeKey, limit = 0): Promise<Event[]> {
    const key = String(node);
    // The next take means the last flush of this node finished: its batch is done with.
    const previous = this.inflight.get(key);
    this.inflight.delete(key);
    const batch = this.shift('webhook', key, limit);
    if (batch.length > 0) this.inflight.set(key, batch);
    const previousDone = previous ? this.deleteRows(previous) : undefined;
    if (batch.length === 0) {
      await previousDone;
      return [];
    }
    await Promise.all([previousDone, this.run((ids) => this.db.query('UPDATE koi_queue_events SET inflight = true WHERE id = ANY($1::bigint[])', [ids(batch)]))]);
    return batch.map((s) => s.event);
  }

  async ackWebhook(node: NodeKey): Promise<void> {
    const key = String(node);
    const batch = this.inflight.get(key);
    if (!batch) return this.flushed();
    this.inflight.delete(key);
    await this.deleteRows(batch);
  }

  async requeueWebhookFront(node: NodeKey, events: readonly Event[]): Promise<void> {
    const key = String(node);
    const batch = this.inflight.get(key) ?? [];
    this.inflight.delete(key);
    const queue = this.queueOf('webhook', key);
    // The usual case: the batch taken comes back whole; its rows are still the oldest of the queue.
    if (batch.length === events.length && batch.every((s, i) => s.event === events[i])) {
      queue.unshiftAll(batch);
      const dropped = this.enforceCap('webhook', key);
      await Promise.all([
        this.run((ids) => this.db.query('UPDATE koi_queue_events SET inflight = false WHERE id = ANY($1::bigint[])', [ids(batch)])),
        dropped.length > 0 ? this.deleteRows(dropped) : undefined,
      ]);
      return;
    }
    const slots: Slot[] = events.map((event) => ({ id: undefined, event }));
    if (slots.length > 0) queue.unshiftAll(slots);
    if (queue.length === 0) this.queues.webhook.delete(key);
    const dropped = this.enforceCap('webhook', key);
    await this.run(async (ids) => {
      await this.db.transaction(async (client) => {
        if (batch.length > 0) await client.query('DELETE FROM koi_queue_events WHERE id = ANY($1::bigint[])', [ids(batch)]);
        if (slots.length === 0) return;
        // Ids below every id of this queue put the events in front, in their order.
        const { rows } = await client.query<{ id: string }>(
          `WITH base AS (SELECT LEAST(COALESCE(min(id), 0), 0) AS b FROM koi_queue_events WHERE kind = 'webhook' AND peer = $1)
           INSERT INTO koi_queue_events (id, kind, peer, event)
           SELECT base.b - $3::int + e.ord, 'webhook', $1, e.event FROM base, unnest($2::text[]) WITH ORDINALITY AS e(event, ord)
           RETURNING id`,
          [key, slots.map((s) => JSON.stringify(s.event.toJSON())), slots.length + 1],
        );
        const sorted = rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
        slots.forEach((s, i) => (s.id = sorted[i]));
      });
    });
    if (dropped.length > 0) await this.deleteRows(dropped);
  }

  webhookNodes(): string[] {
    return [...this.queues.webhook.keys()];
  }

  pollNodes(): string[] {
    return [...this.queues.poll.keys()];
  }

  peekWebhook(node: NodeKey): Event[] {
    return (this.queues.webhook.get(String(node))?.toArray() ?? []).map((s) => s.event);
  }

  peekWebhookLength(node: NodeKey): number {
    return this.queues.webhook.get(String(node))?.length ?? 0;
  }

  peekPoll(node: NodeKey): Event[] {
    return (this.queues.poll.get(String(node))?.toArray() ?? []).map((s) => s.event);
  }

  depths(): QueueDepths {
    const count = (m: Map<string, { length: number }>): Record<string, number> => Object.fromEntries([...m].map(([k, v]) => [k, v.length]));
    return {
      webhook: count(this.queues.webhook),
      poll: count(this.queues.poll),
      webhookInflight: count(this.inflight),
      dropped: Object.fromEntries(this.dropped),
    };
  }

  flushed(): Promise<void> {
    return this.serial.idle;
  }

  /** Every mutation is committed when its promise resolves: nothing to compact. */
  persist(): Promise<void> {
    return this.flushed();
  }

  /** The database itself is closed by the PostgresStore that opened it. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushed();
  }

  start(): void {}

  stop(): Promise<void> {
    return this.close();
  }

  // --- internals -------------------------------------------------------------------------------

  private push(kind: Kind, key: string, event: Event): Promise<void> {
    if (this.closed) return Promise.reject(new Error('event queues are closed'));
    const slot: Slot = { id: undefined, event };
    this.queueOf(kind, key).push(slot);
    const dropped = this.enforceCap(kind, key);
    return this.run(async (ids) => {
      const { rows } = await this.db.query<{ id: string }>('INSERT INTO koi_queue_events (kind, peer, event) VALUES ($1, $2, $3) RETURNING id', [kind, key, JSON.stringify(event.toJSON())]);
      slot.id = rows[0]!.id;
      const gone = ids(dropped.filter((s) => s !== slot));
      if (gone.length > 0) await this.db.query('DELETE FROM koi_queue_events WHERE id = ANY($1::bigint[])', [gone]);
    });
  }

  private deleteRows(slots: readonly Slot[]): Promise<void> {
    return this.run(async (ids) => {
      await this.db.query('DELETE FROM koi_queue_events WHERE id = ANY($1::bigint[])', [ids(slots)]);
    });
  }

  /**
   * Runs a statement after every earlier one; `ids` reads the slots' row ids at that moment (their
   * inserts ran before). A failure is logged and fails only its own caller.
   */
  private run(op: (ids: (slots: readonly Slot[]) => string[]) => Promise<unknown>): Promise<void> {
    const ids = (slots: readonly Slot[]): string[] => slots.flatMap((s) => (s.id === undefined ? [] : [s.id]));
    return this.serial.run(async () => {
      try {
        await op(ids);
      } catch (err) {
        this.logger.error({ err: errorText(err) }, 'event queue change not stored');
        throw err;
      }
    });
  }

  private queueOf(kind: Kind, key: string): Deque<Slot> {
    let queue = this.queues[kind].get(key);
    if (!queue) this.queues[kind].set(key, (queue = new Deque<Slot>()));
    return queue;
  }

  private shift(kind: Kind, key: string, limit: number): Slot[] {
    const queue = this.queues[kind].get(key);
    if (!queue) return [];
    const out = queue.shiftMany(limit > 0 ? limit : queue.length);
    if (queue.length === 0) this.queues[kind].delete(key);
    return out;
  }

  private enforceCap(kind: Kind, key: string): Slot[] {
    const queue = this.queues[kind].get(key);
    const dropped: Slot[] = [];
    if (!queue) return dropped;
    while (queue.length > this.maxPerPeer) dropped.push(this.dropOldest(kind, key, queue));
    // One warning per burst: at the first drop, and again only once the queue went below the cap.
    const burst = `${kind}:${key}`;
    if (dropped.length === 0) this.dropping.delete(burst);
    else if (!this.dropping.has(burst)) {
      this.dropping.add(burst);
      this.logger.warn({ node: key, kind, cap: this.maxPerPeer }, 'event queue full; dropping the oldest events');
    }
    return dropped;
  }

  private dropOldest(kind: Kind, key: string, queue: Deque<Slot>): Slot {
    const slot = queue.shift()!;
    const name = `${kind}:${key}`;
    this.dropped.set(name, (this.dropped.get(name) ?? 0) + 1);
    return slot;
  }
}
