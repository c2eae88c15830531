import { AsyncLocalStorage } from 'node:async_hooks';
import type { RID } from '../rid/index.ts';
import { KnowledgeObject, KnowledgeSource, type Event } from '../knowledge/index.ts';
import { KoiNetError } from '../errors.ts';
import { debugEnabled, silentLogger, type Logger } from '../logger.ts';
import type { ProcessorComponents } from './components.ts';
import { BackgroundWork } from './background.ts';
import { KobjContext } from './context.ts';
import { KobjQueue, type QueueItem } from './kobj-queue.ts';
import { kobjFields } from './log-fields.ts';
import { Pipeline, type Announcement, type ProcessResult } from './pipeline.ts';
import { HandlerFailure, HandlerRegistry } from './registry.ts';
import {
  createHandler,
  type HandleInput,
  type HandlerContext,
  type HandlerFunction,
  type HandlerOptions,
  type HandlerType,
  type KnowledgeHandler,
  type KnowledgeProcessor,
} from './handler.ts';

export interface ProcessorOptions {
  /** Registered first, in order. Default: none (the node passes the four built-in ones). */
  defaultHandlers?: readonly KnowledgeHandler[];
  logger?: Logger;
  /**
   * Start processing as soon as something is queued (default true). With false, knowledge waits
   * for `flushKobjQueue()` or `handle({ flush: true })`, as in the seed.
   */
  autoProcess?: boolean;
  /**
   * Most cache writes a write-behind store may hold unwritten before the worker waits for the disk
   * (default 32,768, ~50 MB of pending 1 KB bundles). Bounds the memory of a backlog when events
   * arrive faster than files are made; large enough that a burst of 20,000 events is visible at
   * the processor's pace while the files follow at the disk's, even when the disk makes only
   * ~5,000 files/s (16,384 held such a burst to the disk's pace on this machine's slow minutes).
   */
  maxPendingWrites?: number;
}

export const DEFAULT_MAX_PENDING_WRITES = 32_768;

export interface ProcessorCounters {
  /** Went through every step. */
  processed: number;
  /** Ended early at a stop point (STOP_CHAIN, nothing to fetch, no normalized event type). */
  stopped: number;
  /** Ended by an exception (logged). */
  failed: number;
}

/**
 * The node's knowledge pipeline (PROTOCOL.md section 4). Knowledge is queued by `handle()` and
 * processed by one worker in FIFO order; each kobj runs under a promise-chain mutex, so no two kobjs
 * are ever in flight at once, whoever calls `handle()`, `flushKobjQueue()` or `processKobj()`.
 *
 * The parts: the kobj queue and its worker (kobj-queue.ts), the handler chains (registry.ts), the
 * steps (pipeline.ts) and the work kobjs leave running behind them (background.ts).
 */
export class ProcessorInterface implements KnowledgeProcessor {
  readonly logger: Logger;
  private readonly components: ProcessorComponents;
  private readonly registry: HandlerRegistry;
  private readonly queue: KobjQueue;
  private readonly background: BackgroundWork;
  private readonly steps: Pipeline;
  private readonly autoProcess: boolean;
  private readonly counts: ProcessorCounters = { processed: 0, stopped: 0, failed: 0 };
  /**
   * Marks code running inside a handler. There, waiting for the queue would wait for the very
   * kobj that is waiting, so flushes return at once and processKobj runs nested. Entered only
   * while the registry holds a handler that may wait for the queue: an AsyncLocalStorage, once
   * entered, makes Node track every promise of the process (async hooks), ~10% of the CPU of
   * ingest, for the library's own handlers, which never wait for the queue (see markQueueSafe).
   */
  private readonly insideKobj = new AsyncLocalStorage<{ active: boolean }>();

  constructor(components: ProcessorComponents, options: ProcessorOptions = {}) {
    this.components = components;
    this.logger = options.logger ?? silentLogger;
    this.autoProcess = options.autoProcess ?? true;
    this.registry = new HandlerRegistry(this.logger);
    this.background = new BackgroundWork(this.logger, Math.max(1, options.maxPendingWrites ?? DEFAULT_MAX_PENDING_WRITES));
    this.queue = new KobjQueue({ run: (item) => this.run(item), background: this.background, logger: this.logger });
    this.steps = new Pipeline(components, this.registry, this.background, this.logger);
    for (const handler of options.defaultHandlers ?? []) this.addHandler(handler);
  }

  /** Kobjs waiting (not counting the one in flight). */
  get queueDepth(): number {
    return this.queue.length;
  }

  /**
   * Resolves once fewer than `limit` kobjs are queued (at once if that is already so). For
   * producers that must not let the queue grow without bound (the inbox's acceptance).
   */
  whenQueueBelow(limit: number): Promise<void> {
    return this.queue.whenBelow(limit);
  }

  get counters(): Readonly<ProcessorCounters> {
    return { ...this.counts };
  }

  /** Registered handlers, in call order. */
  get registeredHandlers(): readonly KnowledgeHandler[] {
    return [...this.registry.list];
  }

  addHandler(handler: KnowledgeHandler): KnowledgeHandler {
    return this.registry.add(handler);
  }

  /** The TypeScript form of the reference's `@processor.register_handler(...)` decorator. */
  registerHandler(handlerType: HandlerType, options: HandlerOptions, fn: HandlerFunction): KnowledgeHandler {
    return this.addHandler(createHandler(handlerType, options, fn));
  }

