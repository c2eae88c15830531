/**
 * The outgoing event queues on PostgreSQL (`koi_queue_events`: one row per queued event and peer,
 * ordered by id within a (kind, peer)), behind the EventQueueStore contract: the readers (peek,
 * depths, *Nodes) answer from memory at once, and each mutation's promise resolves once its rows
 * are committed. The statements run one at a time, in the order the mutations were made, so a
 * row is always inserted before anything deletes or updates it.
 *
 * Several processes share the queues; the database decides who takes what, memory is a hint:
 * - A webhook batch is claimed in one transaction that holds a per-peer advisory lock: when
 *   another live process has a claim on that peer it takes nothing (so one process at a time
 *   delivers to a peer, in id order); else it claims the head rows (`FOR UPDATE SKIP LOCKED`),
 *   setting inflight, claimed_by (this process's owner id) and claimed_at. A claim is live while
 *   its owner has a session open (database.ts ownerAlive) and is younger than the lease; a dead
 *   or expired claim is taken over, and those events counted as possible duplicates (`reclaimed`,
 *   logged as "duplicates"): at least once across crashes, once while nobody dies.
 * - A poll drain is one `DELETE ... RETURNING` over rows locked with SKIP LOCKED: two processes
 *   draining at once never hand out one event twice.
 * - Every change sends `koi_queues` (`kind peer`); the other processes re-read that queue into
 *   their mirror, and a webhook push wakes their delivery (onRemoteQueued), so an event queued by
 *   one process is delivered by whichever runs its delivery loop.
 */
import { Event, eventWireText } from '../knowledge/index.ts';
import { DEFAULT_MAX_PER_PEER, type EventQueueStore, type NodeKey, type QueueDepths } from '../queues/index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { Deque } from '../util/deque.ts';
import { Serial } from '../util/serial.ts';
import { errorText } from '../util/error-text.ts';
import { ownerAlive, type PgDatabase } from './database.ts';
import { CHANNELS, notifySql } from './listener.ts';

type Kind = 'webhook' | 'poll';

