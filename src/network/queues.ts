import { appendFile, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { Event } from '../knowledge/index.ts';
import type { KoiNetNode } from '../rid/index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { Deque } from '../util/deque.ts';
import { errorText } from '../util/error-text.ts';

export interface EventQueuesOptions {
  /** Cap per queue (webhook and poll each, per peer). Default 10,000. */
  maxPerPeer?: number;
  /**
   * The journal is folded into a new snapshot once it holds at least this many bytes AND at least
   * as many bytes as the snapshot would (so rewriting the snapshot stays proportional to the
   * changes it absorbs). Default 8 MiB.
   */
  compactBytes?: number;
  /**
   * After this long without a change, the journal is folded into the snapshot (when that is cheap
   * enough), so `event_queues.json` alone is an up-to-date view for tools that read it. 0 = never.
   * Default 500 ms.
   */
  idleCompactMs?: number;
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

/** The two queues each peer has: webhook (pushed to full nodes) and poll (kept for partial nodes to fetch). */
export type QueueKind = 'webhook' | 'poll';
type NodeKey = KoiNetNode | string;

export const DEFAULT_MAX_PER_PEER = 10_000;
export const DEFAULT_COMPACT_BYTES = 8 * 2 ** 20;
export const DEFAULT_IDLE_COMPACT_MS = 500;
/** Idle compaction always runs below this snapshot size; above it only once the journal is a quarter of it. */
const IDLE_COMPACT_CHEAP_BYTES = 2 ** 20;
const SNAPSHOT_CHUNK_CHARS = 2 ** 20;

/** One distinct event, held once however many queues hold it. */
interface Entry {
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

/**
 * Journal records, one JSON line each. Ids and peer numbers are local to one journal file, which is
 * therefore readable without the process that wrote it.
 * h: header (cap in force); e: event definition; n: peer definition; p: push event `i` at the back
 * of the webhook queues of peers `w` and the poll queues of peers `q`; f: push events at the front
 * (k: w|q); t: take `c` webhook events of peer `n` into flight (replacing its previous batch);
 * d: drain `c` poll events; a: clear peer `n`'s in-flight batch.
 */
type JournalOp =
  | { o: 'h'; g: number; cap: number }
  | { o: 'e'; i: number; v: unknown }
  | { o: 'n'; n: number; p: string }
  | { o: 'p'; i: number; w: number[]; q: number[] }
  | { o: 'f'; k: 'w' | 'q'; n: number; i: number[] }
  | { o: 't'; n: number; c: number }
  | { o: 'd'; n: number; c: number }
  | { o: 'a'; n: number };

/** Pushes of one event to many peers in a row (a fan-out) become one record. */
interface PushGroup {
  id: number;
  w: number[];
  q: number[];
}

/** The state to snapshot, taken synchronously: texts are immutable, so writing can be slow. */
interface Capture {
  webhook: [string, string[]][];
  poll: [string, string[]][];
  inflight: [string, string[]][];
}

/**
 * Per-peer webhook and poll queues of events, persisted as a snapshot plus an append-only journal,
 * so that the cost of persisting a change is proportional to the change, not to the queues' depth.
 *
 * Files (F = the queue file path, `event_queues.json` in a node):
 * - F: snapshot in the reference's `EventQueueModel` layout (`webhook`, `poll`: node -> wire
 *   events), so a Python node and `koi-net status` can read it, plus `webhook_inflight` and
 *   `journal_gen` (pydantic ignores extra keys). Always written to a temp file and renamed.
 * - F.journal-G: JSON lines of the changes made after snapshot generation G (see JournalOp). An
 *   event is written once per journal however many queues it goes to; pushes of one event to many
 *   peers share a line. Replayed at open over the snapshot; a torn final line is a write that never
 *   completed, so nobody was told it was durable: it is ignored.
 *
 * Durability: every mutation changes memory synchronously and returns a promise that resolves once
 * a journal append that includes it has completed (SIGKILL-safe; no fsync, so not power-loss
 * safe). Appends are coalesced: all mutations made before an append takes its cut share that one
 * write call, and at most one append runs at a time.
 *
 * Compaction: once the journal is both over `compactBytes` and larger than the snapshot would be,
 * the state is captured at an append's cut, the journal generation moves on (later appends go to
 * F.journal-(G+1)), and the snapshot is written in the background; journals older than the new
 * snapshot are deleted only after its rename. A crash in between replays both journals over the
 * old snapshot. `persist()`, `close()`, `open()` after a replay, and a failed append compact
 * inline instead (the mutations of that cut resolve once the snapshot is renamed). When the queues
 * go quiet the journal is folded in too, if that is cheap, to keep F current for readers.
 *
 * Memory: each distinct event (same object, or same canonical JSON) is held once, shared by the
 * queues that hold it, and freed when the last of them lets it go. Returned events are these
 * shared, frozen objects.
 *
 * Cap policy: each queue holds at most `maxPerPeer` events; pushing onto a full queue drops the
 * OLDEST event. Events are signals about state, so the newest ones are the most useful to a peer
 * that has fallen behind (it can re-fetch state), while an unbounded queue for a dead peer would
 * grow memory and the files without limit. One warning is logged per burst: at the first drop,
 * and again only after that queue has dropped below the cap.
 *
 * Webhook delivery is at-least-once: `takeWebhook` moves the batch to an in-flight list that is
 * persisted too; `requeueWebhookFront` (failure) moves it back, `ackWebhook` (success) or the
 * node's next `takeWebhook` clears it. A batch still in flight at open goes back to the front of
 * its queue. The price is a possible duplicate after a crash, which peers tolerate (an event
 * whose manifest they already have is dropped).
 *
 * One process, one instance per file: two writers would overwrite each other's snapshots.
 */
export class EventQueues {
  private readonly maxPerPeer: number;
  private readonly compactBytes: number;
  private readonly idleCompactMs: number;
  private readonly logger: Logger;
  /** Queues currently in a dropping burst (`kind:node`). */
  private readonly dropping = new Set<string>();
  private readonly droppedCounts = new Map<string, number>();

  private readonly queues: Record<QueueKind, Map<string, Deque<Entry>>> = { webhook: new Map(), poll: new Map() };
  private readonly inflight = new Map<string, Entry[]>();
  /** Live entries by canonical text. */
  private readonly byText = new Map<string, Entry>();
  /** Spares re-serializing an Event object pushed to many peers, or requeued after a take. */
  private readonly byEvent = new WeakMap<Event, Entry>();
  private nextId = 1;
  /** What the snapshot's event texts would weigh now: the compaction thresholds compare with it. */
  private stateBytes = 0;

  /** Current journal generation. */
  private gen = 0;
  private peerNumbers = new Map<string, number>();
  /** Definitions (no effect on state, so they may precede the records of their batch). */
  private defs: string[] = [];
  private ops: (string | PushGroup)[] = [];
  /** Journal bytes per generation not yet folded into a snapshot. */
  private readonly journalBytes = new Map<number, number>();
  private retryCompactionAt = 0;
  /** An append failed: the journal may end in garbage, so the next write is a full snapshot. */
  private broken = false;
  private forceCompact = false;
  private wantBackgroundCompact = false;
  private compacting: Promise<void> | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private closed = false;

  /** The append that will include every mutation made so far and not yet cut. */
  private pending: Promise<void> | null = null;
  /** The last write scheduled; never rejects, it only orders writes. */
  private chain: Promise<void> = Promise.resolve();
  private writes = 0;

  private constructor(
    readonly filePath: string,
    options: EventQueuesOptions,
  ) {
    this.maxPerPeer = options.maxPerPeer ?? DEFAULT_MAX_PER_PEER;
    if (!Number.isInteger(this.maxPerPeer) || this.maxPerPeer < 1) {
      throw new RangeError(`maxPerPeer must be a positive integer, got ${this.maxPerPeer}`);
    }
    this.compactBytes = options.compactBytes ?? DEFAULT_COMPACT_BYTES;
    this.idleCompactMs = options.idleCompactMs ?? DEFAULT_IDLE_COMPACT_MS;
    this.logger = options.logger ?? silentLogger;
  }

  static async open(filePath: string, options: EventQueuesOptions = {}): Promise<EventQueues> {
    await mkdir(dirname(filePath), { recursive: true });
    const queues = new EventQueues(filePath, options);
    await queues.load();
    return queues;
  }

  /** Number of file writes (journal appends and snapshots) since open. */
  get writeCount(): number {
    return this.writes;
  }

  /** Distinct events held in memory (each once, however many queues hold it). */
  get storedEvents(): number {
    return this.byText.size;
  }

  pushWebhook(node: NodeKey, event: Event): Promise<void> {
    const key = String(node);
    const entry = this.intern(event);
    this.pushBack('webhook', key, entry, this.maxPerPeer, true);
    this.recordPush('webhook', key, entry);
    return this.schedule();
  }

  pushPoll(node: NodeKey, event: Event): Promise<void> {
    const key = String(node);
    const entry = this.intern(event);
    this.pushBack('poll', key, entry, this.maxPerPeer, true);
    this.recordPush('poll', key, entry);
    return this.schedule();
  }

  /**
   * Removes and returns up to `limit` oldest poll events of `node` (0 = all). Resolves once the
   * removal is on disk, so a poller is never answered with events a restart would resend.
   */
  async drainPoll(node: NodeKey, limit = 0): Promise<Event[]> {
    const key = String(node);
    const queue = this.queues.poll.get(key);
    if (!queue || queue.length === 0) return [];
    const taken = this.shiftFront('poll', key, limit > 0 ? limit : queue.length);
    for (const entry of taken) this.unref(entry);
    this.ops.push(`{"o":"d","n":${this.peerNumber(key)},"c":${taken.length}}`);
    this.endBurstIfBelowCap('poll', key);
    const events = taken.map((e) => e.event);
    try {
      await this.schedule();
    } catch (err) {
      // The caller gets no events, so they must not vanish: back to the front.
      this.pushFrontLive('poll', key, events);
      throw err;
    }
    return events;
  }

  /**
   * Takes the webhook queue of `node` (at most `limit` oldest events; 0 = all) for a flush. The batch stays on disk as in flight
   * until `ackWebhook`, `requeueWebhookFront`, or the next `takeWebhook` of this node (flushes of
   * one node are expected to run one at a time, so the next take means the last one finished).
   */
  async takeWebhook(node: NodeKey, limit = 0): Promise<Event[]> {
    const key = String(node);
    const available = this.queues.webhook.get(key)?.length ?? 0;
    if (available === 0) {
      if (this.inflight.has(key)) {
        this.clearInflight(key);
        this.ops.push(`{"o":"a","n":${this.peerNumber(key)}}`);
        await this.schedule();
      }
      return [];
    }
    // A bounded batch keeps one request small enough to finish within a request timeout even
    // after a long outage; the caller loops for the rest.
    const batch = this.shiftFront('webhook', key, limit > 0 ? limit : available);
    this.clearInflight(key);
    this.inflight.set(key, batch);
    this.ops.push(`{"o":"t","n":${this.peerNumber(key)},"c":${batch.length}}`);
    this.endBurstIfBelowCap('webhook', key);
    const events = batch.map((e) => e.event);
    try {
      await this.schedule();
    } catch (err) {
      this.pushFrontLive('webhook', key, events);
      if (this.inflight.get(key) === batch) {
        this.clearInflight(key);
        this.ops.push(`{"o":"a","n":${this.peerNumber(key)}}`);
      }
      throw err;
    }
    return events;
  }

  /** The last taken batch of `node` was delivered. */
  ackWebhook(node: NodeKey): Promise<void> {
    const key = String(node);
    if (!this.inflight.has(key)) return this.flushed();
    this.clearInflight(key);
    this.ops.push(`{"o":"a","n":${this.peerNumber(key)}}`);
    return this.schedule();
  }

  /** A delivery failed: `events` go back to the FRONT of the queue, in their original order. */
  requeueWebhookFront(node: NodeKey, events: readonly Event[]): Promise<void> {
    const key = String(node);
    // Pushed before the in-flight batch is released, so its entries are never freed in between.
    if (events.length > 0) this.pushFrontLive('webhook', key, events);
    if (this.inflight.has(key)) {
      this.clearInflight(key);
      this.ops.push(`{"o":"a","n":${this.peerNumber(key)}}`);
    }
    return this.schedule();
  }

  /** Nodes with queued webhook events. */
  webhookNodes(): string[] {
    return [...this.queues.webhook.keys()];
  }

  /** Nodes with queued poll events. */
  pollNodes(): string[] {
    return [...this.queues.poll.keys()];
  }

  /** A copy of the webhook queue of `node`, without removing anything. */
  peekWebhook(node: NodeKey): Event[] {
    return (this.queues.webhook.get(String(node))?.toArray() ?? []).map((e) => e.event);
  }

  /** How many events wait in the webhook queue of `node` (without copying them). */
  peekWebhookLength(node: NodeKey): number {
    return this.queues.webhook.get(String(node))?.length ?? 0;
  }

  /** A copy of the poll queue of `node`, without removing anything. */
  peekPoll(node: NodeKey): Event[] {
    return (this.queues.poll.get(String(node))?.toArray() ?? []).map((e) => e.event);
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

  /** Resolves when every mutation made so far is on disk. */
  flushed(): Promise<void> {
    return this.pending ?? this.chain;
  }

  /** Writes the whole current state as a new snapshot (with any pending changes) and resolves once it is renamed into place. */
  persist(): Promise<void> {
    this.forceCompact = true;
    return this.schedule();
  }

  /** Persists, then stops the idle timer. The instance must not be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    await this.persist();
  }

  // --- state (shared by live mutations and replay) ---------------------------------------------

  private intern(event: Event): Entry {
    const known = this.byEvent.get(event);
    if (known && !known.dead) return known;
    const entry = this.internText(known ? known.text : JSON.stringify(event.toJSON()), event);
    this.byEvent.set(event, entry);
    return entry;
  }

  private internText(text: string, event: Event): Entry {
    const live = this.byText.get(text);
    if (live) return live;
    const entry: Entry = { id: this.nextId++, event, text, refs: 0, gen: -1, dead: false };
    this.byText.set(text, entry);
    return entry;
  }

  private ref(entry: Entry): void {
    entry.refs += 1;
    this.stateBytes += entry.text.length + 1;
  }

  private unref(entry: Entry): void {
    entry.refs -= 1;
    this.stateBytes -= entry.text.length + 1;
    if (entry.refs > 0) return;
    entry.dead = true;
    if (this.byText.get(entry.text) === entry) this.byText.delete(entry.text);
  }

  private pushBack(kind: QueueKind, key: string, entry: Entry, cap: number, live: boolean): void {
    const map = this.queues[kind];
    let queue = map.get(key);
    if (!queue) map.set(key, (queue = new Deque<Entry>()));
    queue.push(entry);
    this.ref(entry);
    this.enforceCap(kind, key, queue, cap, live);
  }

  private pushFront(kind: QueueKind, key: string, entries: readonly Entry[], cap: number, live: boolean): void {
    if (entries.length === 0) return;
    const map = this.queues[kind];
    let queue = map.get(key);
    if (!queue) map.set(key, (queue = new Deque<Entry>()));
    queue.unshiftAll(entries);
    for (const entry of entries) this.ref(entry);
    this.enforceCap(kind, key, queue, cap, live);
  }

  /** Removes up to `n` entries from the front, without releasing them. */
  private shiftFront(kind: QueueKind, key: string, n: number): Entry[] {
    const queue = this.queues[kind].get(key);
    if (!queue) return [];
    const out = queue.shiftMany(n);
    if (queue.length === 0) this.queues[kind].delete(key);
    return out;
  }

  private clearInflight(key: string): void {
    const batch = this.inflight.get(key);
    if (!batch) return;
    this.inflight.delete(key);
    for (const entry of batch) this.unref(entry);
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

  private endBurstIfBelowCap(kind: QueueKind, key: string): void {
    const burstKey = `${kind}:${key}`;
    if (!this.dropping.has(burstKey)) return;
    if ((this.queues[kind].get(key)?.length ?? 0) < this.maxPerPeer) this.dropping.delete(burstKey);
  }

  // --- journal records -------------------------------------------------------------------------

  private pushFrontLive(kind: QueueKind, key: string, events: readonly Event[]): void {
    const entries = events.map((e) => this.intern(e));
    this.pushFront(kind, key, entries, this.maxPerPeer, true);
    for (const entry of entries) this.defineEntry(entry);
    const ids = entries.map((e) => e.id).join(',');
    this.ops.push(`{"o":"f","k":"${kind === 'webhook' ? 'w' : 'q'}","n":${this.peerNumber(key)},"i":[${ids}]}`);
  }

  private recordPush(kind: QueueKind, key: string, entry: Entry): void {
    this.defineEntry(entry);
    const peer = this.peerNumber(key);
    const last = this.ops[this.ops.length - 1];
    // Only the very last record may absorb the push: a later record on this queue would otherwise be replayed before it.
    if (typeof last === 'object' && last.id === entry.id) {
      (kind === 'webhook' ? last.w : last.q).push(peer);
      return;
    }
    this.ops.push({ id: entry.id, w: kind === 'webhook' ? [peer] : [], q: kind === 'poll' ? [peer] : [] });
  }

  private defineEntry(entry: Entry): void {
    if (entry.gen === this.gen) return;
    entry.gen = this.gen;
    this.defs.push(`{"o":"e","i":${entry.id},"v":${entry.text}}`);
  }

  private peerNumber(key: string): number {
    let n = this.peerNumbers.get(key);
    if (n === undefined) {
      n = this.peerNumbers.size;
      this.peerNumbers.set(key, n);
      this.defs.push(JSON.stringify({ o: 'n', n, p: key }));
    }
    return n;
  }

  private startGeneration(gen: number): void {
    this.gen = gen;
    this.peerNumbers = new Map();
    this.defs = [JSON.stringify({ o: 'h', g: gen, cap: this.maxPerPeer })];
    this.ops = [];
  }

  private journalPath(gen: number): string {
    return `${this.filePath}.journal-${gen}`;
  }

  private unfoldedJournalBytes(): number {
    let total = 0;
    for (const n of this.journalBytes.values()) total += n;
    return total;
  }

  // --- writing ---------------------------------------------------------------------------------

  private schedule(): Promise<void> {
    if (this.pending) return this.pending;
    const previous = this.chain;
    const write = (async () => {
      await previous;
      // Yield past the current tick so a burst of synchronous mutations shares one append.
      await new Promise<void>((resolve) => setImmediate(resolve));
      // An inline snapshot must not overlap a background one (same temp file, and its journal cleanup).
      if ((this.forceCompact || this.broken) && this.compacting) await this.compacting;
      // The cut: from here on a mutation is not in this write and schedules the next one.
      this.pending = null;
      await this.writeCut();
    })();
    // Callers that fire and forget must not crash the process with an unhandled rejection;
    // callers that await still see it.
    write.catch(() => undefined);
    this.pending = write;
    this.chain = write.then(
      () => undefined,
      () => undefined,
    );
    return write;
  }

  /** Runs synchronously up to its first await: the records taken and the state captured match. */
  private async writeCut(): Promise<void> {
    const text = serializeBatch(this.defs, this.ops);
    const hasOps = this.ops.length > 0;
    this.defs = [];
    this.ops = [];
    const inline = this.forceCompact || this.broken;
    const unfolded = this.unfoldedJournalBytes() + text.length;
    const background =
      !inline &&
      this.compacting === null &&
      (this.wantBackgroundCompact || (unfolded >= Math.max(this.compactBytes, this.stateBytes) && unfolded >= this.retryCompactionAt));

    if (!inline && !background) {
      if (!hasOps) {
        // Only definitions: nothing to make durable; keep them for the next batch of this generation.
        this.defs = text === '' ? [] : [text.slice(0, -1)];
        return;
      }
      await this.append(this.gen, text);
      this.armIdleTimer();
      return;
    }

    const capture = this.capture();
    const oldGen = this.gen;
    const newGen = Math.max(oldGen, ...this.journalBytes.keys()) + 1;
    this.startGeneration(newGen);
    this.forceCompact = false;
    this.wantBackgroundCompact = false;

    if (inline) {
      // The records of this cut are covered by the snapshot; they are not appended anywhere.
      this.writes += 1;
      try {
        await this.writeSnapshot(capture, newGen);
      } catch (err) {
        // Memory holds changes no file has: only a full snapshot can catch up now.
        this.broken = true;
        this.logger.error({ filePath: this.filePath, err: errorText(err) }, 'cannot write the event queue snapshot');
        throw err;
      }
      this.broken = false;
      this.retryCompactionAt = 0;
      await this.dropJournalsBefore(newGen);
      return;
    }

    if (hasOps) await this.append(oldGen, text);
    this.writes += 1;
    const started = this.writeSnapshot(capture, newGen).then(
      async () => {
        this.retryCompactionAt = 0;
        await this.dropJournalsBefore(newGen);
        // Changes appended while the snapshot was written still deserve a current file once quiet.
        if (this.unfoldedJournalBytes() > 0) this.armIdleTimer();
      },
      (err: unknown) => {
        // Both journals stay and are replayed in order; try again after another threshold's worth.
        this.retryCompactionAt = this.unfoldedJournalBytes() + this.compactBytes;
        this.logger.error({ filePath: this.filePath, err: errorText(err) }, 'cannot write the event queue snapshot; keeping the journal');
      },
    );
    this.compacting = started.finally(() => {
      this.compacting = null;
    });
  }

  private async append(gen: number, text: string): Promise<void> {
    this.writes += 1;
    try {
      await appendFile(this.journalPath(gen), text);
    } catch (err) {
      this.broken = true;
      this.logger.error({ filePath: this.journalPath(gen), err: errorText(err) }, 'cannot append to the event queue journal');
      throw err;
    }
    this.journalBytes.set(gen, (this.journalBytes.get(gen) ?? 0) + Buffer.byteLength(text));
  }

  private armIdleTimer(): void {
    if (this.idleCompactMs <= 0 || this.closed) return;
    if (this.idleTimer) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      const unfolded = this.unfoldedJournalBytes();
      if (this.closed || unfolded === 0 || this.compacting) return;
      // A snapshot of a deep queue costs its whole size: only worth it once the journal is a good part of that.
      if (this.stateBytes > IDLE_COMPACT_CHEAP_BYTES && unfolded * 4 < this.stateBytes) return;
      this.wantBackgroundCompact = true;
      this.schedule().catch(() => undefined);
    }, this.idleCompactMs);
    this.idleTimer.unref();
  }

  private capture(): Capture {
    const texts = (entries: readonly Entry[]): string[] => entries.map((e) => e.text);
    return {
      webhook: [...this.queues.webhook].map(([k, q]) => [k, texts(q.toArray())]),
      poll: [...this.queues.poll].map(([k, q]) => [k, texts(q.toArray())]),
      inflight: [...this.inflight].map(([k, batch]) => [k, texts(batch)]),
    };
  }

  /** Streams the snapshot to a temp file in bounded chunks, then renames it over the queue file. */
  private async writeSnapshot(capture: Capture, gen: number): Promise<void> {
    const tmp = `${this.filePath}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      let parts: string[] = [];
      let size = 0;
      const put = async (s: string): Promise<void> => {
        parts.push(s);
        size += s.length;
        if (size < SNAPSHOT_CHUNK_CHARS) return;
        const chunk = parts.join('');
        parts = [];
        size = 0;
        await fh.writeFile(chunk);
      };
      const section = async (name: string, queues: [string, string[]][], first: boolean): Promise<void> => {
        await put(`${first ? '{' : ','}${JSON.stringify(name)}:{`);
        for (let q = 0; q < queues.length; q++) {
          const [key, texts] = queues[q]!;
          await put(`${q > 0 ? ',' : ''}${JSON.stringify(key)}:[`);
          for (let i = 0; i < texts.length; i += 1000) {
            await put(`${i > 0 ? ',' : ''}${texts.slice(i, i + 1000).join(',')}`);
          }
          await put(']');
        }
        await put('}');
      };
      await section('webhook', capture.webhook, true);
      await section('poll', capture.poll, false);
      await section('webhook_inflight', capture.inflight, false);
      await put(`,"journal_gen":${gen}}\n`);
      await fh.writeFile(parts.join(''));
    } finally {
      await fh.close();
    }
    await rename(tmp, this.filePath);
  }

  private async dropJournalsBefore(gen: number): Promise<void> {
    for (const g of [...this.journalBytes.keys()]) {
      if (g >= gen) continue;
      this.journalBytes.delete(g);
      await unlink(this.journalPath(g)).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      });
    }
  }

  // --- loading ---------------------------------------------------------------------------------

  private async load(): Promise<void> {
    const dir = dirname(this.filePath);
    const base = basename(this.filePath);
    await unlink(`${this.filePath}.tmp`).catch(() => undefined);
    const journals = (await readdir(dir))
      .map((name) => (name.startsWith(`${base}.journal-`) ? name.slice(base.length + '.journal-'.length) : ''))
      .filter((suffix) => /^\d+$/.test(suffix))
      .map(Number)
      .sort((a, b) => a - b);

    let corrupt: string | undefined;
    let snapshotGen = 0;
    let text: string | undefined;
    try {
      text = await readFile(this.filePath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== undefined) {
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (err) {
        corrupt = errorText(err);
      }
      if (corrupt === undefined) {
        const result = this.loadSnapshot(raw);
        if (typeof result === 'string') corrupt = result;
        else snapshotGen = result;
      }
    }

    let dirty = false;
    if (corrupt !== undefined) {
      // Keep the bytes for a human to look at; starting empty beats refusing to start. The journals
      // only make sense on top of that snapshot, so they go aside with it.
      const stamp = Date.now();
      const aside = `${this.filePath}.corrupt-${stamp}`;
      await rename(this.filePath, aside);
      for (const g of journals) await rename(this.journalPath(g), `${this.journalPath(g)}.corrupt-${stamp}`);
      this.logger.warn({ filePath: this.filePath, movedTo: aside, reason: corrupt }, 'event queue file is corrupt; moved aside, starting with empty queues');
      this.clearState();
      dirty = true;
    } else {
      let stopped = false;
      for (const g of journals) {
        const path = this.journalPath(g);
        if (g < snapshotGen || stopped) {
          // Older: already folded into the snapshot. After a corrupt journal: built on state we lost.
          if (stopped) {
            await rename(path, `${path}.corrupt-${Date.now()}`);
          } else await unlink(path);
          continue;
        }
        const content = await readFile(path, 'utf8');
        this.journalBytes.set(g, content.length);
        if (content.length > 0) dirty = true;
        const bad = this.replay(content);
        if (bad !== undefined) {
          const aside = `${path}.corrupt-${Date.now()}`;
          await rename(path, aside);
          this.logger.warn({ filePath: path, movedTo: aside, reason: bad }, 'event queue journal is corrupt; kept the changes before the bad record, moved it aside');
          stopped = true;
        }
      }
    }
    this.gen = Math.max(snapshotGen, ...journals);
    if (this.restoreInflight()) dirty = true;
    for (const kind of ['webhook', 'poll'] as const) {
      for (const [key, queue] of this.queues[kind]) {
        if (queue.length <= this.maxPerPeer) continue;
        this.enforceCap(kind, key, queue, this.maxPerPeer, true);
        dirty = true;
      }
    }
    if (!dirty) {
      this.startGeneration(this.gen);
      return;
    }
    // Fold everything into a fresh snapshot: replay happens once, and the next journal starts clean
    // (after a torn line, appending would glue new records onto the fragment).
    this.startGeneration(this.gen);
    await this.persist();
  }

  /** Loads the snapshot (current, older ours, or the Python reference's layout); returns its generation or why it is corrupt. */
  private loadSnapshot(raw: unknown): number | string {
    if (!isRecord(raw)) return 'top level is not a JSON object';
    const sections: [string, (key: string, entry: Entry) => void][] = [
      // No cap here: it is applied once everything is loaded, with the usual warning.
      ['webhook', (key, entry) => this.pushBack('webhook', key, entry, Infinity, false)],
      ['poll', (key, entry) => this.pushBack('poll', key, entry, Infinity, false)],
      [
        'webhook_inflight',
        (key, entry) => {
          let batch = this.inflight.get(key);
          if (!batch) this.inflight.set(key, (batch = []));
          batch.push(entry);
          this.ref(entry);
        },
      ],
    ];
    for (const [name] of sections) {
      const section = raw[name];
      if (section === undefined || section === null) continue;
      if (!isRecord(section)) return `"${name}" is not an object`;
      for (const [node, list] of Object.entries(section)) {
        if (!Array.isArray(list)) return `"${name}.${node}" is not an array`;
      }
    }
    for (const [name, add] of sections) {
      const section = raw[name];
      if (!isRecord(section)) continue;
      for (const [node, list] of Object.entries(section)) {
        for (const item of list as unknown[]) {
          const entry = this.entryFromWire(item);
          if (typeof entry === 'string') {
            this.logger.warn({ queue: name, node, err: entry }, 'dropping an invalid queued event');
            continue;
          }
          add(node, entry);
        }
      }
    }
    const gen = raw['journal_gen'];
    return typeof gen === 'number' && Number.isSafeInteger(gen) && gen >= 0 ? gen : 0;
  }

  private entryFromWire(item: unknown): Entry | string {
    let event: Event;
    try {
      event = Event.fromJSON(item);
    } catch (err) {
      return errorText(err);
    }
    // Canonical text, so that the same event from the snapshot and a journal is one entry.
    return this.intern(event);
  }

  private clearState(): void {
    this.queues.webhook.clear();
    this.queues.poll.clear();
    this.inflight.clear();
    this.byText.clear();
    this.stateBytes = 0;
  }

  /** Applies one journal's records; returns why it stopped early, if it did. A torn last line is ignored. */
  private replay(content: string): string | undefined {
    const lines = content.split('\n');
    lines.pop(); // '' after the last newline, or a torn write that was never acknowledged
    const events = new Map<number, string>();
    const eventObjects = new Map<string, Event>();
    const peers = new Map<number, string>();
    let cap = this.maxPerPeer;
    const entry = (id: number): Entry | undefined => {
      const text = events.get(id);
      return text === undefined ? undefined : this.internText(text, eventObjects.get(text)!);
    };
    for (let lineNo = 0; lineNo < lines.length; lineNo++) {
      const line = lines[lineNo]!;
      if (line === '') continue;
      let op: JournalOp | undefined;
      try {
        op = parseOp(JSON.parse(line));
      } catch {
        op = undefined;
      }
      if (!op) return `line ${lineNo + 1} is not a journal record`;
      const bad = (): string => `line ${lineNo + 1} refers to an unknown event or peer`;
      switch (op.o) {
        case 'h':
          cap = op.cap;
          break;
        case 'e': {
          let event: Event;
          try {
            event = Event.fromJSON(op.v);
          } catch (err) {
            return `line ${lineNo + 1}: ${errorText(err)}`;
          }
          const text = JSON.stringify(event.toJSON());
          events.set(op.i, text);
          if (!eventObjects.has(text)) eventObjects.set(text, event);
          break;
        }
        case 'n':
          peers.set(op.n, op.p);
          break;
        case 'p': {
          const e = entry(op.i);
          if (!e) return bad();
          for (const [kind, list] of [
            ['webhook', op.w],
            ['poll', op.q],
          ] as const) {
            for (const n of list) {
              const key = peers.get(n);
              if (key === undefined) return bad();
              this.pushBack(kind, key, e, cap, false);
            }
          }
          break;
        }
        case 'f': {
          const key = peers.get(op.n);
          const list = op.i.map(entry);
          if (key === undefined || list.some((e) => e === undefined)) return bad();
          this.pushFront(op.k === 'w' ? 'webhook' : 'poll', key, list as Entry[], cap, false);
          break;
        }
        case 't': {
          const key = peers.get(op.n);
          if (key === undefined) return bad();
          const batch = this.shiftFront('webhook', key, op.c);
          this.clearInflight(key);
          if (batch.length > 0) this.inflight.set(key, batch);
          break;
        }
        case 'd': {
          const key = peers.get(op.n);
          if (key === undefined) return bad();
          for (const e of this.shiftFront('poll', key, op.c)) this.unref(e);
          break;
        }
        case 'a': {
          const key = peers.get(op.n);
          if (key === undefined) return bad();
          this.clearInflight(key);
          break;
        }
      }
    }
    return undefined;
  }

  /** Puts batches a crashed flush left in flight back at the front of their queues. */
  private restoreInflight(): boolean {
    const keys = [...this.inflight.keys()];
    for (const key of keys) {
      const batch = this.inflight.get(key)!;
      this.pushFront('webhook', key, batch, this.maxPerPeer, true);
      this.clearInflight(key);
    }
    if (keys.length > 0) this.logger.info({ nodes: keys }, 'requeued webhook events whose delivery was interrupted');
    return keys.length > 0;
  }
}

function serializeBatch(defs: readonly string[], ops: readonly (string | PushGroup)[]): string {
  if (defs.length === 0 && ops.length === 0) return '';
  const lines = defs.slice();
  for (const op of ops) {
    lines.push(typeof op === 'string' ? op : `{"o":"p","i":${op.id},"w":[${op.w.join(',')}],"q":[${op.q.join(',')}]}`);
  }
  return `${lines.join('\n')}\n`;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isCountList = (v: unknown): v is number[] => Array.isArray(v) && v.every(isCount);

function parseOp(raw: unknown): JournalOp | undefined {
  if (!isRecord(raw)) return undefined;
  switch (raw['o']) {
    case 'h':
      return isCount(raw['g']) && isCount(raw['cap']) && raw['cap'] > 0 ? { o: 'h', g: raw['g'], cap: raw['cap'] } : undefined;
    case 'e':
      return isCount(raw['i']) ? { o: 'e', i: raw['i'], v: raw['v'] } : undefined;
    case 'n':
      return isCount(raw['n']) && typeof raw['p'] === 'string' ? { o: 'n', n: raw['n'], p: raw['p'] } : undefined;
    case 'p':
      return isCount(raw['i']) && isCountList(raw['w']) && isCountList(raw['q']) ? { o: 'p', i: raw['i'], w: raw['w'], q: raw['q'] } : undefined;
    case 'f':
      return (raw['k'] === 'w' || raw['k'] === 'q') && isCount(raw['n']) && isCountList(raw['i'])
        ? { o: 'f', k: raw['k'], n: raw['n'], i: raw['i'] }
        : undefined;
    case 't':
    case 'd':
      return isCount(raw['n']) && isCount(raw['c']) ? { o: raw['o'], n: raw['n'], c: raw['c'] } : undefined;
    case 'a':
      return isCount(raw['n']) ? { o: 'a', n: raw['n'] } : undefined;
    default:
      return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

