import type { KnowledgeObject } from '../knowledge/index.ts';
import type { Logger } from '../logger.ts';
import { Deque } from '../util/deque.ts';
import { Yielder } from '../util/slices.ts';
import { Serial } from '../util/serial.ts';
import { errorText } from '../util/error-text.ts';
import type { BackgroundWork } from './background.ts';

/** One piece of knowledge waiting for the pipeline, with the peer it came from. */
export interface QueueItem {
  kobj: KnowledgeObject;
  sourceNode: string | undefined;
}

/** Not knowledge: a callback that runs when the drain reaches it (see ProcessorInterface.afterHandled). */
interface QueueBarrier {
  kobj?: undefined;
  reached: () => void;
}

export interface KobjQueueOptions {
  /** Runs one kobj through the pipeline; never throws (failures are the caller's to log and count). */
  run: (item: QueueItem) => Promise<unknown>;
  /** Work the kobjs started and did not wait for; a drain ends only once it has ended. */
  background: BackgroundWork;
  logger: Logger;
}

/**
 * The kobj queue and its one worker: items are taken in FIFO order and each runs under a
 * promise-chain mutex, so no two kobjs are ever in flight at once, whether the worker or
 * processKobj runs them.
 */
export class KobjQueue {
  private readonly items = new Deque<QueueItem | QueueBarrier>();
  /** Slices the drain so a huge backlog never holds the event loop (other requests keep being served). */
  private readonly yielder = new Yielder();
  private readonly run: (item: QueueItem) => Promise<unknown>;
  private readonly background: BackgroundWork;
  private readonly logger: Logger;
  /** The mutex: one kobj at a time, whether the worker or processKobj runs it. */
  private readonly mutex = new Serial();
  /** The running drain loop, if any; resolves when the queue is empty. */
  private draining: Promise<void> | undefined;
  /** Resolves the drain's wait for background work when a kobj is queued (see drain). */
  private wakeDrain: (() => void) | undefined;
  /** whenBelow() callers, released by the drain as the queue shrinks. */
  private belowWaiters: { limit: number; resolve: () => void }[] = [];

  constructor(options: KobjQueueOptions) {
    this.run = options.run;
    this.background = options.background;
    this.logger = options.logger;
  }

  /** Items waiting (not counting the kobj in flight). */
  get length(): number {
    return this.items.length;
  }

  push(item: QueueItem): void {
    this.items.push(item);
    this.wakeDrain?.();
  }

  /** Queues `reached`, called when the drain gets to it, after every item queued before it. */
  pushBarrier(reached: () => void): void {
    this.items.push({ reached });
    this.wakeDrain?.();
  }

  /** Resolves once fewer than `limit` items are queued (at once if that is already so). */
  whenBelow(limit: number): Promise<void> {
    if (this.items.length < limit) return Promise.resolve();
    return new Promise((resolve) => this.belowWaiters.push({ limit, resolve }));
  }

  /** Starts the worker unless it runs; resolves when the queue is empty, items queued meanwhile included. */
  drain(): Promise<void> {
    this.draining ??= this.work();
    return this.draining;
  }

  /** Runs `fn` once the kobj in flight (if any) is done, and holds every other kobj until it is. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(fn);
  }

  private releaseBelowWaiters(): void {
    const depth = this.items.length;
    if (!this.belowWaiters.some((w) => depth < w.limit)) return;
    const still: { limit: number; resolve: () => void }[] = [];
    for (const w of this.belowWaiters) {
      if (depth < w.limit) w.resolve();
      else still.push(w);
    }
    this.belowWaiters = still;
  }

  /** Resolves when the next item is queued. */
  private nextQueued(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wakeDrain = () => {
        this.wakeDrain = undefined;
        resolve();
      };
    });
  }

  private async work(): Promise<void> {
    // Yield first so `draining` is assigned before the loop can find the queue empty and clear it.
    await Promise.resolve();
    this.yielder.reset();
    for (;;) {
      const item = this.items.shift();
      if (this.belowWaiters.length > 0) this.releaseBelowWaiters();
      if (item === undefined) {
        // A drain ends only once the webhook deliveries and cache files its kobjs started have
        // ended, as when each kobj awaited its own; kobjs queued meanwhile are picked up by the loop.
        if (this.background.busy) {
          // A new kobj ends the wait: a hung peer's delivery must not hold up processing (and so
          // every other peer's fan-out) until its request times out.
          await Promise.race([this.background.settled(), this.nextQueued()]);
          continue;
        }
        // Cleared in the same tick as the emptiness check, so a later handle() starts a new drain.
        this.draining = undefined;
        return;
      }
      if (item.kobj === undefined) {
        try {
          item.reached();
        } catch (err) {
          this.logger.error({ err: errorText(err) }, 'an afterHandled callback threw');
        }
        continue;
      }
      await this.exclusive(() => this.run(item));
      // Kobjs whose awaits only settle microtasks would otherwise run back to back for as long as
      // the queue lasts (seconds for a 100,000-event broadcast) without letting a request in.
      const pause = this.yielder.maybeYield();
      if (pause) await pause;
    }
  }
}
