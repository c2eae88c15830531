import { type RID } from '../rid/index.ts';
import { KnowledgeObject } from '../knowledge/index.ts';
import { type Logger } from '../logger.ts';
import type { ProcessorComponents } from './components.ts';
import { HandlerType, type HandleInput, type HandlerFunction, type HandlerOptions, type KnowledgeHandler, type KnowledgeProcessor } from './handler.ts';
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
export type StopPoint = HandlerType
/** FORGET of an RID that is not cached. */
 | 'forget_not_cached' | 'no_manifest' | 'no_bundle'
/** No handler set a normalized event type: nothing to write, delete or announce. */
 | 'no_normalized_event_type';
export type ProcessResult = {
    status: 'completed';
    kobj: KnowledgeObject;
} | {
    status: 'stopped';
    kobj: KnowledgeObject;
    at: StopPoint;
} | {
    status: 'failed';
    kobj: KnowledgeObject;
    error: unknown;
};
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
 */
export declare class ProcessorInterface implements KnowledgeProcessor {
    readonly logger: Logger;
    private readonly components;
    private readonly handlers;
    private readonly queue;
    /** Slices the drain so a huge backlog never holds the event loop (other requests keep being served). */
    private readonly yielder;
    private readonly autoProcess;
    private readonly counts;
    /** Tail of the mutex chain: resolves when the last scheduled kobj is done. */
    private lock;
    /** The running drain loop, if any; resolves when the queue is empty. */
    private draining;
    /**
     * Marks code running inside a handler. There, waiting for the queue would wait for the very
     * kobj that is waiting, so flushes return at once and processKobj runs nested.
     */
    private readonly insideKobj;
    /** Webhook delivery attempts asked for by processed kobjs and not ended yet (see requestWebhookFlush). */
    private readonly webhookFlushes;
    /** Resolves the drain's wait for pending deliveries when a kobj is queued (see drain). */
    private wakeDrain;
    private lastWebhookFlush;
    /** Queue pushes whose file write has not ended yet. */
    private readonly pendingPushes;
    /** Write-behind cache mutations not yet on disk (see persistInBackground). */
    private readonly pendingWrites;
    private readonly maxPendingWrites;
    constructor(components: ProcessorComponents, options?: ProcessorOptions);
    /** Kobjs waiting (not counting the one in flight). */
    get queueDepth(): number;
    get counters(): Readonly<ProcessorCounters>;
    /** Registered handlers, in call order. */
    get registeredHandlers(): readonly KnowledgeHandler[];
    addHandler(handler: KnowledgeHandler): KnowledgeHandler;
    /** The TypeScript form of the reference's `@processor.register_handler(...)` decorator. */
    registerHandler(handlerType: HandlerType, options: HandlerOptions, fn: HandlerFunction): KnowledgeHandler;
    /** Normalizes knowledge into a kobj and queues it; with `flush`, resolves once it is processed. */
    handle(input: HandleInput): Promise<void>;
    /**
     * Resolves when the queue is empty, including kobjs queued while it was being processed. Inside
     * a handler it returns at once (the running worker will reach the new kobjs after this one).
     */
    flushKobjQueue(): Promise<void>;
    /**
     * Runs one kobj through the pipeline now, bypassing the queue but not the mutex (from a handler
     * it runs nested, since the mutex is held by the caller's own kobj).
     */
    processKobj(kobj: KnowledgeObject, sourceNode?: RID | string): Promise<ProcessResult>;
    private normalize;
    private startDrain;
    /** Resolves when the next kobj is queued. */
    private nextQueued;
    private drain;
    /**
     * Wakes the webhook deliveries beside the pipeline instead of inside it: awaiting deliveries per
     * kobj made fan-out to 50 webhook peers run at ~3 kobjs/s. Every fan-out wakes them at once (the
     * network runs one delivery loop per peer, so a hung peer never holds back the wake of a live
     * one); drains and processKobj still wait for the attempts their kobjs asked for.
     */
    private requestWebhookFlush;
    /**
     * A write-behind store shows the change at once and persists it on the thread pool, so the next
     * kobj need not wait for the file: that wait was over half of the per-event cost of ingest.
     * Durability is the callers' business through cache.sync() (the inbox syncs before it moves its
     * checkpoint, so an acknowledged event is never lost). The price: a failed file write is found
     * after this kobj went on (fan-out included); it is logged, and the store puts its index back.
     */
    private persistInBackground;
    /** Backpressure: the worker (and so every queue behind it) waits while the disk is far behind. */
    private waitForWriteBacklog;
    private exclusive;
    /** One kobj, never throwing: failures are logged and counted, and the worker moves on. */
    private run;
    private logFailure;
    private context;
    private callHandlerChain;
    /** PROTOCOL.md section 4, steps 1 to 6. */
    private pipeline;
}
