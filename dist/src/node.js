import { join } from 'node:path';
import { Cache } from "./cache/index.js";
import { NodeIdentity } from "./identity/index.js";
import { NetworkGraph } from "./network/graph.js";
import { EventQueues } from "./network/queues.js";
import { NetworkInterface } from "./network/network-interface.js";
import { Inbox, InboxIntake, createInboxMarkHandler } from "./inbox/index.js";
import { RequestHandler } from "./network/request-handler.js";
import { ResponseHandler } from "./network/response-handler.js";
import { ProcessorInterface, defaultHandlers as builtInHandlers, } from "./processor/index.js";
import { NodeType } from "./protocol/index.js";
import { KoiNetNode } from "./rid/index.js";
import { KoiNetError } from "./errors.js";
import { silentLogger } from "./logger.js";
import { loadOrCreateNodeKey } from "./secure/index.js";
import { proposedEdgeBundle } from "./behaviours/edge.js";
import { DataDirLock } from "./data-dir-lock.js";
import { FirstContactJoiner, validateFirstContactRetry } from "./network/first-contact.js";
/**
 * The composition root: builds cache, identity, graph, queues, network and processor, and runs the
 * node's lifecycle. Handlers can be registered on `node.processor` before `initialize()`, as in the
 * seed, because the processor exists from construction; its parts are attached on initialize.
 */
