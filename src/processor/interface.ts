import { AsyncLocalStorage } from 'node:async_hooks';
import { KOI_NET_EDGE_TYPE, KOI_NET_NODE_TYPE, type RID } from '../rid/index.ts';
import { EventType, KnowledgeObject, KnowledgeSource, type Bundle, type Event, type Manifest } from '../knowledge/index.ts';
import { KoiNetError } from '../errors.ts';
import { debugEnabled, silentLogger, type Logger } from '../logger.ts';
import { Deque } from '../util/deque.ts';
import { Yielder } from '../util/slices.ts';
import { errorText } from '../util/error-text.ts';
import type { MaybePromise, ProcessorComponents } from './components.ts';
import {
  HandlerType,
  STOP_CHAIN,
  createHandler,
  handlerName,
  isQueueSafe,
  type HandleInput,
  type HandlerContext,
  type HandlerFunction,
  type HandlerOptions,
  type KnowledgeHandler,
  type KnowledgeProcessor,
  type StopChain,
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
   * (default 4096). Bounds the memory of a backlog when events arrive faster than files are made.
   */
  maxPendingWrites?: number;
}

/** Where a kobj left the pipeline early. */
export type StopPoint =
  | HandlerType
  /** FORGET of an RID that is not cached. */
  | 'forget_not_cached'
  | 'no_manifest'
  | 'no_bundle'
  /** No handler set a normalized event type: nothing to write, delete or announce. */
  | 'no_normalized_event_type';

export type ProcessResult =
  | { status: 'completed'; kobj: KnowledgeObject }
  | { status: 'stopped'; kobj: KnowledgeObject; at: StopPoint }
  | { status: 'failed'; kobj: KnowledgeObject; error: unknown };

export interface ProcessorCounters {
  /** Went through every step. */
  processed: number;
  /** Ended early at a stop point (STOP_CHAIN, nothing to fetch, no normalized event type). */
  stopped: number;
  /** Ended by an exception (logged). */
  failed: number;
}

/** What announce() did: how many targets the Network chain picked, and when their pushes ended. */
export interface Announcement {
  targets: number;
  queued: Promise<void>;
}

interface QueueItem {
  kobj: KnowledgeObject;
  sourceNode: string | undefined;
}

/** Not knowledge: a callback that runs when the drain reaches it (see afterHandled). */
interface QueueBarrier {
  kobj?: undefined;
  reached: () => void;
}

/** Marks which handler threw, so the log line can name it. */
class HandlerFailure extends Error {
  constructor(
    readonly handler: string,
    readonly handlerType: HandlerType,
    override readonly cause: unknown,
  ) {
    super(`${handlerType} handler ${handler} threw: ${String(cause)}`);
  }
}

/**
 * The node's knowledge pipeline (PROTOCOL.md section 4). Knowledge is queued by `handle()` and
 * processed by one worker in FIFO order; each kobj runs under a promise-chain mutex, so no two kobjs
 * are ever in flight at once, whoever calls `handle()`, `flushKobjQueue()` or `processKobj()`.
 */
