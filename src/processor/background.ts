import type { KnowledgeObject } from '../knowledge/index.ts';
import type { Logger } from '../logger.ts';
import type { MaybePromise, ProcessorNetwork } from './components.ts';
import { kobjFields } from './log-fields.ts';

/**
 * What processed kobjs started and did not wait for: webhook delivery attempts, queue-file pushes
 * and write-behind cache files. The next kobj goes on at once; a drain and processKobj end only
 * once this work has, as when each kobj awaited its own.
 */
export class BackgroundWork {
  /** Webhook delivery attempts asked for by processed kobjs and not ended yet (see requestWebhookFlush). */
  private readonly webhookFlushes = new Set<Promise<void>>();
  private lastWebhookFlush: unknown;
  /** Queue pushes whose file write has not ended yet. */
  private readonly pushes = new Set<Promise<void>>();
  /**
   * Write-behind cache mutations not yet on disk (see persist), by number in start order: a Set
   * iterates in insertion order, so its first is the oldest. Numbers, not promises: tracking each
   * write's promise cost two more promises per cached event.
   */
  private readonly writes = new Set<number>();
  private writeCount = 0;
  /** settled() callers waiting for every write numbered up to `upTo` to end. */
  private writeWaiters: { upTo: number; resolve: () => void; promise: Promise<void> }[] = [];
  /** writeBacklog() callers, released once the backlog is below the bound. */
  private backlogWaiters: (() => void)[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly maxPendingWrites: number,
  ) {}

  get busy(): boolean {
    return this.webhookFlushes.size > 0 || this.pushes.size > 0 || this.writes.size > 0;
  }

  /** Resolves once everything started so far has ended (none of it rejects: failures are logged). */
  settled(): Promise<unknown> {
    return Promise.all([...this.webhookFlushes, ...this.pushes, this.writesSettled()]);
  }

  private writesSettled(): Promise<void> | undefined {
    if (this.writes.size === 0) return undefined;
    const upTo = this.writeCount;
    // A drain asks each time the queue runs dry: with no write started since, the same wait serves.
    const last = this.writeWaiters[this.writeWaiters.length - 1];
    if (last !== undefined && last.upTo === upTo) return last.promise;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.writeWaiters.push({ upTo, resolve, promise });
    return promise;
  }

  /** A fan-out's queue pushes; they resolve once the queue file holds them. */
  trackPush(pushed: Promise<void>): void {
    this.pushes.add(pushed);
    void pushed.then(() => this.pushes.delete(pushed));
  }

  /**
   * Wakes the webhook deliveries beside the pipeline instead of inside it: awaiting deliveries per
   * kobj made fan-out to 50 webhook peers run at ~3 kobjs/s. Every fan-out wakes them at once (the
   * network runs one delivery loop per peer, so a hung peer never holds back the wake of a live
   * one); drains and processKobj still wait for the attempts their kobjs asked for.
   */
  requestWebhookFlush(network: ProcessorNetwork, kobj: KnowledgeObject, sourceNode: string | undefined): void {
    let raw: unknown;
    try {
      raw = network.flushAllWebhookQueues();
    } catch (err) {
      raw = Promise.reject(err);
    }
    // A burst of fan-outs gets the same pending attempts back: tracked once, not once per kobj.
    if (raw !== undefined && raw === this.lastWebhookFlush) return;
    this.lastWebhookFlush = raw;
    const tracked = Promise.resolve(raw).then(
      () => undefined,
      (err: unknown) => {
        // The events stay queued; the next flush retries them.
        this.logger.warn({ ...kobjFields(kobj, sourceNode), err: String(err) }, 'webhook flush failed');
      },
    );
    this.webhookFlushes.add(tracked);
    void tracked.then(() => this.webhookFlushes.delete(tracked));
  }

  /**
   * A write-behind store shows the change at once and persists it on the thread pool, so the next
   * kobj need not wait for the file: that wait was over half of the per-event cost of ingest.
   * Durability is the callers' business through cache.sync() (the inbox syncs before it moves its
   * checkpoint, so an acknowledged event is never lost). The price: a failed file write is found
   * after this kobj went on (fan-out included); it is logged, and the store puts its index back.
   */
  persist(mutation: MaybePromise<unknown>, kobj: KnowledgeObject, sourceNode: string | undefined): void {
    const n = ++this.writeCount;
    this.writes.add(n);
    Promise.resolve(mutation).then(
      () => this.writeEnded(n),
      (err: unknown) => {
        this.logger.error({ ...kobjFields(kobj, sourceNode), err: String(err) }, 'cache write failed after the knowledge object was processed');
        this.writeEnded(n);
      },
    );
  }

  /**
   * Backpressure: while the disk is far behind (`maxPendingWrites` writes out), a promise that
   * resolves once it is less so; undefined otherwise, so the common case costs no await. The
   * worker (and so every queue behind it) waits on it.
   */
  writeBacklog(): Promise<void> | undefined {
    if (this.writes.size < this.maxPendingWrites) return undefined;
    return new Promise((resolve) => this.backlogWaiters.push(resolve));
  }

  private writeEnded(n: number): void {
    this.writes.delete(n);
    if (this.backlogWaiters.length > 0 && this.writes.size < this.maxPendingWrites) {
      const waiters = this.backlogWaiters;
      this.backlogWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (this.writeWaiters.length === 0) return;
    let oldest = Infinity;
    for (const first of this.writes) {
      oldest = first;
      break;
    }
    // Waiters are in ascending `upTo` order (pushed as writes are numbered): release from the front.
    let released = 0;
    while (released < this.writeWaiters.length && this.writeWaiters[released]!.upTo < oldest) this.writeWaiters[released++]!.resolve();
    if (released > 0) this.writeWaiters = this.writeWaiters.slice(released);
  }
}
