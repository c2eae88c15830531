import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Event } from '../knowledge/index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { errorText } from '../util/error-text.ts';
import type { Startable } from '../util/lifecycle.ts';
import { JournalFiles } from './journal-files.ts';
import { recoverQueueFiles } from './recover.ts';
import {
  clearInflightRecord,
  drainRecord,
  eventRecord,
  frontRecord,
  headerRecord,
  peerRecord,
  serializeBatch,
  takeRecord,
  type PushGroup,
} from './records.ts';
import { writeQueueSnapshot } from './snapshot.ts';
import { QueueState, type Entry, type QueueKind } from './state.ts';
import {
  DEFAULT_COMPACT_BYTES,
  DEFAULT_IDLE_COMPACT_MS,
  DEFAULT_MAX_PER_PEER,
  type EventQueueStore,
  type NodeKey,
  type QueueDepths,
} from './store.ts';

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

/** Idle compaction always runs below this snapshot size; above it only once the journal is a quarter of it. */
const IDLE_COMPACT_CHEAP_BYTES = 2 ** 20;

/**
 * The file-backed EventQueueStore: per-peer webhook and poll queues (state.ts), persisted with the
 * storage engine as a snapshot plus an append-only journal, so that the cost of persisting a
 * change is proportional to the change, not to the queues' depth.
 *
 * Files (F = the queue file path, `event_queues.json` in a node):
 * - F: the snapshot (snapshot.ts: the reference's `EventQueueModel` layout plus `webhook_inflight`
 *   and `journal_gen`). Always written to a temp file and renamed.
 * - F.journal-G: JSON lines of the changes made after snapshot generation G (records.ts). An
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
 * Returned events are the shared, frozen objects the queues hold. Webhook delivery is
 * at-least-once (see EventQueueStore): a batch still in flight at open goes back to the front of
 * its queue; the price is a possible duplicate after a crash, which peers tolerate (an event whose
 * manifest they already have is dropped).
 *
 * One process, one instance per file: two writers would overwrite each other's snapshots.
 */
export class EventQueues implements EventQueueStore, Startable {
  private readonly compactBytes: number;
  private readonly idleCompactMs: number;
  private readonly logger: Logger;
  private readonly state: QueueState;