/** `dropped`: slots the cap dropped from the mirror for this push; their rows go after the insert. */
interface PendingPush { kind: Kind; key: string; slot: Slot; dropped: Slot[] }

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
  /**
   * How long a webhook claim of a live process holds (default 120 s); older, another process may
   * take the batch over (a delivery hung past every request timeout).
   */
  claimLeaseMs?: number;
  /** While another process's claim blocks a peer, how often this one looks again (default 1,000 ms). */
  claimRecheckMs?: number;
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
  private readonly claimLeaseMs: number;
  private closed = false;
  /** Webhook events taken over from a dead or expired claim (they may reach the peer twice). */
  private reclaimedCount = 0;
  private readonly refreshing = new Set<string>();
  private readonly queuedFollowers = new Set<(node: string) => void>();
  private readonly rechecks = new Map<string, NodeJS.Timeout>();
  /** The pushes that will share the next INSERT, while no other change came after them. */
  private openPushes: PendingPush[] | undefined;
  private openPushesDone: Promise<void> | undefined;
  private readonly claimRecheckMs: number;

  private constructor(
    private readonly db: PgDatabase,
    options: PgEventQueuesOptions,
  ) {
    this.maxPerPeer = Math.max(1, options.maxPerPeer ?? DEFAULT_MAX_PER_PEER);
    this.logger = options.logger ?? silentLogger;
    this.claimLeaseMs = options.claimLeaseMs ?? 120_000;
    this.claimRecheckMs = options.claimRecheckMs ?? 1_000;
  }

  /**
   * Loads every queue. Rows in flight (claimed by any process) are shown as queued: a live
   * claimant's batch leaves with its ack, a dead one's is taken over by the next take.
   */
  static async open(db: PgDatabase, options: PgEventQueuesOptions = {}): Promise<PgEventQueues> {
    const store = new PgEventQueues(db, options);
    const { rows } = await db.query<QueueRow>('SELECT id, kind, peer, event, inflight FROM koi_queue_events ORDER BY kind, peer, id');
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
      store.queueOf(row.kind, row.peer).push({ id: row.id, event });
    }
    if (unreadable.length > 0) await db.query('DELETE FROM koi_queue_events WHERE id = ANY($1::bigint[])', [unreadable]);
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

  /** The oldest poll events of `node`, deleted as they are read: no other process gets them. */
  async drainPoll(node: NodeKey, limit = 0): Promise<Event[]> {
    const key = String(node);
    let taken: Slot[] = [];
    await this.run(async () => {
      const { rows } = await this.db.query<{ id: string; event: string }>(
        `WITH d AS (
           DELETE FROM koi_queue_events WHERE id IN (
             SELECT id FROM koi_queue_events WHERE kind = 'poll' AND peer = $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
           RETURNING id, event)
         SELECT id, event, ${notifySql(CHANNELS.queues, '$3::text', "'poll ' || $1")} FROM d ORDER BY id`,
        [key, limit > 0 ? limit : null, this.db.owner],
      );
      taken = this.parseRows(rows);
      this.forget('poll', key, new Set(rows.map((r) => r.id)));
    });
    return taken.map((s) => s.event);
  }

  /**
   * Claims the oldest webhook events of `node` for this process (see the header). Takes nothing
   * while another live process has a claim on `node`: that process is delivering to it.
   */
  async takeWebhook(node: NodeKey, limit = 0): Promise<Event[]> {
    const key = String(node);
    let batch: Slot[] = [];
    let claimedElsewhere = false;
    await this.run(() =>
      this.db.transaction(async (client) => {
        await client.query("SELECT pg_advisory_xact_lock(hashtext('koi_webhook_peer'), hashtext($1))", [key]);
        // The next take means the last flush of this node finished: its batch is done with.
        await client.query("DELETE FROM koi_queue_events WHERE kind = 'webhook' AND peer = $1 AND inflight AND claimed_by = $2", [key, this.db.owner]);
        this.inflight.delete(key);
        const busy = await client.query(
          `SELECT 1 FROM koi_queue_events WHERE kind = 'webhook' AND peer = $1 AND inflight AND claimed_by <> $2
             AND claimed_at > now() - make_interval(secs => $3::double precision / 1000) AND ${ownerAlive('claimed_by')} LIMIT 1`,
          [key, this.db.owner, this.claimLeaseMs],
        );
        if (busy.rows.length > 0) {
          claimedElsewhere = true;
          return;
        }
        const { rows } = await client.query<{ id: string; event: string; was: boolean; by: string | null }>(
          `WITH head AS (
             SELECT id, inflight AS was, claimed_by AS by FROM koi_queue_events
             WHERE kind = 'webhook' AND peer = $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
           UPDATE koi_queue_events q SET inflight = true, claimed_by = $3, claimed_at = now()
           FROM head WHERE q.id = head.id
           RETURNING q.id, q.event, head.was, head.by`,
          [key, limit > 0 ? limit : null, this.db.owner],
        );
        rows.sort((a, b) => Number(a.id) - Number(b.id));
        batch = this.parseRows(rows);
        const reclaimed = rows.filter((r) => r.was);
        if (reclaimed.length > 0) {
          this.reclaimedCount += reclaimed.length;
          this.logger.warn(
            { node: key, duplicates: reclaimed.length, from: [...new Set(reclaimed.map((r) => r.by))], reclaimedTotal: this.reclaimedCount },
            'took over webhook events claimed by a process that stopped; they may reach the peer twice',
          );
        }
      }),
    );
    this.forget('webhook', key, new Set(batch.map((s) => s.id!)));
    if (batch.length > 0) this.inflight.set(key, batch);
    if (claimedElsewhere) this.recheckLater(key);
    return batch.map((s) => s.event);
  }

  /** Another process delivers to this peer; if it dies it sends nothing, so look again later. */
  private recheckLater(key: string): void {
    if (this.closed || this.rechecks.has(key)) return;
    const timer = setTimeout(() => {
      this.rechecks.delete(key);
      if (!this.closed) for (const f of this.queuedFollowers) f(key);
    }, this.claimRecheckMs);
    timer.unref();
    this.rechecks.set(key, timer);
  }

  async ackWebhook(node: NodeKey): Promise<void> {
    const key = String(node);
    this.inflight.delete(key);
    await this.run(() =>
      this.db.query(
        `WITH d AS (DELETE FROM koi_queue_events WHERE kind = 'webhook' AND peer = $1 AND inflight AND claimed_by = $2 RETURNING id)
         SELECT ${notifySql(CHANNELS.queues, '$2::text', "'webhook ' || $1")} FROM (SELECT 1 FROM d LIMIT 1) AS any_row`,
        [key, this.db.owner],
      ),
    );
  }

  /** Webhook events this process took over from a dead or expired claim since it opened. */
  get reclaimed(): number {
    return this.reclaimedCount;
  }

  /** `follower` hears of webhook events another process queued (to wake this process's delivery). */
  onRemoteQueued(follower: (node: string) => void): () => void {
    this.queuedFollowers.add(follower);
    return () => this.queuedFollowers.delete(follower);
  }

  /** Another process changed the queue `data` (`kind peer`): read it again. */
  remoteChanged(data: string): void {
    const space = data.indexOf(' ');
    const kind = data.slice(0, space);
    if (kind !== 'webhook' && kind !== 'poll') return;
    const key = data.slice(space + 1);
    const name = `${kind} ${key}`;
    if (this.refreshing.has(name) || this.closed) return;
    this.refreshing.add(name);
    void this.serial
      .run(async () => {
        this.refreshing.delete(name);
        const { rows } = await this.db.query<{ id: string; event: string }>(
          'SELECT id, event FROM koi_queue_events WHERE kind = $1 AND peer = $2 AND NOT (inflight AND claimed_by = $3) ORDER BY id',
          [kind, key, this.db.owner],
        );
        const queue = new Deque<Slot>();
        for (const slot of this.parseRows(rows)) queue.push(slot);
        if (queue.length > 0) this.queues[kind].set(key, queue);
        else this.queues[kind].delete(key);
      })
      .then(
        () => {
          if (kind === 'webhook' && this.peekWebhookLength(key) > 0) for (const f of this.queuedFollowers) f(key);
        },
        (err: unknown) => this.logger.warn({ err: errorText(err), kind, node: key }, 'cannot read a queue another process changed'),
      );
  }

  /** Reads every queue again (the LISTEN session was lost: changes may have been missed). */
  async reload(): Promise<void> {
    await this.serial.run(async () => {
      const { rows } = await this.db.query<QueueRow & { claimed_by: string | null }>('SELECT id, kind, peer, event, inflight, claimed_by FROM koi_queue_events ORDER BY kind, peer, id');
      this.queues.webhook.clear();
      this.queues.poll.clear();
      for (const row of rows) {
        if (row.inflight && row.claimed_by === this.db.owner) continue;
        const [slot] = this.parseRows([row]);
        if (slot) this.queueOf(row.kind, row.peer).push(slot);
      }
    });
    for (const key of this.webhookNodes()) for (const f of this.queuedFollowers) f(key);
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
        this.run((ids) =>
          this.db.query('UPDATE koi_queue_events SET inflight = false, claimed_by = NULL, claimed_at = NULL WHERE id = ANY($1::bigint[]) AND claimed_by = $2', [ids(batch), this.db.owner]),
        ),
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
        if (batch.length > 0) await client.query('DELETE FROM koi_queue_events WHERE id = ANY($1::bigint[]) AND claimed_by = $2', [ids(batch), this.db.owner]);
        if (slots.length === 0) return;
        // Ids below every id of this queue put the events in front, in their order.
        const { rows } = await client.query<{ id: string }>(
          `WITH base AS (SELECT LEAST(COALESCE(min(id), 0), 0) AS b FROM koi_queue_events WHERE kind = 'webhook' AND peer = $1)
           INSERT INTO koi_queue_events (id, kind, peer, event)
           SELECT base.b - $3::int + e.ord, 'webhook', $1, e.event FROM base, unnest($2::text[]) WITH ORDINALITY AS e(event, ord)
           RETURNING id`,
          [key, slots.map((s) => eventWireText(s.event)), slots.length + 1],
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
    for (const timer of this.rechecks.values()) clearTimeout(timer);
    this.rechecks.clear();
    await this.flushed();
  }

  start(): void {}

  stop(): Promise<void> {
    return this.close();
  }

  // --- internals -------------------------------------------------------------------------------

  /**
   * Pushes made while no other change was asked for in between share one INSERT (a fan-out queues
   * one event for every subscriber at once: one round trip, not one per peer); order is kept, since
   * any other change closes the batch and runs after it.
   */
  private push(kind: Kind, key: string, event: Event): Promise<void> {
    if (this.closed) return Promise.reject(new Error('event queues are closed'));
    const slot: Slot = { id: undefined, event };
    this.queueOf(kind, key).push(slot);
    const dropped = this.enforceCap(kind, key);
    if (this.openPushes) {
      this.openPushes.push({ kind, key, slot, dropped });
      return this.openPushesDone!;
    }
    const batch: PendingPush[] = [{ kind, key, slot, dropped }];
    this.openPushes = batch;
    const done = this.serial.run(async () => {
      if (this.openPushes === batch) this.openPushes = undefined;
      try {
        const { rows } = await this.db.query<{ id: string }>(
          `WITH ins AS (
             INSERT INTO koi_queue_events (kind, peer, event)
             SELECT t.k, t.p, t.e FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(k, p, e, ord) ORDER BY t.ord
             RETURNING id, kind, peer)
           SELECT id, ${notifySql(CHANNELS.queues, '$4::text', "kind || ' ' || peer")} FROM ins`,
          [batch.map((b) => b.kind), batch.map((b) => b.key), batch.map((b) => eventWireText(b.slot.event)), this.db.owner],
        );
        // Ids come from the sequence in row order: the smallest is the first push's.
        const sorted = rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
        batch.forEach((b, i) => (b.slot.id = sorted[i]));
        // What the cap dropped, also rows this very batch inserted for an earlier push.
        const gone = batch.flatMap((b) => b.dropped.filter((d) => d !== b.slot)).flatMap((d) => (d.id === undefined ? [] : [d.id]));
        if (gone.length > 0) await this.db.query('DELETE FROM koi_queue_events WHERE id = ANY($1::bigint[])', [gone]);
      } catch (err) {
        this.logger.error({ err: errorText(err), events: batch.length }, 'event queue change not stored');
        throw err;
      }
    });
    this.openPushesDone = done;
    return done;
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
    // Pushes after this change must not join a batch that runs before it.
    this.openPushes = undefined;
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

  /** Rows as slots; a row that cannot be read is logged and left out. */
  private parseRows(rows: readonly { id: string; event: string }[]): Slot[] {
    const out: Slot[] = [];
    for (const row of rows) {
      try {
        out.push({ id: row.id, event: Event.fromJSON(JSON.parse(row.event)) });
      } catch (err) {
        this.logger.error({ id: row.id, err: errorText(err) }, 'stored queued event cannot be read; skipped');
      }
    }
    return out;
  }

  /** Takes the rows `ids` out of the mirror of one queue. */
  private forget(kind: Kind, key: string, ids: ReadonlySet<string>): void {
    const queue = this.queues[kind].get(key);
    if (!queue || ids.size === 0) return;
    const kept = queue.toArray().filter((s) => s.id === undefined || !ids.has(s.id));
    if (kept.length === queue.length) return;
    queue.clear();
    for (const slot of kept) queue.push(slot);
    if (queue.length === 0) this.queues[kind].delete(key);
  }

  private queueOf(kind: Kind, key: string): Deque<Slot> {
    let queue = this.queues[kind].get(key);
    if (!queue) this.queues[kind].set(key, (queue = new Deque<Slot>()));
    return queue;
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
