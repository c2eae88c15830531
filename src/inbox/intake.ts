import { Event, KnowledgeSource } from '../knowledge/index.ts';
import type { ProcessorInterface } from '../processor/interface.ts';
import type { ProcessorComponents } from '../processor/components.ts';
import type { KnowledgeStore } from '../cache/index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { InboxLog } from './inbox.ts';
import { Yielder } from '../util/slices.ts';

/** The processor's components; the cache must also answer manifests from memory. */
export type IntakeComponents = ProcessorComponents & { readonly cache: Pick<KnowledgeStore, 'readManifest'> };

export interface InboxIntakeOptions {
  inbox: InboxLog;
  processor: ProcessorInterface;
  /** What recovery needs: the cache, to tell replayed events it already holds (they are re-announced). */
  components: IntakeComponents;
  /**
   * accept() waits, before logging a batch, while the processor holds this many queued kobjs or
   * more (default 5,000, ~30 MB: a queued 1 KB event holds ~6 KB). See {@link InboxIntake.accept}.
   */
  maxQueued?: number;
  logger?: Logger;
}

export const DEFAULT_MAX_QUEUED = 5_000;

export interface RecoveryReport {
  /** Log entries replayed (accepted broadcasts not known processed at the crash). */
  entries: number;
  /** Events re-queued for processing. */
  requeued: number;
  /** Events already cached with the same hash, whose fan-out was redone (see index.ts). */
  reannounced: number;
  /** Wire events that no longer parse (skipped). */
  invalid: number;
}

/**
 * Couples the inbox to the processor: accept() makes a broadcast durable and queues it, settle()
 * moves the checkpoint once the processor has finished what was queued, recover() replays.
 */
export class InboxIntake {
  readonly inbox: InboxLog;
  private readonly processor: ProcessorInterface;
  private readonly components: IntakeComponents;
  private readonly logger: Logger;
  /** Every seq <= this has all its events in the processor queue (or had nothing to queue). */
  private enqueuedUpTo: number;
  /** Seqs above `enqueuedUpTo` already queued: concurrent requests may finish out of order. */
  private readonly enqueuedAhead = new Set<number>();
  /** Every seq <= this is processed (the processor reached its afterHandled, or a flush covered it). */
  private doneUpTo: number;
  private readonly doneAhead = new Set<number>();
  private readonly maxQueued: number;

  constructor(options: InboxIntakeOptions) {
    this.inbox = options.inbox;
    this.processor = options.processor;
    this.components = options.components;
    this.logger = options.logger ?? silentLogger;
    this.maxQueued = Math.max(1, options.maxQueued ?? DEFAULT_MAX_QUEUED);
    this.enqueuedUpTo = this.inbox.processedSeq;
    this.doneUpTo = this.inbox.processedSeq;
  }

  /**
   * Appends the batch to the log and, once it is there, queues its events for processing. The
   * caller answers 200 only after this resolves; if it rejects, nothing was acknowledged.
   * `events[i]` must be the parsed form of `wires[i]`; `rawBody`, when given, the request body
   * `wires` is the `events` field of (the log then keeps it as it came, see Inbox.append).
   *
   * Backlog rule: acknowledgement waits for the log write only, never for processing or cache
   * files, except when the processor's queue is really full (`maxQueued` kobjs): then the batch
   * waits, before it is logged, until the queue is below that again. The processor itself waits
   * only while the cache holds `maxPendingWrites` unwritten files. So a slow disk first fills the
   * cache's write backlog, then the processor queue, and only then slows the senders; memory
   * stays bounded by the two limits.
   */
  async accept(events: readonly Event[], wires: readonly unknown[], rawBody?: Buffer): Promise<void> {
    if (events.length === 0) return;
    await this.processor.whenQueueBelow(this.maxQueued);
    const { seq, done } = this.inbox.append(wires, rawBody);
    try {
      await done;
    } catch (err) {
      // Nothing of it will be processed or replayed: as far as progress goes, it is done.
      this.noteEnqueued(seq);
      this.markDone(seq);
      throw err;
    }
    await this.enqueueBatch(seq, events);
  }

  /** Every event of batch `seq` went through the pipeline (the processor's afterHandled callback). */
  markDone(seq: number): void {
    if (seq <= this.doneUpTo) return;
    this.doneAhead.add(seq);
    let advanced = false;
    while (this.doneAhead.delete(this.doneUpTo + 1)) {
      this.doneUpTo++;
      advanced = true;
    }
    if (advanced) this.inbox.markProcessed(this.doneUpTo);
  }

  /**
   * Waits until the processor has drained everything queued so far, then checkpoints. The mark is
   * taken before waiting: the processor is FIFO and a flush ends only on an empty queue, so what
   * was queued before the flush started is processed when it resolves.
   */
  async settle(): Promise<void> {
    const mark = this.enqueuedUpTo;
    await this.processor.flushKobjQueue();
    // The callbacks of these batches have run by now; this also covers a processor whose queue
    // was emptied some other way.
    for (let seq = this.doneUpTo + 1; seq <= mark; seq++) this.markDone(seq);
  }

  /**
   * Replays the entries after the checkpoint, in order. An event whose exact state is already
   * cached was processed before the crash, but its fan-out to subscribers may not have been
   * queued yet (the crash may have hit between the cache write and the queue write), and the
   * pipeline would now stop it as a duplicate; so its event is pushed to the Network chain's
   * targets again. Subscribers may get it twice; that is the at-least-once price.
   */
  async recover(): Promise<RecoveryReport> {
    const report: RecoveryReport = { entries: 0, requeued: 0, reannounced: 0, invalid: 0 };
    const pushes: Promise<unknown>[] = [];
    for (const entry of this.inbox.recovered) {
      report.entries++;
      const events: Event[] = [];
      for (const wire of entry.events) {
        try {
          events.push(Event.fromJSON(wire));
        } catch {
          report.invalid++;
        }
      }
      for (const event of events) {
        const cached = this.components.cache.readManifest(event.rid);
        if (cached !== undefined && event.manifest !== undefined && event.manifest.sha256Hash === cached.sha256Hash) {
          const announced = await this.processor.announce(event);
          if (announced.targets > 0) report.reannounced++;
          // Not awaited one by one: the queues take the event synchronously, the file write is shared.
          pushes.push(announced.queued);
        }
      }
      await this.enqueueBatch(entry.seq, events);
      report.requeued += events.length;
    }
    // Queue pushes change memory at once and share file writes; wait for them all together.
    await Promise.all(pushes);
    if (report.entries > 0) this.logger.info({ ...report }, 'inbox replayed after an unclean stop');
    return report;
  }

  // --- internals -------------------------------------------------------------------------------

  /**
   * Queues the events in order and then asks the processor to report back once it has handled
   * them (afterHandled: the queue is FIFO, so that is after every event of the batch). A big batch is queued in slices that yield to the event loop (100,000
   * handle() calls in one go held it for ~200 ms); another request's batch may then be queued in
   * between, which the contiguous progress marks (noteEnqueued, markDone) allow for.
   */
  private async enqueueBatch(seq: number, events: readonly Event[]): Promise<void> {
    const yielder = new Yielder();
    for (const event of events) {
      this.processor.queueEvent(event, KnowledgeSource.EXTERNAL);
      const pause = yielder.maybeYield();
      if (pause) await pause;
    }
    this.processor.afterHandled(() => this.markDone(seq));
    this.noteEnqueued(seq);
  }

  private noteEnqueued(seq: number): void {
    this.enqueuedAhead.add(seq);
    while (this.enqueuedAhead.delete(this.enqueuedUpTo + 1)) this.enqueuedUpTo++;
  }
}