  /** Current journal generation. */
  private gen = 0;
  private peerNumbers = new Map<string, number>();
  /** Definitions (no effect on state, so they may precede the records of their batch). */
  private defs: string[] = [];
  private ops: (string | PushGroup)[] = [];
  private readonly journals: JournalFiles;
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
    const maxPerPeer = options.maxPerPeer ?? DEFAULT_MAX_PER_PEER;
    if (!Number.isInteger(maxPerPeer) || maxPerPeer < 1) {
      throw new RangeError(`maxPerPeer must be a positive integer, got ${maxPerPeer}`);
    }
    this.compactBytes = options.compactBytes ?? DEFAULT_COMPACT_BYTES;
    this.idleCompactMs = options.idleCompactMs ?? DEFAULT_IDLE_COMPACT_MS;
    this.logger = options.logger ?? silentLogger;
    this.state = new QueueState(maxPerPeer, this.logger);
    this.journals = new JournalFiles(filePath);
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
    return this.state.size;
  }

  /** Nothing to acquire: open() loads the files; the idle timer is armed by writes. */
  start(): void {}

  /** Startable: the same as close(). */
  stop(): Promise<void> {
    return this.close();
  }

  pushWebhook(node: NodeKey, event: Event): Promise<void> {
    return this.push('webhook', String(node), event);
  }

  pushPoll(node: NodeKey, event: Event): Promise<void> {
    return this.push('poll', String(node), event);
  }

  /**
   * One event to many queues: memory changes now, one journal record (the one a run of single
   * pushes of this event would share) and one promise, where a push per queue cost a promise and a
   * key conversion each (a coordinator's fan-out is an event times every subscriber).
   */
  pushMany(event: Event, webhook: readonly NodeKey[], poll: readonly NodeKey[]): Promise<void> {
    if (webhook.length === 0 && poll.length === 0) return this.flushed();
    const entry = this.state.intern(event);
    this.defineEntry(entry);
    const last = this.ops[this.ops.length - 1];
    // As in push(): only the very last record may absorb these pushes.
    let group: PushGroup;
    if (typeof last === 'object' && last.id === entry.id) group = last;
    else this.ops.push((group = { id: entry.id, w: [], q: [] }));
    const cap = this.state.maxPerPeer;
    for (const node of webhook) {
      const key = typeof node === 'string' ? node : node.toString();
      this.state.pushBack('webhook', key, entry, cap, true);
      group.w.push(this.peerNumber(key));
    }
    for (const node of poll) {
      const key = typeof node === 'string' ? node : node.toString();
      this.state.pushBack('poll', key, entry, cap, true);
      group.q.push(this.peerNumber(key));
    }
    return this.schedule();
  }

  /**
   * Removes and returns up to `limit` oldest poll events of `node` (0 = all). Resolves once the
   * removal is on disk, so a poller is never answered with events a restart would resend.
   */
  async drainPoll(node: NodeKey, limit = 0): Promise<Event[]> {
    const key = String(node);
    const queue = this.state.queues.poll.get(key);
    if (!queue || queue.length === 0) return [];
    const taken = this.state.shiftFront('poll', key, limit > 0 ? limit : queue.length);
    for (const entry of taken) this.state.unref(entry);
    return this.removed('poll', key, drainRecord(this.peerNumber(key), taken.length), taken);
  }

  /**
   * Takes the webhook queue of `node` (at most `limit` oldest events; 0 = all) for a flush. The batch stays on disk as in flight
   * until `ackWebhook`, `requeueWebhookFront`, or the next `takeWebhook` of this node (flushes of
   * one node are expected to run one at a time, so the next take means the last one finished).
   */
  async takeWebhook(node: NodeKey, limit = 0): Promise<Event[]> {
    const key = String(node);
    const available = this.state.queues.webhook.get(key)?.length ?? 0;
    if (available === 0) {
      if (this.state.inflight.has(key)) {
        this.clearInflightLive(key);
        await this.schedule();
      }
      return [];
    }
    // A bounded batch keeps one request small enough to finish within a request timeout even
    // after a long outage; the caller loops for the rest.
    const batch = this.state.shiftFront('webhook', key, limit > 0 ? limit : available);
    this.state.setInflight(key, batch);
    return this.removed('webhook', key, takeRecord(this.peerNumber(key), batch.length), batch, () => {
      if (this.state.inflight.get(key) === batch) this.clearInflightLive(key);
    });
  }

  /** The last taken batch of `node` was delivered. */
  ackWebhook(node: NodeKey): Promise<void> {
    const key = String(node);
    if (!this.state.inflight.has(key)) return this.flushed();
    this.clearInflightLive(key);
    return this.schedule();
  }

  /** A delivery failed: `events` go back to the FRONT of the queue, in their original order. */
  requeueWebhookFront(node: NodeKey, events: readonly Event[]): Promise<void> {
    const key = String(node);
    // Pushed before the in-flight batch is released, so its entries are never freed in between.
    if (events.length > 0) this.pushFrontLive('webhook', key, events);
    if (this.state.inflight.has(key)) this.clearInflightLive(key);
    return this.schedule();
  }

  /** Nodes with queued webhook events. */
  webhookNodes(): string[] {
    return [...this.state.queues.webhook.keys()];
  }

  /** Nodes with queued poll events. */
  pollNodes(): string[] {
    return [...this.state.queues.poll.keys()];
  }

  /** A copy of the webhook queue of `node`, without removing anything. */
  peekWebhook(node: NodeKey): Event[] {
    return (this.state.queues.webhook.get(String(node))?.toArray() ?? []).map((e) => e.event);
  }

  /** How many events wait in the webhook queue of `node` (without copying them). */
  peekWebhookLength(node: NodeKey): number {
    return this.state.queues.webhook.get(String(node))?.length ?? 0;
  }

  /** A copy of the poll queue of `node`, without removing anything. */
  peekPoll(node: NodeKey): Event[] {
    return (this.state.queues.poll.get(String(node))?.toArray() ?? []).map((e) => e.event);
  }

  depths(): QueueDepths {
    return this.state.depths();
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
    await this.journals.close();
  }

  // --- journal records -------------------------------------------------------------------------

  /**
   * Records the removal of `entries` from the front of a queue and resolves with their events once
   * that is on disk. If it cannot be, the caller gets nothing, so the events must not vanish: they
   * go back to the front (and `undo` reverts the rest).
   */
  private async removed(kind: QueueKind, key: string, record: string, entries: readonly Entry[], undo?: () => void): Promise<Event[]> {
    this.ops.push(record);
    this.state.endBurstIfBelowCap(kind, key);
    const events = entries.map((e) => e.event);
    try {
      await this.schedule();
    } catch (err) {
      this.pushFrontLive(kind, key, events);
      undo?.();
      throw err;
    }
    return events;
  }

  private push(kind: QueueKind, key: string, event: Event): Promise<void> {
    const entry = this.state.intern(event);
    this.state.pushBack(kind, key, entry, this.state.maxPerPeer, true);
    this.defineEntry(entry);
    const peer = this.peerNumber(key);
    const last = this.ops[this.ops.length - 1];
    // Only the very last record may absorb the push: a later record on this queue would otherwise be replayed before it.
    if (typeof last === 'object' && last.id === entry.id) {
      (kind === 'webhook' ? last.w : last.q).push(peer);
    } else {
      this.ops.push({ id: entry.id, w: kind === 'webhook' ? [peer] : [], q: kind === 'poll' ? [peer] : [] });
    }
    return this.schedule();
  }

  private pushFrontLive(kind: QueueKind, key: string, events: readonly Event[]): void {
    const entries = events.map((e) => this.state.intern(e));
    this.state.pushFront(kind, key, entries, this.state.maxPerPeer, true);
    for (const entry of entries) this.defineEntry(entry);
    this.ops.push(frontRecord(kind, this.peerNumber(key), entries));
  }

  private clearInflightLive(key: string): void {
    this.state.clearInflight(key);
    this.ops.push(clearInflightRecord(this.peerNumber(key)));
  }

  private defineEntry(entry: Entry): void {
    if (entry.gen === this.gen) return;
    entry.gen = this.gen;
    this.defs.push(eventRecord(entry));
  }

  private peerNumber(key: string): number {
    let n = this.peerNumbers.get(key);
    if (n === undefined) {
      n = this.peerNumbers.size;
      this.peerNumbers.set(key, n);
      this.defs.push(peerRecord(n, key));
    }
    return n;
  }

  private startGeneration(gen: number): void {
    this.gen = gen;
    this.peerNumbers = new Map();
    this.defs = [headerRecord(gen, this.state.maxPerPeer)];
    this.ops = [];
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
    const unfolded = this.journals.unfoldedBytes() + text.length;
    const background =
      !inline &&
      this.compacting === null &&
      (this.wantBackgroundCompact || (unfolded >= Math.max(this.compactBytes, this.state.stateBytes) && unfolded >= this.retryCompactionAt));

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

    const capture = this.state.capture();
    const oldGen = this.gen;
    const newGen = this.journals.highestGen(oldGen) + 1;
    this.startGeneration(newGen);
    this.forceCompact = false;
    this.wantBackgroundCompact = false;

    if (inline) {
      // The records of this cut are covered by the snapshot; they are not appended anywhere.
      this.writes += 1;
      try {
        await writeQueueSnapshot(this.filePath, capture, newGen);
      } catch (err) {
        // Memory holds changes no file has: only a full snapshot can catch up now.
        this.broken = true;
        this.logger.error({ filePath: this.filePath, err: errorText(err) }, 'cannot write the event queue snapshot');
        throw err;
      }
      this.broken = false;
      this.retryCompactionAt = 0;
      await this.journals.dropBefore(newGen);
      return;
    }

    if (hasOps) await this.append(oldGen, text);
    this.writes += 1;
    const started = writeQueueSnapshot(this.filePath, capture, newGen).then(
      async () => {
        this.retryCompactionAt = 0;
        await this.journals.dropBefore(newGen);
        // Changes appended while the snapshot was written still deserve a current file once quiet.
        if (this.journals.unfoldedBytes() > 0) this.armIdleTimer();
      },
      (err: unknown) => {
        // Both journals stay and are replayed in order; try again after another threshold's worth.
        this.retryCompactionAt = this.journals.unfoldedBytes() + this.compactBytes;
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
      await this.journals.append(gen, text);
    } catch (err) {
      this.broken = true;
      this.logger.error({ filePath: this.journals.path(gen), err: errorText(err) }, 'cannot append to the event queue journal');
      throw err;
    }
  }

  private armIdleTimer(): void {
    if (this.idleCompactMs <= 0 || this.closed) return;
    if (this.idleTimer) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      const unfolded = this.journals.unfoldedBytes();
      if (this.closed || unfolded === 0 || this.compacting) return;
      // A snapshot of a deep queue costs its whole size: only worth it once the journal is a good part of that.
      if (this.state.stateBytes > IDLE_COMPACT_CHEAP_BYTES && unfolded * 4 < this.state.stateBytes) return;
      this.wantBackgroundCompact = true;
      this.schedule().catch(() => undefined);
    }, this.idleCompactMs);
    this.idleTimer.unref();
  }

  // --- loading ---------------------------------------------------------------------------------

  private async load(): Promise<void> {
    const found = await recoverQueueFiles(this.filePath, this.state, this.logger);
    this.journals.setFound(found.journalBytes);
    this.gen = found.gen;
    let dirty = found.dirty;
    if (this.state.restoreInflight()) dirty = true;
    if (this.state.enforceAllCaps()) dirty = true;
    this.startGeneration(this.gen);
    // Fold everything into a fresh snapshot: replay happens once, and the next journal starts clean
    // (after a torn line, appending would glue new records onto the fragment).
    if (dirty) await this.persist();
  }
}