  /** Normalizes knowledge into a kobj and queues it; with `flush`, resolves once it is processed. */
  async handle(input: HandleInput): Promise<void> {
    const item = normalize(input);
    this.queue.push(item);
    if (debugEnabled(this.logger)) this.logger.debug(kobjFields(item.kobj, item.sourceNode), 'queued knowledge object');
    if (input.flush) {
      await this.flushKobjQueue();
    } else if (this.autoProcess) {
      void this.queue.drain();
    }
  }

  /**
   * Queues an event as `handle({ event, source })` does, without a promise per event (the
   * inbox queues every event of a batch this way, then waits on `afterHandled`). Processing starts
   * as with handle(); failures are logged and counted by the worker, as for every kobj.
   */
  queueEvent(event: Event, source: KnowledgeSource): void {
    const item: QueueItem = { kobj: KnowledgeObject.fromEvent(event, undefined, source), sourceNode: undefined };
    this.queue.push(item);
    if (debugEnabled(this.logger)) this.logger.debug(kobjFields(item.kobj, undefined), 'queued knowledge object');
    if (this.autoProcess) void this.queue.drain();
  }

  /**
   * Calls `reached` once every kobj queued before this call has gone through the pipeline (the
   * queue is FIFO), even under a load that never lets the queue empty. The inbox acknowledges its
   * batches with it; no knowledge object goes through the handlers for that.
   */
  afterHandled(reached: () => void): void {
    this.queue.pushBarrier(reached);
    if (this.autoProcess) void this.queue.drain();
  }

  /**
   * Resolves when the queue is empty, including kobjs queued while it was being processed. Inside
   * a handler it returns at once (the running worker will reach the new kobjs after this one).
   */
  flushKobjQueue(): Promise<void> {
    if (this.insideKobj.getStore()?.active) return Promise.resolve();
    return this.queue.drain();
  }

  /**
   * Runs one kobj through the pipeline now, bypassing the queue but not the mutex (from a handler
   * it runs nested, since the mutex is held by the caller's own kobj).
   */
  processKobj(kobj: KnowledgeObject, sourceNode?: RID | string): Promise<ProcessResult> {
    const item: QueueItem = { kobj, sourceNode: sourceNode === undefined ? undefined : String(sourceNode) };
    if (this.insideKobj.getStore()?.active) return this.run(item);
    return this.queue.exclusive(() => this.run(item)).then(async (result) => {
      await this.background.settled();
      return result;
    });
  }

  /**
   * Pipeline step 5 alone (Network chain, then queue to the targets it picks) for an event whose
   * earlier steps already ran: the inbox's replay re-announces a cached event whose fan-out a crash
   * may have cut off. Deliveries are not woken (the next flush sends them). `queued` resolves once
   * the pushes did (it never rejects: a failed push is logged, as in the pipeline).
   */
  announce(event: Event): Promise<Announcement> {
    return this.steps.announce(event, this.context(undefined));
  }

  /** One kobj, never throwing: failures are logged and counted, and the worker moves on. */
  private async run(item: QueueItem): Promise<ProcessResult> {
    const marker = { active: true };
    const ctx = this.context(item.sourceNode);
    let result: ProcessResult;
    try {
      result = this.registry.hasQueueUnsafeHandler
        ? await this.insideKobj.run(marker, () => this.steps.process(item, ctx))
        : await this.steps.process(item, ctx);
    } catch (err) {
      result = { status: 'failed', kobj: item.kobj, error: err instanceof HandlerFailure ? err.cause : err };
      this.logFailure(item, err);
    } finally {
      marker.active = false;
    }
    if (result.status === 'completed') this.counts.processed++;
    else if (result.status === 'stopped') this.counts.stopped++;
    else this.counts.failed++;
    return result;
  }

  private logFailure(item: QueueItem, err: unknown): void {
    // Identify the kobj by RID, source and event types only: contents may be private.
    const fields: Record<string, unknown> = kobjFields(item.kobj, item.sourceNode);
    let cause = err;
    if (err instanceof HandlerFailure) {
      fields.handler = err.handler;
      fields.handlerType = err.handlerType;
      cause = err.cause;
    }
    fields.err = cause instanceof Error ? { name: cause.name, message: cause.message, stack: cause.stack } : String(cause);
    this.logger.error(fields, 'processing knowledge object failed; dropped it and moved on');
  }

  private context(sourceNode: string | undefined): HandlerContext {
    return new KobjContext(this.components, this, this.logger, sourceNode);
  }
}

function normalize(input: HandleInput): QueueItem {
  const sourceNode = input.sourceNode === undefined ? undefined : String(input.sourceNode);
  // Knowledge that names the peer it came from is external unless the caller says otherwise.
  const source = input.source ?? (sourceNode !== undefined ? KnowledgeSource.EXTERNAL : KnowledgeSource.INTERNAL);
  let kobj: KnowledgeObject;
  // Precedence as in the reference: the first of rid, manifest, bundle, event, kobj that is given.
  if (input.rid !== undefined) kobj = KnowledgeObject.fromRid(input.rid, input.eventType, source);
  else if (input.manifest !== undefined) kobj = KnowledgeObject.fromManifest(input.manifest, input.eventType, source);
  else if (input.bundle !== undefined) kobj = KnowledgeObject.fromBundle(input.bundle, input.eventType, source);
  else if (input.event !== undefined) kobj = KnowledgeObject.fromEvent(input.event, input.eventType, source);
  else if (input.kobj !== undefined) kobj = input.kobj;
  else {
    throw new KoiNetError('invalid_handle_input', "handle() needs one of 'rid', 'manifest', 'bundle', 'event' or 'kobj'");
  }
  return { kobj, sourceNode };
}
