import { AsyncLocalStorage } from 'node:async_hooks';
import { KOI_NET_EDGE_TYPE, KOI_NET_NODE_TYPE } from "../rid/index.js";
import { EventType, KnowledgeObject, KnowledgeSource } from "../knowledge/index.js";
import { KoiNetError } from "../errors.js";
import { silentLogger } from "../logger.js";
import { Deque } from "../util/deque.js";
import { Yielder } from "../util/slices.js";
import { HandlerType, STOP_CHAIN, createHandler, handlerMatches, handlerName, } from "./handler.js";
/** Marks which handler threw, so the log line can name it. */
class HandlerFailure extends Error {
    handler;
    handlerType;
    cause;
    constructor(handler, handlerType, cause) {
        super(`${handlerType} handler ${handler} threw: ${String(cause)}`);
        this.handler = handler;
        this.handlerType = handlerType;
        this.cause = cause;
    }
}
/**
 * The node's knowledge pipeline (PROTOCOL.md section 4). Knowledge is queued by `handle()` and
 * processed by one worker in FIFO order; each kobj runs under a promise-chain mutex, so no two kobjs
 * are ever in flight at once, whoever calls `handle()`, `flushKobjQueue()` or `processKobj()`.
 */
export class ProcessorInterface {
    logger;
    components;
    handlers = [];
    queue = new Deque();
    /** Slices the drain so a huge backlog never holds the event loop (other requests keep being served). */
    yielder = new Yielder();
    autoProcess;
    counts = { processed: 0, stopped: 0, failed: 0 };
    /** Tail of the mutex chain: resolves when the last scheduled kobj is done. */
    lock = Promise.resolve();
    /** The running drain loop, if any; resolves when the queue is empty. */
    draining;
    /**
     * Marks code running inside a handler. There, waiting for the queue would wait for the very
     * kobj that is waiting, so flushes return at once and processKobj runs nested.
     */
    insideKobj = new AsyncLocalStorage();
    /** Webhook delivery attempts asked for by processed kobjs and not ended yet (see requestWebhookFlush). */
    webhookFlushes = new Set();
    /** Resolves the drain's wait for pending deliveries when a kobj is queued (see drain). */
    wakeDrain;
    lastWebhookFlush;
    /** Queue pushes whose file write has not ended yet. */
    pendingPushes = new Set();
    /** Write-behind cache mutations not yet on disk (see persistInBackground). */
    pendingWrites = new Set();
    maxPendingWrites;
    constructor(components, options = {}) {
        this.components = components;
        this.logger = options.logger ?? silentLogger;
        this.autoProcess = options.autoProcess ?? true;
        this.maxPendingWrites = Math.max(1, options.maxPendingWrites ?? 4096);
        for (const handler of options.defaultHandlers ?? [])
            this.addHandler(handler);
    }
    /** Kobjs waiting (not counting the one in flight). */
    get queueDepth() {
        return this.queue.length;
    }
    get counters() {
        return { ...this.counts };
    }
    /** Registered handlers, in call order. */
    get registeredHandlers() {
        return [...this.handlers];
    }
    addHandler(handler) {
        // Re-validates through createHandler so hand-built objects get the same checks as registered ones.
        const normalized = createHandler(handler.handlerType, handler, handler.fn);
        this.handlers.push(normalized);
        return normalized;
    }
    /** The TypeScript form of the reference's `@processor.register_handler(...)` decorator. */
    registerHandler(handlerType, options, fn) {
        return this.addHandler(createHandler(handlerType, options, fn));
    }
    /** Normalizes knowledge into a kobj and queues it; with `flush`, resolves once it is processed. */
    async handle(input) {
        const item = this.normalize(input);
        this.queue.push(item);
        this.wakeDrain?.();
        this.logger.debug(describe(item.kobj, item.sourceNode), 'queued knowledge object');
        if (input.flush) {
            await this.flushKobjQueue();
        }
        else if (this.autoProcess) {
            void this.startDrain();
        }
    }
    /**
     * Resolves when the queue is empty, including kobjs queued while it was being processed. Inside
     * a handler it returns at once (the running worker will reach the new kobjs after this one).
     */
    flushKobjQueue() {
        if (this.insideKobj.getStore()?.active)
            return Promise.resolve();
        return this.startDrain();
    }
    /**
     * Runs one kobj through the pipeline now, bypassing the queue but not the mutex (from a handler
     * it runs nested, since the mutex is held by the caller's own kobj).
     */
    processKobj(kobj, sourceNode) {
        const item = { kobj, sourceNode: sourceNode === undefined ? undefined : String(sourceNode) };
        if (this.insideKobj.getStore()?.active)
            return this.run(item);
        return this.exclusive(() => this.run(item)).then(async (result) => {
            await Promise.all([...this.webhookFlushes, ...this.pendingPushes, ...this.pendingWrites]);
            return result;
        });
    }
    normalize(input) {
        const sourceNode = input.sourceNode === undefined ? undefined : String(input.sourceNode);
        // Knowledge that names the peer it came from is external unless the caller says otherwise.
        const source = input.source ?? (sourceNode !== undefined ? KnowledgeSource.EXTERNAL : KnowledgeSource.INTERNAL);
        let kobj;
        // Precedence as in the reference: the first of rid, manifest, bundle, event, kobj that is given.
        if (input.rid !== undefined)
            kobj = KnowledgeObject.fromRid(input.rid, input.eventType, source);
        else if (input.manifest !== undefined)
            kobj = KnowledgeObject.fromManifest(input.manifest, input.eventType, source);
        else if (input.bundle !== undefined)
            kobj = KnowledgeObject.fromBundle(input.bundle, input.eventType, source);
        else if (input.event !== undefined)
            kobj = KnowledgeObject.fromEvent(input.event, input.eventType, source);
        else if (input.kobj !== undefined)
            kobj = input.kobj;
        else {
            throw new KoiNetError('invalid_handle_input', "handle() needs one of 'rid', 'manifest', 'bundle', 'event' or 'kobj'");
        }
        return { kobj, sourceNode };
    }
    startDrain() {
        this.draining ??= this.drain();
        return this.draining;
    }
    /** Resolves when the next kobj is queued. */
    nextQueued() {
        return new Promise((resolve) => {
            this.wakeDrain = () => {
                this.wakeDrain = undefined;
                resolve();
            };
        });
    }
    async drain() {
        // Yield first so `draining` is assigned before the loop can find the queue empty and clear it.
        await Promise.resolve();
        this.yielder.reset();
        for (;;) {
            const item = this.queue.shift();
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
            await this.exclusive(() => this.run(item));
            // Kobjs whose awaits only settle microtasks would otherwise run back to back for as long as
            // the queue lasts (seconds for a 100,000-event broadcast) without letting a request in.
            const pause = this.yielder.maybeYield();
            if (pause)
                await pause;
        }
    }
    /**
     * Wakes the webhook deliveries beside the pipeline instead of inside it: awaiting deliveries per
     * kobj made fan-out to 50 webhook peers run at ~3 kobjs/s. Every fan-out wakes them at once (the
     * network runs one delivery loop per peer, so a hung peer never holds back the wake of a live
     * one); drains and processKobj still wait for the attempts their kobjs asked for.
     */
    requestWebhookFlush(kobj, sourceNode) {
        let raw;
        try {
            raw = this.components.network.flushAllWebhookQueues();
        }
        catch (err) {
            raw = Promise.reject(err);
        }
        // A burst of fan-outs gets the same pending attempts back: tracked once, not once per kobj.
        if (raw !== undefined && raw === this.lastWebhookFlush)
            return;
        this.lastWebhookFlush = raw;
        const tracked = Promise.resolve(raw).then(() => undefined, (err) => {
            // The events stay queued; the next flush retries them.
            this.logger.warn({ ...describe(kobj, sourceNode), err: String(err) }, 'webhook flush failed');
        });
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
    persistInBackground(mutation, kobj, sourceNode) {
        const tracked = Promise.resolve(mutation).then(() => undefined, (err) => {
            this.logger.error({ ...describe(kobj, sourceNode), err: String(err) }, 'cache write failed after the knowledge object was processed');
        });
        this.pendingWrites.add(tracked);
        void tracked.then(() => this.pendingWrites.delete(tracked));
    }
    /** Backpressure: the worker (and so every queue behind it) waits while the disk is far behind. */
    async waitForWriteBacklog() {
        while (this.pendingWrites.size >= this.maxPendingWrites)
            await Promise.race(this.pendingWrites);
    }
    exclusive(fn) {
        const result = this.lock.then(fn);
        this.lock = result.then(() => undefined, () => undefined);
        return result;
    }
    /** One kobj, never throwing: failures are logged and counted, and the worker moves on. */
    async run(item) {
        const marker = { active: true };
        let result;
        try {
            result = await this.insideKobj.run(marker, () => this.pipeline(item));
        }
        catch (err) {
            result = { status: 'failed', kobj: item.kobj, error: err instanceof HandlerFailure ? err.cause : err };
            this.logFailure(item, err);
        }
        finally {
            marker.active = false;
        }
        if (result.status === 'completed')
            this.counts.processed++;
        else if (result.status === 'stopped')
            this.counts.stopped++;
        else
            this.counts.failed++;
        return result;
    }
    logFailure(item, err) {
        // Identify the kobj by RID, source and event types only: contents may be private.
        const fields = describe(item.kobj, item.sourceNode);
        let cause = err;
        if (err instanceof HandlerFailure) {
            fields.handler = err.handler;
            fields.handlerType = err.handlerType;
            cause = err.cause;
        }
        fields.err = cause instanceof Error ? { name: cause.name, message: cause.message, stack: cause.stack } : String(cause);
        this.logger.error(fields, 'processing knowledge object failed; dropped it and moved on');
    }
    context(item) {
        const components = this.components;
        const processor = this;
        return {
            get cache() {
                return components.cache;
            },
            get identity() {
                return components.identity;
            },
            get graph() {
                return components.graph;
            },
            get network() {
                return components.network;
            },
            processor,
            logger: this.logger,
            sourceNode: item.sourceNode,
            handle: (input) => this.handle(input),
        };
    }
    async callHandlerChain(handlerType, kobj, ctx) {
        // Snapshot: a handler registering another must not change the chain it is running in.
        for (const handler of [...this.handlers]) {
            if (handler.handlerType !== handlerType || !handlerMatches(handler, kobj))
                continue;
            const name = handlerName(handler);
            let result;
            try {
                result = await handler.fn(ctx, kobj);
            }
            catch (err) {
                throw new HandlerFailure(name, handlerType, err);
            }
            if (result === STOP_CHAIN) {
                this.logger.debug({ ...describe(kobj, ctx.sourceNode), handler: name }, `${handlerType} chain stopped`);
                return STOP_CHAIN;
            }
            if (result === undefined)
                continue;
            if (result instanceof KnowledgeObject) {
                kobj = result;
                continue;
            }
            throw new HandlerFailure(name, handlerType, new TypeError('a handler must return nothing, a KnowledgeObject or STOP_CHAIN'));
        }
        return kobj;
    }
    /** PROTOCOL.md section 4, steps 1 to 6. */
    async pipeline(item) {
        const ctx = this.context(item);
        const { cache, graph, network } = this.components;
        let kobj = item.kobj;
        const stopped = (at) => {
            this.logger.debug({ ...describe(kobj, item.sourceNode), at }, 'knowledge object stopped');
            return { status: 'stopped', kobj, at };
        };
        const chain = async (type) => {
            const next = await this.callHandlerChain(type, kobj, ctx);
            if (next === STOP_CHAIN)
                return false;
            kobj = next;
            return true;
        };
        // 1. RID chain; FORGET takes the last known state from the cache and skips to step 4.
        if (!(await chain(HandlerType.RID)))
            return stopped(HandlerType.RID);
        if (kobj.eventType === EventType.FORGET) {
            const cached = await cache.read(kobj.rid);
            if (!cached)
                return stopped('forget_not_cached');
            kobj.manifest = cached.manifest;
            kobj.contents = cached.contents;
        }
        else {
            // 2. Manifest: from a state provider when external, from the cache when internal.
            if (kobj.manifest === undefined) {
                let manifest;
                if (kobj.source === KnowledgeSource.EXTERNAL)
                    manifest = await network.fetchRemoteManifest(kobj.rid);
                else
                    manifest = (await cache.read(kobj.rid))?.manifest;
                if (!manifest || manifest.rid.toString() !== kobj.rid.toString())
                    return stopped('no_manifest');
                kobj.manifest = manifest;
            }
            if (!(await chain(HandlerType.Manifest)))
                return stopped(HandlerType.Manifest);
            // 3. Bundle, the same way; then the Bundle chain.
            if (kobj.contents === undefined || kobj.manifest === undefined) {
                let bundle;
                if (kobj.source === KnowledgeSource.EXTERNAL)
                    bundle = await network.fetchRemoteBundle(kobj.rid);
                else
                    bundle = await cache.read(kobj.rid);
                if (!bundle || bundle.rid.toString() !== kobj.rid.toString())
                    return stopped('no_bundle');
                if (kobj.manifest !== undefined && kobj.manifest.sha256Hash !== bundle.manifest.sha256Hash) {
                    // As the reference: the bundle wins, but the Manifest chain judged another state.
                    this.logger.warn(describe(kobj, item.sourceNode), 'fetched bundle carries a different manifest than the one handled');
                }
                kobj.manifest = bundle.manifest;
                kobj.contents = bundle.contents;
            }
            if (!(await chain(HandlerType.Bundle)))
                return stopped(HandlerType.Bundle);
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
            }
            else
                await written;
            if (isGraphType)
                await graph.applyWrite(bundle);
        }
        else if (normalized === EventType.FORGET) {
            const deleted = cache.delete(kobj.rid);
            if (cache.writesVisibleAtOnce === true) {
                this.persistInBackground(deleted, kobj, item.sourceNode);
                await this.waitForWriteBacklog();
            }
            else
                await deleted;
            if (isGraphType)
                await graph.applyDelete(kobj.rid);
        }
        else {
            return stopped('no_normalized_event_type');
        }
        // 5. Network chain picks the targets; the node the knowledge came from never gets it back.
        if (!(await chain(HandlerType.Network)))
            return stopped(HandlerType.Network);
        if (item.sourceNode !== undefined && kobj.networkTargets.delete(item.sourceNode)) {
            this.logger.debug(describe(kobj, item.sourceNode), 'not echoing the event to the node it came from');
        }
        if (kobj.networkTargets.size > 0) {
            const event = kobj.normalizedEvent;
            // All at once: each push resolves when a queue-file write that includes it ends, and
            // concurrent pushes share one write, where pushing in turn cost one write per target.
            // Each push changes its queue synchronously, so per-peer order is still kobj order, and the
            // next kobj need not wait for the file: the drain waits for it (see requestWebhookFlush).
            const pushed = Promise.all([...kobj.networkTargets].map(async (target) => {
                try {
                    await network.pushEventTo(event, target);
                }
                catch (err) {
                    // One unreachable or unknown target must not cost the others their event.
                    this.logger.warn({ ...describe(kobj, item.sourceNode), target, err: String(err) }, 'could not queue event for target');
                }
            })).then(() => undefined);
            this.pendingPushes.add(pushed);
            void pushed.then(() => this.pendingPushes.delete(pushed));
            this.requestWebhookFlush(kobj, item.sourceNode);
        }
        // 6. Final chain.
        if (!(await chain(HandlerType.Final)))
            return stopped(HandlerType.Final);
        return { status: 'completed', kobj };
    }
}
/** Log fields that identify a kobj without its contents. */
function describe(kobj, sourceNode) {
    return {
        rid: kobj.rid.toString(),
        source: kobj.source,
        eventType: kobj.eventType,
        normalizedEventType: kobj.normalizedEventType,
        ...(sourceNode === undefined ? {} : { sourceNode }),
    };
}
//# sourceMappingURL=interface.js.map