export class ProcessorInterface implements KnowledgeProcessor {
  readonly logger: Logger;
  private readonly components: ProcessorComponents;
  /** Replaced, never changed in place: a chain running while a handler registers another keeps its own list. */
  private handlers: readonly KnowledgeHandler[] = [];
  /** `handlers` by type, with their filters as sets: each chain checks only its own handlers. */
  private chains = new Map<HandlerType, readonly ChainEntry[]>();
  private readonly queue = new Deque<QueueItem | QueueBarrier>();
  /** Slices the drain so a huge backlog never holds the event loop (other requests keep being served). */
  private readonly yielder = new Yielder();
  private readonly autoProcess: boolean;
  private readonly counts: ProcessorCounters = { processed: 0, stopped: 0, failed: 0 };
  /** Tail of the mutex chain: resolves when the last scheduled kobj is done. */
  private lock: Promise<void> = Promise.resolve();
  /** The running drain loop, if any; resolves when the queue is empty. */
  private draining: Promise<void> | undefined;
  /**
   * Marks code running inside a handler. There, waiting for the queue would wait for the very
   * kobj that is waiting, so flushes return at once and processKobj runs nested.
   */
  private readonly insideKobj = new AsyncLocalStorage<{ active: boolean }>();
  /**
   * Whether a handler that may wait for the queue from inside a kobj is registered; only then do
   * kobjs run inside `insideKobj`. An AsyncLocalStorage, once entered, makes Node track every
   * promise of the process (async hooks): ~10% of the CPU of ingest, for the library's own
   * handlers, which never wait for the queue (see markQueueSafe).
   */
  private trackNesting = false;
  /** Webhook delivery attempts asked for by processed kobjs and not ended yet (see requestWebhookFlush). */
  private readonly webhookFlushes = new Set<Promise<void>>();
  /** Resolves the drain's wait for pending deliveries when a kobj is queued (see drain). */
  private wakeDrain: (() => void) | undefined;
  private lastWebhookFlush: unknown;
  /** Queue pushes whose file write has not ended yet. */
  private readonly pendingPushes = new Set<Promise<void>>();
  /** Write-behind cache mutations not yet on disk (see persistInBackground). */
  private readonly pendingWrites = new Set<Promise<void>>();
  private readonly maxPendingWrites: number;
  /** whenQueueBelow() callers, released by the drain as the queue shrinks. */
  private belowWaiters: { limit: number; resolve: () => void }[] = [];

  constructor(components: ProcessorComponents, options: ProcessorOptions = {}) {
    this.components = components;
    this.logger = options.logger ?? silentLogger;
    this.autoProcess = options.autoProcess ?? true;
    this.maxPendingWrites = Math.max(1, options.maxPendingWrites ?? 4096);
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
    if (this.queue.length < limit) return Promise.resolve();
    return new Promise((resolve) => this.belowWaiters.push({ limit, resolve }));
  }

  get counters(): Readonly<ProcessorCounters> {
    return { ...this.counts };
  }

  /** Registered handlers, in call order. */
  get registeredHandlers(): readonly KnowledgeHandler[] {
    return [...this.handlers];
  }

  addHandler(handler: KnowledgeHandler): KnowledgeHandler {
    // Re-validates through createHandler so hand-built objects get the same checks as registered ones.
    const normalized = createHandler(handler.handlerType, handler, handler.fn);
    this.handlers = [...this.handlers, normalized];
    const chain = this.chains.get(normalized.handlerType) ?? [];
    this.chains.set(normalized.handlerType, [...chain, chainEntry(normalized)]);
    if (!isQueueSafe(normalized)) this.trackNesting = true;
    return normalized;
  }

  /** The TypeScript form of the reference's `@processor.register_handler(...)` decorator. */
  registerHandler(handlerType: HandlerType, options: HandlerOptions, fn: HandlerFunction): KnowledgeHandler {
    return this.addHandler(createHandler(handlerType, options, fn));
  }

  /** Normalizes knowledge into a kobj and queues it; with `flush`, resolves once it is processed. */
  async handle(input: HandleInput): Promise<void> {
    const item = this.normalize(input);
    this.queue.push(item);
    this.wakeDrain?.();
    if (debugEnabled(this.logger)) this.logger.debug(describe(item.kobj, item.sourceNode), 'queued knowledge object');
    if (input.flush) {
      await this.flushKobjQueue();
    } else if (this.autoProcess) {
      void this.startDrain();
    }
  }

  /**
   * Calls `reached` once every kobj queued before this call has gone through the pipeline (the
   * queue is FIFO), even under a load that never lets the queue empty. The inbox acknowledges its
   * batches with it; no knowledge object goes through the handlers for that.
   */
  afterHandled(reached: () => void): void {
    this.queue.push({ reached });
    this.wakeDrain?.();
    if (this.autoProcess) void this.startDrain();
  }

