import { Event, eventWireText } from '../knowledge/index.ts';
import type { Logger } from '../logger.ts';
import { Deque } from '../util/deque.ts';
import { errorText } from '../util/error-text.ts';
import type { QueueDepths } from './store.ts';

export type QueueKind = 'webhook' | 'poll';

/** One distinct event, held once however many queues hold it. */
export interface Entry {
  /** Journal id; never reused within a process, so a freed entry can never be confused with a new one. */
  readonly id: number;
  readonly event: Event;
  /** Canonical wire JSON: the dedupe key, and what the journal and the snapshot write. */
  readonly text: string;
  /** Queue slots (queued or in flight) holding this entry. */
  refs: number;
  /** Generation whose journal already defines this entry (-1: none). */
  gen: number;
  dead: boolean;
}

/** The state to snapshot, taken synchronously: texts are immutable, so writing can be slow. */
export interface Capture {
  webhook: [string, string[]][];
  poll: [string, string[]][];
  inflight: [string, string[]][];
}

/**
 * The queues in memory, shared by live mutations and by replay at open (which passes `live`
 * false: no warnings, no drop counts). Each distinct event (same object, or same canonical JSON)
 * is held once, shared by the queues that hold it, and freed when the last of them lets it go.
 *
 * Cap policy: pushing onto a full queue drops the OLDEST event; one warning per burst (at the
 * first drop, and again only after that queue went below the cap).
 */
export class QueueState {
  readonly queues: Record<QueueKind, Map<string, Deque<Entry>>> = { webhook: new Map(), poll: new Map() };
  readonly inflight = new Map<string, Entry[]>();
  /** Live entries by canonical text. */
  private readonly byText = new Map<string, Entry>();
  /** Spares re-serializing an Event object pushed to many peers, or requeued after a take. */
  private readonly byEvent = new WeakMap<Event, Entry>();
  private nextId = 1;
  /** What the snapshot's event texts would weigh now: the compaction thresholds compare with it. */
  stateBytes = 0;
  /** Queues currently in a dropping burst (`kind:node`). */
  private readonly dropping = new Set<string>();
  private readonly droppedCounts = new Map<string, number>();

  constructor(
    readonly maxPerPeer: number,
    private readonly logger: Logger,
  ) {}

  /** Distinct events held. */
  get size(): number {
    return this.byText.size;
  }

  intern(event: Event): Entry {
    const known = this.byEvent.get(event);
    if (known && !known.dead) return known;
    const entry = this.internText(known ? known.text : eventWireText(event), event);
    this.byEvent.set(event, entry);
    return entry;
  }

  internText(text: string, event: Event): Entry {
    const live = this.byText.get(text);
    if (live) return live;
    const entry: Entry = { id: this.nextId++, event, text, refs: 0, gen: -1, dead: false };
    this.byText.set(text, entry);
    return entry;
  }

  ref(entry: Entry): void {
    entry.refs += 1;
    this.stateBytes += entry.text.length + 1;
  }

  unref(entry: Entry): void {
    entry.refs -= 1;
    this.stateBytes -= entry.text.length + 1;
    if (entry.refs > 0) return;
    entry.dead = true;
    if (this.byText.get(entry.text) === entry) this.byText.delete(entry.text);
  }

  pushBack(kind: QueueKind, key: string, entry: Entry, cap: number, live: boolean): void {
    const map = this.queues[kind];
    let queue = map.get(key);
    if (!queue) map.set(key, (queue = new Deque<Entry>()));
    queue.push(entry);
    this.ref(entry);
    this.enforceCap(kind, key, queue, cap, live);
  }

  pushFront(kind: QueueKind, key: string, entries: readonly Entry[], cap: number, live: boolean): void {
    if (entries.length === 0) return;
    const map = this.queues[kind];
    let queue = map.get(key);
    if (!queue) map.set(key, (queue = new Deque<Entry>()));
    queue.unshiftAll(entries);
    for (const entry of entries) this.ref(entry);
    this.enforceCap(kind, key, queue, cap, live);
  }

  /** Removes up to `n` entries from the front, without releasing them. */
  shiftFront(kind: QueueKind, key: string, n: number): Entry[] {
    const queue = this.queues[kind].get(key);
    if (!queue) return [];
    const out = queue.shiftMany(n);
    if (queue.length === 0) this.queues[kind].delete(key);
    return out;
  }

  /** Replaces the in-flight batch of `key` (an empty batch just clears it). */
  setInflight(key: string, batch: Entry[]): void {
    this.clearInflight(key);
    if (batch.length > 0) this.inflight.set(key, batch);
  }

  clearInflight(key: string): void {
    const batch = this.inflight.get(key);
    if (!batch) return;
    this.inflight.delete(key);
    for (const entry of batch) this.unref(entry);
  }

  /** Applies the cap to every queue (after loading, which loads without it). Returns whether anything was dropped. */
  enforceAllCaps(): boolean {
    let dropped = false;
    for (const kind of ['webhook', 'poll'] as const) {
      for (const [key, queue] of this.queues[kind]) {
        if (queue.length <= this.maxPerPeer) continue;
        this.enforceCap(kind, key, queue, this.maxPerPeer, true);
        dropped = true;
      }
    }
    return dropped;
  }

  endBurstIfBelowCap(kind: QueueKind, key: string): void {
    const burstKey = `${kind}:${key}`;
    if (!this.dropping.has(burstKey)) return;
    if ((this.queues[kind].get(key)?.length ?? 0) < this.maxPerPeer) this.dropping.delete(burstKey);
  }

  /** Puts batches a crashed flush left in flight back at the front of their queues. */
  restoreInflight(): boolean {
    const keys = [...this.inflight.keys()];
    for (const key of keys) {
      const batch = this.inflight.get(key)!;
      this.pushFront('webhook', key, batch, this.maxPerPeer, true);
      this.clearInflight(key);
    }
    if (keys.length > 0) this.logger.info({ nodes: keys }, 'requeued webhook events whose delivery was interrupted');
    return keys.length > 0;
  }

  clear(): void {
    this.queues.webhook.clear();
    this.queues.poll.clear();
    this.inflight.clear();
    this.byText.clear();
    this.stateBytes = 0;
  }

  capture(): Capture {
    const texts = (entries: readonly Entry[]): string[] => entries.map((e) => e.text);
    return {
      webhook: [...this.queues.webhook].map(([k, q]) => [k, texts(q.toArray())]),
      poll: [...this.queues.poll].map(([k, q]) => [k, texts(q.toArray())]),
      inflight: [...this.inflight].map(([k, batch]) => [k, texts(batch)]),
    };
  }

  depths(): QueueDepths {
    const count = (m: Map<string, { length: number }>): Record<string, number> =>
      Object.fromEntries([...m].map(([k, v]) => [k, v.length]));
    return {
      webhook: count(this.queues.webhook),
      poll: count(this.queues.poll),
      webhookInflight: count(this.inflight),
      dropped: Object.fromEntries(this.droppedCounts),
    };
  }

  /** An entry for a wire event read from a file, or why it is invalid. */
  entryFromWire(item: unknown): Entry | string {
    let event: Event;
    try {
      event = Event.fromJSON(item);
    } catch (err) {
      return errorText(err);
    }
    // Canonical text, so that the same event from the snapshot and a journal is one entry.
    return this.intern(event);
  }

  private enforceCap(kind: QueueKind, key: string, queue: Deque<Entry>, cap: number, live: boolean): void {
    const excess = queue.length - cap;
    if (excess <= 0) return;
    for (const entry of queue.shiftMany(excess)) this.unref(entry);
    if (!live) return;
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
}