export class NodeInterface {
    processor;
    firstContact;
    logger;
    parts;
    finalizing;
    options;
    retryTimer;
    retryTick;
    recovery;
    ownsCache = false;
    nodeKeyPair;
    dataDirLock;
    joiner;
    protocol;
    constructor(options) {
        this.options = options;
        this.firstContact = options.firstContact;
        this.protocol = options.protocol ?? 'unsigned';
        if (this.protocol !== 'unsigned' && this.protocol !== 'signed') {
            throw new KoiNetError('invalid_protocol', `protocol must be 'unsigned' or 'signed', got ${String(this.protocol)}`);
        }
        this.logger = options.logger ?? silentLogger;
        // Checked here so a bad value fails the construction, not a retry minutes later.
        validateFirstContactRetry(options.firstContactRetry);
        const processorOptions = {
            defaultHandlers: options.defaultHandlers ?? builtInHandlers,
            logger: this.logger.child({ component: 'processor' }),
        };
        const components = lateComponents(() => this.requireParts());
        this.processor = options.processor ? options.processor(components, processorOptions) : new ProcessorInterface(components, processorOptions);
        // Before application handlers, so they never see the inbox's progress markers.
        this.processor.addHandler(createInboxMarkHandler((seq) => this.parts?.inbox?.markDone(seq)));
        for (const handler of options.handlers ?? [])
            this.processor.addHandler(handler);
    }
    get cache() {
        return this.requireParts().cache;
    }
    get identity() {
        return this.requireParts().identity;
    }
    get graph() {
        return this.requireParts().graph;
    }
    get network() {
        return this.requireParts().network;
    }
    get queues() {
        return this.requireParts().queues;
    }
    /** Signed mode: this node's key pair (undefined in unsigned mode). */
    get keyPair() {
        this.requireParts();
        return this.nodeKeyPair;
    }
    get initialized() {
        return this.parts !== undefined;
    }
    /** The durable inbox, when enabled; endpoints accept broadcasts through it. */
    get inbox() {
        return this.requireParts().inbox;
    }
    /** What the inbox replayed at the last initialize(); undefined without an inbox. */
    get lastRecovery() {
        return this.recovery;
    }
    /**
     * Opens the stores, loads or creates the identity, rebuilds the graph, puts this node's own bundle
     * through the pipeline, and, when the node knows no neighbors, introduces it to the first contact.
     */
    async initialize() {
        if (this.parts)
            return;
        const o = this.options;
        const dataDir = o.dataDir ?? '.';
        // Before anything in the directory is read or written: a second process must change nothing.
        if (o.lockDataDir !== false && !this.dataDirLock)
            this.dataDirLock = await DataDirLock.acquire(dataDir);
        try {
            await this.open(o, dataDir);
        }
        catch (err) {
            await this.releaseLock();
            throw err;
        }
    }
    async releaseLock() {
        const lock = this.dataDirLock;
        this.dataDirLock = undefined;
        await lock?.release();
    }
    async open(o, dataDir) {
        const logger = this.logger;
        // Before opening anything: a wrong password must fail the start without leaving stores open.
        const keyPair = this.protocol === 'signed'
            ? await loadOrCreateNodeKey(o.privateKeyPath ?? join(dataDir, 'priv_key.pem'), {
                passphrase: o.privateKeyPassword,
                logger: logger.child({ component: 'identity' }),
            })
            : undefined;
        this.nodeKeyPair = keyPair;
        this.ownsCache = o.cache === undefined;
        const cache = o.cache ?? (await Cache.open(o.cacheDir ?? join(dataDir, 'cache'), { logger: logger.child({ component: 'cache' }) }));
        const identity = await NodeIdentity.load({
            name: o.name,
            profile: o.profile,
            filePath: o.identityFilePath ?? join(dataDir, 'identity.json'),
            ...(keyPair ? { keyPair } : {}),
            logger,
        });
        const graph = new NetworkGraph(cache, identity.rid, { logger: logger.child({ component: 'graph' }) });
        await graph.generate();
        const queues = await EventQueues.open(o.queuesFilePath ?? join(dataDir, 'event_queues.json'), {
            maxPerPeer: o.maxQueuedEventsPerPeer,
            logger: logger.child({ component: 'queues' }),
        });
        const firstContactRid = o.firstContactRid ? KoiNetNode.of(o.firstContactRid) : undefined;
        const requestHandler = new RequestHandler({
            graph,
            logger: logger.child({ component: 'requests' }),
            timeoutMs: o.requestTimeoutMs,
            signed: keyPair
                ? {
                    keyPair,
                    self: identity.rid,
                    urlNodes: new Map(o.firstContact && firstContactRid ? [[o.firstContact, firstContactRid]] : []),
                }
                : undefined,
        });
        const responseHandler = new ResponseHandler({ cache });
        const networkOptions = {
            cache,
            identity,
            graph,
            queues,
            requestHandler,
            responseHandler,
            firstContact: o.firstContact,
            retry: o.retry,
            logger: logger.child({ component: 'network' }),
        };
        const network = o.network ? o.network(networkOptions) : new NetworkInterface(networkOptions);
        const inboxPath = resolveInboxPath(o.inbox, dataDir, identity.profile.node_type);
        let inbox;
        if (inboxPath !== undefined) {
            const inboxLogger = logger.child({ component: 'inbox' });
            inbox = new InboxIntake({
                inbox: await Inbox.open(inboxPath, {
                    ...o.inboxOptions,
                    logger: inboxLogger,
                    // The checkpoint may pass a batch only once its cache files are on disk (write-behind).
                    ...(cache.sync ? { beforeCheckpoint: () => cache.sync() } : {}),
                }),
                processor: this.processor,
                components: { cache, identity, graph, network },
                logger: inboxLogger,
            });
        }
        this.parts = { cache, identity, graph, queues, network, inbox };
        logger.info({ rid: String(identity.rid), nodeType: identity.profile.node_type }, 'node initialized');
        await this.processor.handle({ bundle: identity.bundle, flush: true });
        if (inbox) {
            // Replayed after our own bundle, so handlers see this node's identity and graph first.
            this.recovery = await inbox.recover();
            void inbox.settle().catch((err) => {
                logger.error({ err: String(err) }, 'processing the replayed inbox failed');
            });
        }
        this.startRetryTimer(o.retryTickMs ?? 250);
        if (this.firstContact && graph.getNeighbors({}).length === 0) {
            await this.introduceToFirstContact(this.firstContact);
        }
    }
    /** Finishes queued knowledge, tries to deliver queued webhook events, and saves the queues. */
    finalize() {
        // Idempotent: a signal handler and an application may both call it.
        if (!this.parts)
            return Promise.resolve();
        this.finalizing ??= this.doFinalize();
        return this.finalizing;
    }
    async doFinalize() {
        try {
            await this.closeParts();
        }
        finally {
            // Also when closing failed (e.g. a full disk): the stores are done with either way.
            await this.releaseLock();
        }
    }
    async closeParts() {
        if (!this.parts)
            return;
        await this.joiner?.stop();
        this.stopRetryTimer();
        await this.retryTick;
        if (this.parts.inbox)
            await this.parts.inbox.settle();
        else
            await this.processor.flushKobjQueue();
        try {
            // Peers in backoff are skipped: their events stay queued on disk for the next start.
            await this.parts.network.flushAllWebhookQueues();
            // Stops the per-peer delivery loops and their retry timers before the queues close.
            await this.parts.network.close();
        }
        catch (err) {
            this.logger.warn({ err: String(err) }, 'webhook flush at shutdown failed; events stay queued');
        }
        // close(): a last compact snapshot, and the idle-compaction timer stops.
        await this.parts.queues.close();
        if (this.parts.inbox)
            await this.parts.inbox.inbox.close();
        // A cache the node opened is closed (files synced, index snapshot saved for a fast start);
        // one handed in by the application is only synced, since the application owns it.
        if (this.ownsCache)
            await this.parts.cache.close?.();
        else
            await this.parts.cache.sync?.();
        this.logger.info({ rid: String(this.parts.identity.rid) }, 'node finalized');
    }
    /**
     * Re-flushes webhook queues whose backoff has elapsed, so a peer that was down gets its events
     * when it returns even if nothing new is processed meanwhile. A tick never overlaps the last.
     */
    startRetryTimer(tickMs) {
        if (tickMs <= 0 || this.retryTimer)
            return;
        const network = this.requireParts().network;
        this.retryTimer = setInterval(() => {
            if (this.retryTick)
                return;
            this.retryTick = network
                .flushDueWebhookQueues()
                .catch((err) => this.logger.warn({ err: String(err) }, 'retry flush failed'))
                .finally(() => {
                this.retryTick = undefined;
            });
        }, tickMs);
        // The timer alone must not keep a process alive that has nothing else to do.
        this.retryTimer.unref();
    }
    stopRetryTimer() {
        if (this.retryTimer)
            clearInterval(this.retryTimer);
        this.retryTimer = undefined;
    }
    /**
     * The handshake of the seed: FORGET ourselves (so a peer holding a stale copy drops it) and then
     * NEW with our bundle, sent straight to the first contact's URL.
     */
    async introduceToFirstContact(url) {
        const { identity, network, graph, cache } = this.requireParts();
        const node = this.options.firstContactRid;
        if (this.protocol === 'signed' && node === undefined) {
            this.logger.warn({ firstContact: url }, 'signed protocol: no first-contact RID configured, so no handshake (envelopes need the target node RID)');
            return;
        }
        this.joiner = new FirstContactJoiner({
            ...this.options.firstContactRetry,
            url,
            ...(node === undefined ? {} : { node: KoiNetNode.of(node) }),
            identity,
            graph,
            cache,
            requestHandler: network.requestHandler,
            processor: this.processor,
            logger: this.logger.child({ component: 'first-contact' }),
        });
        await this.joiner.start();
    }
    /** A PROPOSED edge bundle from `source` (the event provider) to `target` (the subscriber). */
    generateEdgeBundle(source, target, ridTypes, edgeType) {
        return proposedEdgeBundle(source, target, ridTypes.map(String), edgeType);
    }
    requireParts() {
        if (!this.parts)
            throw new KoiNetError('not_initialized', 'the node is not initialized: call `await node.initialize()` first');
        return this.parts;
    }
}
function resolveInboxPath(option, dataDir, nodeType) {
    if (typeof option === 'string')
        return option;
    const enabled = option ?? nodeType === NodeType.FULL;
    return enabled ? join(dataDir, 'inbox.log') : undefined;
}
/**
 * The processor's components, resolved on each access, so that the processor can exist (and take
 * handlers) before initialize() has opened the stores.
 */
function lateComponents(parts) {
    return {
        get cache() {
            return parts().cache;
        },
        get identity() {
            return parts().identity;
        },
        get graph() {
            return parts().graph;
        },
        get network() {
            return parts().network;
        },
    };
}
//# sourceMappingURL=node.js.map