  /**
   * Resolves when the queue is empty, including kobjs queued while it was being processed. Inside
   * a handler it returns at once (the running worker will reach the new kobjs after this one).
   */
  flushKobjQueue(): Promise<void> {
    if (this.insideKobj.getStore()?.active) return Promise.resolve();
    return this.startDrain();
  }

  /**
   * Runs one kobj through the pipeline now, bypassing the queue but not the mutex (from a handler
   * it runs nested, since the mutex is held by the caller's own kobj).
   */
  processKobj(kobj: KnowledgeObject, sourceNode?: RID | string): Promise<ProcessResult> {
    const item: QueueItem = { kobj, sourceNode: sourceNode === undefined ? undefined : String(sourceNode) };
    if (this.insideKobj.getStore()?.active) return this.run(item);
    return this.exclusive(() => this.run(item)).then(async (result) => {
      await Promise.all([...this.webhookFlushes, ...this.pendingPushes, ...this.pendingWrites]);
      return result;
    });
  }

  private normalize(input: HandleInput): QueueItem {
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

  private startDrain(): Promise<void> {
    this.draining ??= this.drain();
    return this.draining;
  }

  private releaseBelowWaiters(): void {
    const depth = this.queue.length;
    if (!this.belowWaiters.some((w) => depth < w.limit)) return;
    const still: { limit: number; resolve: () => void }[] = [];
    for (const w of this.belowWaiters) {
      if (depth < w.limit) w.resolve();
      else still.push(w);
    }
    this.belowWaiters = still;
  }

  /** Resolves when the next kobj is queued. */
  private nextQueued(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wakeDrain = () => {
        this.wakeDrain = undefined;
        resolve();
      };
    });
  }

  private async drain(): Promise<void> {
    // Yield first so `draining` is assigned before the loop can find the queue empty and clear it.
    await Promise.resolve();
    this.yielder.reset();
    for (;;) {
      const item = this.queue.shift();
      if (this.belowWaiters.length > 0) this.releaseBelowWaiters();
      if (item === undefined) {
        // A drain ends only once the webhook deliveries and cache files its kobjs started have
        // ended, as when each kobj awaited its own; kobjs queued meanwhile are picked up by the loop.
        if (this.webhookFlushes.size > 0 || this.pendingPushes.size > 0 || this.pendingWrites.size > 0) {
          // A new kobj ends the wait: a hung peer's delivery must not hold up processing (and so
          // every other peer's fan-out) until its request times out.
          await Promise.race([Promise.all([...this.webhookFlushes, ...this.pendingPushes, ...this.pendingWrites]), this.nextQueued()]);
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

  /**
   * Wakes the webhook deliveries beside the pipeline instead of inside it: awaiting deliveries per
   * kobj made fan-out to 50 webhook peers run at ~3 kobjs/s. Every fan-out wakes them at once (the
   * network runs one delivery loop per peer, so a hung peer never holds back the wake of a live
   * one); drains and processKobj still wait for the attempts their kobjs asked for.
   */
  private requestWebhookFlush(kobj: KnowledgeObject, sourceNode: string | undefined): void {
    let raw: unknown;
    try {
      raw = this.components.network.flushAllWebhookQueues();
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
        this.logger.warn({ ...describe(kobj, sourceNode), err: String(err) }, 'webhook flush failed');
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
  private persistInBackground(mutation: MaybePromise<unknown>, kobj: KnowledgeObject, sourceNode: string | undefined): void {
    const tracked: Promise<void> = Promise.resolve(mutation).then(
      () => undefined,
      (err: unknown) => {
        this.logger.error({ ...describe(kobj, sourceNode), err: String(err) }, 'cache write failed after the knowledge object was processed');
      },
    );
    this.pendingWrites.add(tracked);
    void tracked.then(() => this.pendingWrites.delete(tracked));
  }

  /** Backpressure: the worker (and so every queue behind it) waits while the disk is far behind. */
  private async waitForWriteBacklog(): Promise<void> {
    while (this.pendingWrites.size >= this.maxPendingWrites) await Promise.race(this.pendingWrites);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.lock.then(fn);
    this.lock = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** One kobj, never throwing: failures are logged and counted, and the worker moves on. */
  private async run(item: QueueItem): Promise<ProcessResult> {
    const marker = { active: true };
    let result: ProcessResult;
    try {
      result = this.trackNesting ? await this.insideKobj.run(marker, () => this.pipeline(item)) : await this.pipeline(item);
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
    const fields: Record<string, unknown> = describe(item.kobj, item.sourceNode);
    let cause = err;
    if (err instanceof HandlerFailure) {
      fields.handler = err.handler;
      fields.handlerType = err.handlerType;
      cause = err.cause;
    }
    fields.err = cause instanceof Error ? { name: cause.name, message: cause.message, stack: cause.stack } : String(cause);
    this.logger.error(fields, 'processing knowledge object failed; dropped it and moved on');
  }

  private context(item: QueueItem): HandlerContext {
    return new KobjContext(this.components, this, this.logger, item.sourceNode);
  }

  private async callHandlerChain(
    handlerType: HandlerType,
    kobj: KnowledgeObject,
    ctx: HandlerContext,
  ): Promise<KnowledgeObject | StopChain> {
    // The list is replaced on registration: a handler registering another does not change this chain.
    const entries = this.chains.get(handlerType);
    if (entries === undefined) return kobj;
    for (const { handler, ridTypes, eventTypes } of entries) {
      // handlerMatches, with the filters as sets (empty filters admit everything).
      if (ridTypes !== undefined && !ridTypes.has(kobj.rid.type.toString())) continue;
      if (eventTypes !== undefined && (kobj.eventType === undefined || !eventTypes.has(kobj.eventType))) continue;
      let result: unknown;
      try {
        result = handler.fn(ctx, kobj);
        // Most handlers answer synchronously; awaiting only promises spares a tick per handler.
        if (isPromiseLike(result)) result = await result;
      } catch (err) {
        throw new HandlerFailure(handlerName(handler), handlerType, err);
      }
      if (result === STOP_CHAIN) {
        if (debugEnabled(this.logger)) this.logger.debug({ ...describe(kobj, ctx.sourceNode), handler: handlerName(handler) }, `${handlerType} chain stopped`);
        return STOP_CHAIN;
      }
      if (result === undefined) continue;
      if (result instanceof KnowledgeObject) {
        kobj = result;
        continue;
      }
      throw new HandlerFailure(
        handlerName(handler),
        handlerType,
        new TypeError('a handler must return nothing, a KnowledgeObject or STOP_CHAIN'),
      );
    }
    return kobj;
  }

  /**
   * Pipeline step 5 alone (Network chain, then queue to the targets it picks) for an event whose
   * earlier steps already ran: the inbox's replay re-announces a cached event whose fan-out a crash
   * may have cut off. Deliveries are not woken (the next flush sends them). `queued` resolves once
   * the pushes did (it never rejects: a failed push is logged, as in the pipeline).
   */
  async announce(event: Event): Promise<Announcement> {
    const none: Announcement = { targets: 0, queued: Promise.resolve() };
    if (event.eventType === EventType.FORGET) return none;
    const kobj = KnowledgeObject.fromEvent(event, KnowledgeSource.EXTERNAL);
    kobj.normalizedEventType = event.eventType;
    let next: KnowledgeObject | StopChain;
    try {
      next = await this.callHandlerChain(HandlerType.Network, kobj, this.context({ kobj, sourceNode: undefined }));
    } catch (err) {
      const handler = err instanceof HandlerFailure ? err.handler : undefined;
      this.logger.warn({ rid: String(event.rid), handler, err: errorText(err instanceof HandlerFailure ? err.cause : err) }, 'network handler failed while re-announcing');
      return none;
    }
    if (next === STOP_CHAIN || next.networkTargets.size === 0) return none;
    return { targets: next.networkTargets.size, queued: this.queueToTargets(next, undefined) };
  }

  /**
   * All targets at once: each push resolves when a queue-file write that includes it ends, and
   * concurrent pushes share one write, where pushing in turn cost one write per target. Each push
   * changes its queue synchronously, so per-peer order is still kobj order.
   */
  private queueToTargets(kobj: KnowledgeObject, sourceNode: string | undefined): Promise<void> {
    const event = kobj.normalizedEvent;
    return Promise.all(
      [...kobj.networkTargets].map(async (target) => {
        try {
          await this.components.network.pushEventTo(event, target);
        } catch (err) {
          // One unreachable or unknown target must not cost the others their event.
          this.logger.warn({ ...describe(kobj, sourceNode), target, err: String(err) }, 'could not queue event for target');
        }
      }),
    ).then(() => undefined);
  }

  private stopped(kobj: KnowledgeObject, item: QueueItem, at: StopPoint): ProcessResult {
    if (debugEnabled(this.logger)) this.logger.debug({ ...describe(kobj, item.sourceNode), at }, 'knowledge object stopped');
    return { status: 'stopped', kobj, at };
  }

  /** PROTOCOL.md section 4, steps 1 to 6. */
  private async pipeline(item: QueueItem): Promise<ProcessResult> {
    const ctx = this.context(item);
    const { cache, graph, network } = this.components;
    let kobj = item.kobj;
    // No closures here: under tsx each one created per kobj also cost a keepNames call.
    let next: KnowledgeObject | StopChain;

    // 1. RID chain; FORGET takes the last known state from the cache and skips to step 4.
    next = await this.callHandlerChain(HandlerType.RID, kobj, ctx);
    if (next === STOP_CHAIN) return this.stopped(kobj, item, HandlerType.RID);
    kobj = next;

    if (kobj.eventType === EventType.FORGET) {
      const cached = await cache.read(kobj.rid);
      if (!cached) return this.stopped(kobj, item, 'forget_not_cached');
      kobj.manifest = cached.manifest;
      kobj.contents = cached.contents;
    } else {
      // 2. Manifest: from a state provider when external, from the cache when internal.
      if (kobj.manifest === undefined) {
        let manifest: Manifest | null | undefined;
        if (kobj.source === KnowledgeSource.EXTERNAL) manifest = await network.fetchRemoteManifest(kobj.rid);
        else manifest = (await cache.read(kobj.rid))?.manifest;
        if (!manifest || manifest.rid.toString() !== kobj.rid.toString()) return this.stopped(kobj, item, 'no_manifest');
        kobj.manifest = manifest;
      }
      next = await this.callHandlerChain(HandlerType.Manifest, kobj, ctx);
    if (next === STOP_CHAIN) return this.stopped(kobj, item, HandlerType.Manifest);
    kobj = next;

      // 3. Bundle, the same way; then the Bundle chain.
      if (kobj.contents === undefined || kobj.manifest === undefined) {
        let bundle: Bundle | null | undefined;
        if (kobj.source === KnowledgeSource.EXTERNAL) bundle = await network.fetchRemoteBundle(kobj.rid);
        else bundle = await cache.read(kobj.rid);
        if (!bundle || bundle.rid.toString() !== kobj.rid.toString()) return this.stopped(kobj, item, 'no_bundle');
        if (kobj.manifest !== undefined && kobj.manifest.sha256Hash !== bundle.manifest.sha256Hash) {
          // As the reference: the bundle wins, but the Manifest chain judged another state.
          this.logger.warn(describe(kobj, item.sourceNode), 'fetched bundle carries a different manifest than the one handled');
        }
        kobj.manifest = bundle.manifest;
        kobj.contents = bundle.contents;
      }
      next = await this.callHandlerChain(HandlerType.Bundle, kobj, ctx);
    if (next === STOP_CHAIN) return this.stopped(kobj, item, HandlerType.Bundle);
    kobj = next;
    }

    // 4. Cache write or delete; node and edge RIDs also change the network graph.
    const type = kobj.rid.type.toString();
    const isGraphType = type === KOI_NET_NODE_TYPE.toString() || type === KOI_NET_EDGE_TYPE.toString();
    const normalized = kobj.normalizedEventType;
    if (normalized === EventType.NEW || normalized === EventType.UPDATE) {
      const bundle = kobj.bundle;
      if (bundle === undefined) {
        throw new KoiNetError('missing_bundle', `cannot cache ${kobj.rid.toString()}: a handler removed its manifest or contents`);
      }
      const written = cache.write(bundle);
      if (cache.writesVisibleAtOnce === true) {
        this.persistInBackground(written, kobj, item.sourceNode);
        await this.waitForWriteBacklog();
      } else await written;
      if (isGraphType) await graph.applyWrite(bundle);
    } else if (normalized === EventType.FORGET) {
      const deleted = cache.delete(kobj.rid);
      if (cache.writesVisibleAtOnce === true) {
        this.persistInBackground(deleted, kobj, item.sourceNode);
        await this.waitForWriteBacklog();
      } else await deleted;
      if (isGraphType) await graph.applyDelete(kobj.rid);
    } else {
      return this.stopped(kobj, item, 'no_normalized_event_type');
    }

    // 5. Network chain picks the targets; the node the knowledge came from never gets it back.
    next = await this.callHandlerChain(HandlerType.Network, kobj, ctx);
    if (next === STOP_CHAIN) return this.stopped(kobj, item, HandlerType.Network);
    kobj = next;
    if (item.sourceNode !== undefined && kobj.networkTargets.delete(item.sourceNode)) {
      this.logger.debug(describe(kobj, item.sourceNode), 'not echoing the event to the node it came from');
    }
    if (kobj.networkTargets.size > 0) {
      // The next kobj need not wait for the queue file: the drain waits for it (see requestWebhookFlush).
      const pushed = this.queueToTargets(kobj, item.sourceNode);
      this.pendingPushes.add(pushed);
      void pushed.then(() => this.pendingPushes.delete(pushed));
      this.requestWebhookFlush(kobj, item.sourceNode);
    }

    // 6. Final chain.
    next = await this.callHandlerChain(HandlerType.Final, kobj, ctx);
    if (next === STOP_CHAIN) return this.stopped(kobj, item, HandlerType.Final);
    kobj = next;
    return { status: 'completed', kobj };
  }
}

interface ChainEntry {
  handler: KnowledgeHandler;
  ridTypes: ReadonlySet<string> | undefined;
  eventTypes: ReadonlySet<string> | undefined;
}

function chainEntry(handler: KnowledgeHandler): ChainEntry {
  const ridTypes = handler.ridTypes && handler.ridTypes.length > 0 ? new Set(handler.ridTypes.map((t) => t.toString())) : undefined;
  const eventTypes = handler.eventTypes && handler.eventTypes.length > 0 ? new Set<string>(handler.eventTypes) : undefined;
  return { handler, ridTypes, eventTypes };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** What handlers get; a class, so each kobj costs one small object and no closures. */
class KobjContext implements HandlerContext {
  constructor(
    private readonly components: ProcessorComponents,
    readonly processor: ProcessorInterface,
    readonly logger: Logger,
    readonly sourceNode: string | undefined,
  ) {}

  get cache(): ProcessorComponents['cache'] {
    return this.components.cache;
  }

  get identity(): ProcessorComponents['identity'] {
    return this.components.identity;
  }

  get graph(): ProcessorComponents['graph'] {
    return this.components.graph;
  }

  get network(): ProcessorComponents['network'] {
    return this.components.network;
  }

  handle(input: HandleInput): Promise<void> {
    return this.processor.handle(input);
  }
}

/** Log fields that identify a kobj without its contents. */
function describe(kobj: KnowledgeObject, sourceNode: string | undefined): Record<string, unknown> {
  return {
    rid: kobj.rid.toString(),
    source: kobj.source,
    eventType: kobj.eventType,
    normalizedEventType: kobj.normalizedEventType,
    ...(sourceNode === undefined ? {} : { sourceNode }),
  };
}
