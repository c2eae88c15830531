import { mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { Event, type EventWire } from '../knowledge/index.ts';
import type { KoiNetNode } from '../rid/index.ts';
import { silentLogger, type Logger } from '../logger.ts';

/**
 * On-disk shape. `webhook` and `poll` are the reference's `EventQueueModel`, so a Python
 * `event_queues.json` loads here. `webhook_inflight` is ours (pydantic ignores extra keys): the
 * batch a flush has taken but not yet delivered, so that a crash mid-delivery re-sends it instead
 * of losing it.
 */
interface QueueFileData {
  webhook: Record<string, EventWire[]>;
  poll: Record<string, EventWire[]>;
  webhook_inflight: Record<string, EventWire[]>;
}

export interface EventQueuesOptions {
  /** Cap per queue (webhook and poll each, per peer). Default 10,000. */
  maxPerPeer?: number;
  logger?: Logger;
}

export interface QueueDepths {
  webhook: Record<string, number>;
  poll: Record<string, number>;
  /** Events taken by a webhook flush that is still in progress. */
  webhookInflight: Record<string, number>;
  /** Events dropped by the cap since open, per `webhook:<node>` / `poll:<node>`. */
  dropped: Record<string, number>;
}

type QueueKind = 'webhook' | 'poll';
type NodeKey = KoiNetNode | string;

export const DEFAULT_MAX_PER_PEER = 10_000;

/**
 * Per-peer webhook and poll queues of events, persisted with lowdb (JSONFile: temp file + rename,
 * so the file is always either the old or the new complete state).
 *
 * Durability: every mutation changes memory synchronously and returns a promise that resolves
 * once a file write that includes the change has finished. Writes are coalesced: all mutations
 * made before a write takes its snapshot share that write, and at most one write runs at a time,
 * so a burst of thousands of pushes costs a handful of writes, not thousands.
 *
 * Cap policy: each queue holds at most `maxPerPeer` events; pushing onto a full queue drops the
 * OLDEST event. Events are signals about state, so the newest ones are the most useful to a peer
 * that has fallen behind (it can re-fetch state), while an unbounded queue for a dead peer would
 * grow memory and the file (rewritten whole on each change) without limit. One warning is logged
 * per burst: at the first drop, and again only after that queue has dropped below the cap.
 *
 * Webhook delivery is at-least-once: `takeWebhook` moves the batch to an in-flight list that is
 * persisted too; `requeueWebhookFront` (failure) moves it back, `ackWebhook` (success) or the
 * node's next `takeWebhook` clears it. A batch still in flight at open goes back to the front of
 * its queue. The price is a possible duplicate after a crash, which peers tolerate (an event
 * whose manifest they already have is dropped).
 */
export class EventQueues {
  private readonly maxPerPeer: number;
  private readonly logger: Logger;
  /** Queues currently in a dropping burst (`kind:node`). */
  private readonly dropping = new Set<string>();
  private readonly droppedCounts = new Map<string, number>();
  /** The write that will include every mutation made so far and not yet snapshotted. */
  private pending: Promise<void> | null = null;
  /** The write in progress; never rejects, it only orders writes. */
  private inFlight: Promise<void> = Promise.resolve();
  private writes = 0;

  private constructor(
    readonly filePath: string,
    private readonly db: Low<QueueFileData>,
    options: EventQueuesOptions,
  ) {
    this.maxPerPeer = options.maxPerPeer ?? DEFAULT_MAX_PER_PEER;
    if (!Number.isInteger(this.maxPerPeer) || this.maxPerPeer < 1) {
      throw new RangeError(`maxPerPeer must be a positive integer, got ${this.maxPerPeer}`);
    }
    this.logger = options.logger ?? silentLogger;
  }

  static async open(filePath: string, options: EventQueuesOptions = {}): Promise<EventQueues> {
    const logger = options.logger ?? silentLogger;
    await mkdir(dirname(filePath), { recursive: true });
    const adapter = new JSONFile<unknown>(filePath);
    let loaded: QueueFileData = emptyData();
    let raw: unknown = null;
    let corrupt: string | undefined;
    try {
      raw = await adapter.read();
    } catch (err) {
      corrupt = err instanceof Error ? err.message : String(err);
    }
    if (corrupt === undefined && raw !== null) {
      const result = parseQueueFile(raw, logger);
      if (typeof result === 'string') corrupt = result;
      else loaded = result;
    }
    if (corrupt !== undefined) {
      // Keep the bytes for a human to look at; starting empty beats refusing to start.
      const aside = `${filePath}.corrupt-${Date.now()}`;
      await rename(filePath, aside);
      logger.warn({ filePath, movedTo: aside, reason: corrupt }, 'event queue file is corrupt; moved aside, starting with empty queues');
    }
    const db = new Low<QueueFileData>(new JSONFile<QueueFileData>(filePath), emptyData());
    db.data = loaded;
    const queues = new EventQueues(filePath, db, options);
    if (queues.restoreInflight() || corrupt !== undefined) await queues.persist();
    return queues;
  }

  /** Number of file writes since open (lets tests and status check that writes coalesce). */
  get writeCount(): number {
    return this.writes;
  }

  pushWebhook(node: NodeKey, event: Event): Promise<void> {
    this.push('webhook', String(node), [event.toJSON()]);
    return this.schedule();
  }

  pushPoll(node: NodeKey, event: Event): Promise<void> {
    this.push('poll', String(node), [event.toJSON()]);
    return this.schedule();
  }

  /**
   * Removes and returns up to `limit` oldest poll events of `node` (0 = all). Resolves once the
   * removal is on disk, so a poller is never answered with events a restart would resend.
   */
  async drainPoll(node: NodeKey, limit = 0): Promise<Event[]> {
    const key = String(node);
    const queue = this.db.data.poll[key];
    if (!queue || queue.length === 0) return [];
    const taken = limit > 0 && limit < queue.length ? queue.splice(0, limit) : queue.splice(0);
    if (queue.length === 0) delete this.db.data.poll[key];
    this.endBurstIfBelowCap('poll', key);
    try {
      await this.schedule();
    } catch (err) {
      // The caller gets no events, so they must not vanish: back to the front.
      this.pushFront('poll', key, taken);
      throw err;
    }
    return taken.map((json) => Event.fromJSON(json));
  }

  /**
   * Takes the webhook queue of `node` (at most `limit` oldest events; 0 = all) for a flush. The batch stays on disk as in flight
   * until `ackWebhook`, `requeueWebhookFront`, or the next `takeWebhook` of this node (flushes of
   * one node are expected to run one at a time, so the next take means the last one finished).
   */
  async takeWebhook(node: NodeKey, limit = 0): Promise<Event[]> {
    const key = String(node);
    const all = this.db.data.webhook[key] ?? [];
    // A bounded batch keeps one request small enough to finish within a request timeout even
    // after a long outage; the caller loops for the rest.
    const queue = limit > 0 && limit < all.length ? all.splice(0, limit) : all;
    if (queue === all) delete this.db.data.webhook[key];
    if (queue.length === 0) {
      if (this.db.data.webhook_inflight[key]) {
        delete this.db.data.webhook_inflight[key];
        await this.schedule();
      }
      return [];
    }
    this.db.data.webhook_inflight[key] = queue;
    this.endBurstIfBelowCap('webhook', key);
    try {
      await this.schedule();
    } catch (err) {
      delete this.db.data.webhook_inflight[key];
      this.pushFront('webhook', key, queue);
      throw err;
    }
    return queue.map((json) => Event.fromJSON(json));
  }

  /** The last taken batch of `node` was delivered. */
  ackWebhook(node: NodeKey): Promise<void> {
    const key = String(node);
    if (!this.db.data.webhook_inflight[key]) return this.flushed();
    delete this.db.data.webhook_inflight[key];
    return this.schedule();
  }

  /** A delivery failed: `events` go back to the FRONT of the queue, in their original order. */
  requeueWebhookFront(node: NodeKey, events: readonly Event[]): Promise<void> {
    const key = String(node);
    delete this.db.data.webhook_inflight[key];
    if (events.length === 0) return this.schedule();
    this.pushFront('webhook', key, events.map((e) => e.toJSON()));
    return this.schedule();
  }

  /** Nodes with queued webhook events. */
  webhookNodes(): string[] {
    return Object.keys(this.db.data.webhook).filter((k) => (this.db.data.webhook[k]?.length ?? 0) > 0);
  }

  /** Nodes with queued poll events. */
  pollNodes(): string[] {
    return Object.keys(this.db.data.poll).filter((k) => (this.db.data.poll[k]?.length ?? 0) > 0);
  }

  /** A copy of the webhook queue of `node`, without removing anything. */
  peekWebhook(node: NodeKey): Event[] {
    return (this.db.data.webhook[String(node)] ?? []).map((json) => Event.fromJSON(json));
  }

  /** How many events wait in the webhook queue of `node` (without copying them). */
  peekWebhookLength(node: NodeKey): number {
    return this.db.data.webhook[String(node)]?.length ?? 0;
  }

  /** A copy of the poll queue of `node`, without removing anything. */
  peekPoll(node: NodeKey): Event[] {
    return (this.db.data.poll[String(node)] ?? []).map((json) => Event.fromJSON(json));
  }

  depths(): QueueDepths {
    const count = (rec: Record<string, EventWire[]>): Record<string, number> =>
      Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, v.length]));
    return {
      webhook: count(this.db.data.webhook),
      poll: count(this.db.data.poll),
      webhookInflight: count(this.db.data.webhook_inflight),
      dropped: Object.fromEntries(this.droppedCounts),
    };
  }

  /** Resolves when every mutation made so far is on disk. */
  flushed(): Promise<void> {
    return this.pending ?? this.inFlight;
  }

  /** Writes the current state now (coalesced with any pending write). */
  persist(): Promise<void> {
    return this.schedule();
  }

  // --- internals -------------------------------------------------------------------------------

  private push(kind: QueueKind, key: string, events: EventWire[]): void {
    const rec = this.db.data[kind];
    const queue = rec[key] ?? (rec[key] = []);
    queue.push(...events);
    this.enforceCap(kind, key, queue);
  }

  private pushFront(kind: QueueKind, key: string, events: EventWire[]): void {
    const rec = this.db.data[kind];
    const queue = rec[key] ?? (rec[key] = []);
    queue.unshift(...events);
    this.enforceCap(kind, key, queue);
  }

  private enforceCap(kind: QueueKind, key: string, queue: EventWire[]): void {
    const excess = queue.length - this.maxPerPeer;
    if (excess <= 0) return;
    queue.splice(0, excess);
    const burstKey = `${kind}:${key}`;
    this.droppedCounts.set(burstKey, (this.droppedCounts.get(burstKey) ?? 0) + excess);
    if (!this.dropping.has(burstKey)) {
      this.dropping.add(burstKey);
      this.logger.warn(
        { queue: kind, node: key, maxPerPeer: this.maxPerPeer, droppedSoFar: this.droppedCounts.get(burstKey) },
        'event queue full: dropping the oldest events (warned once per burst)',
      );
    }
  }

  private endBurstIfBelowCap(kind: QueueKind, key: string): void {
    const burstKey = `${kind}:${key}`;
    if (!this.dropping.has(burstKey)) return;
    if ((this.db.data[kind][key]?.length ?? 0) < this.maxPerPeer) this.dropping.delete(burstKey);
  }

  /** Puts batches a crashed flush left in flight back at the front of their queues. */
  private restoreInflight(): boolean {
    const inflight = this.db.data.webhook_inflight;
    const keys = Object.keys(inflight);
    for (const key of keys) {
      const events = inflight[key] ?? [];
      delete inflight[key];
      if (events.length > 0) this.pushFront('webhook', key, events);
    }
    if (keys.length > 0) this.logger.info({ nodes: keys }, 'requeued webhook events whose delivery was interrupted');
    return keys.length > 0;
  }

  private schedule(): Promise<void> {
    if (this.pending) return this.pending;
    const write = (async () => {
      await this.inFlight;
      // Yield past the current tick so a burst of synchronous mutations shares one snapshot.
      await new Promise<void>((resolve) => setImmediate(resolve));
      // From here on a mutation is not in this snapshot and must schedule the next write.
      this.pending = null;
      this.writes += 1;
      const done = this.db.write(); // JSONFile serializes synchronously here: the snapshot.
      this.inFlight = done.then(
        () => undefined,
        () => undefined,
      );
      try {
        await done;
      } catch (err) {
        this.logger.error({ filePath: this.filePath, err: err instanceof Error ? err.message : String(err) }, 'cannot write the event queue file');
        throw err;
      }
    })();
    // Callers that fire and forget must not crash the process with an unhandled rejection;
    // callers that await still see it.
    write.catch(() => undefined);
    this.pending = write;
    return write;
  }
}

function emptyData(): QueueFileData {
  return { webhook: {}, poll: {}, webhook_inflight: {} };
}

/** Returns the parsed data, or a reason the file is corrupt. Single bad events are dropped. */
function parseQueueFile(raw: unknown, logger: Logger): QueueFileData | string {
  if (!isRecord(raw)) return 'top level is not a JSON object';
  const data = emptyData();
  for (const kind of ['webhook', 'poll', 'webhook_inflight'] as const) {
    const section = raw[kind];
    if (section === undefined || section === null) continue;
    if (!isRecord(section)) return `"${kind}" is not an object`;
    for (const [node, list] of Object.entries(section)) {
      if (!Array.isArray(list)) return `"${kind}.${node}" is not an array`;
      const events: EventWire[] = [];
      for (const item of list) {
        try {
          // Round-trip so that what we hold is exactly what we would have written.
          events.push(Event.fromJSON(item).toJSON());
        } catch (err) {
          logger.warn({ queue: kind, node, err: err instanceof Error ? err.message : String(err) }, 'dropping an invalid queued event');
        }
      }
      if (events.length > 0) data[kind][node] = events;
    }
  }
  return data;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
