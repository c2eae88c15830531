import { Event, KnowledgeSource } from "./knowledge/index.js";
import { createKoiNetApp, startServer } from "./server/app.js";
import { HttpProblem, badInputDetail, isBadInputError } from "./server/errors.js";
import { KoiNetError } from "./errors.js";
import { DEFAULT_ROOT_PATH } from "./protocol/index.js";
import { withPages } from "./server/pages/index.js";
import { Yielder } from "./util/slices.js";
export function createNodeHandlers(node, options = {}) {
    const logger = options.logger ?? node.logger.child({ component: 'endpoints' });
    const ready = options.ready ?? Promise.resolve();
    const inFlight = new Set();
    // A flush already waiting behind the running one covers every event queued meanwhile, so a burst
    // of broadcasts costs at most two flushes instead of one per request.
    let pendingFlush;
    const backgroundFlush = () => {
        if (pendingFlush)
            return;
        const running = [...inFlight];
        const task = Promise.allSettled(running)
            .then(async () => {
            pendingFlush = undefined;
            // Through the inbox, the flush also moves its checkpoint past what it processed.
            const inbox = node.inbox;
            if (inbox)
                await inbox.settle();
            else
                await node.processor.flushKobjQueue();
        })
            .catch((err) => {
            logger.error({ err: errorText(err) }, 'background flush of broadcast events failed');
        })
            .finally(() => {
            inFlight.delete(task);
        });
        pendingFlush = task;
        inFlight.add(task);
    };
    return {
        async broadcastEvents(body, context = {}) {
            await ready;
            const wires = body.events;
            logger.debug({ count: wires.length }, 'events broadcast to this node');
            // All or nothing, as the reference's request validation: a 200 must mean every event was
            // taken, so one event that cannot be read refuses the request before anything is applied.
            const events = [];
            const refused = [];
            // Reading a raised-limit batch (100k events) takes about a second: slice it so other
            // requests are answered meanwhile.
            const yielder = new Yielder();
            for (let i = 0; i < wires.length; i++) {
                const pause = yielder.maybeYield();
                if (pause)
                    await pause;
                try {
                    events.push(Event.fromJSON(wires[i]));
                }
                catch (err) {
                    refused.push(refusedEventDetail(i, err));
                }
            }
            if (refused.length > 0) {
                logger.info({ refused: refused.map((r) => r.loc[2]), count: wires.length, reason: refused[0].msg }, 'refused a broadcast: an event cannot be taken');
                throw HttpProblem.validation(refused);
            }
            const inbox = node.inbox;
            if (inbox) {
                // The 200 waits for the batch to be in the inbox log: acknowledged means recoverable.
                await inbox.accept(events, wires);
            }
            else {
                for (const event of events) {
                    try {
                        // Signed mode knows the sender, so the processor can avoid echoing events back to it.
                        await node.processor.handle({ event, source: KnowledgeSource.EXTERNAL, ...(context.sourceNode ? { sourceNode: context.sourceNode } : {}) });
                    }
                    catch (err) {
                        logger.warn({ err: errorText(err), rid: String(event.rid) }, 'dropped a broadcast event');
                    }
                }
            }
            backgroundFlush();
            return null;
        },
        async pollEvents(body) {
            await ready;
            const { rid, limit } = body;
            const events = await node.network.flushPollQueue(rid, limit ?? 0);
            return { events: events.map((e) => e.toJSON()) };
        },
        async fetchRids(body) {
            await ready;
            return node.network.responseHandler.fetchRids(body);
        },
        async fetchManifests(body) {
            await ready;
            return node.network.responseHandler.fetchManifests(body);
        },
        async fetchBundles(body) {
            await ready;
            return node.network.responseHandler.fetchBundles(body);
        },
        async idle() {
            while (inFlight.size > 0)
                await Promise.allSettled([...inFlight]);
        },
    };
}
/**
 * Serves `node` and initializes it if needed. The server listens first and requests wait until
 * initialization ends, so a first contact that answers our handshake at once is not refused.
 */
export async function startFullNode(node, options) {
    const logger = options.logger ?? node.logger.child({ component: 'server' });
    let markReady;
    let markFailed;
    const ready = new Promise((res, rej) => {
        markReady = res;
        markFailed = rej;
    });
    // Requests racing a failed start see the error; nobody else awaits `ready` in that case.
    ready.catch(() => { });
    const handlers = createNodeHandlers(node, { ready, logger: logger.child({ component: 'endpoints' }) });
    const { idle, ...endpoints } = handlers;
    const rootPath = options.rootPath ?? DEFAULT_ROOT_PATH;
    const app = createKoiNetApp({
        handlers: endpoints,
        rootPath,
        bodyLimit: options.bodyLimit,
        validateResponses: options.validateResponses,
        limits: options.limits,
        logger,
        ...(node.protocol === 'signed' ? { signed: signedServerOptions(node, ready) } : {}),
    });
    const server = await startServer(withPages(app, node, { rootPath, logger }), { host: options.host, port: options.port, ...(options.timeouts ? { timeouts: options.timeouts } : {}) });
    try {
        if (!node.initialized)
            await node.initialize();
        markReady();
    }
    catch (err) {
        markFailed(err);
        await server.close();
        throw err;
    }
    const url = server.url + (rootPath === '/' ? '' : rootPath.replace(/\/+$/, ''));
    logger.info({ url }, 'full node listening');
    let closing;
    return {
        url,
        port: server.port,
        close() {
            closing ??= (async () => {
                await server.close();
                await idle();
            })();
            return closing;
        },
    };
}
/** The server's view of the node for opening envelopes; valid once `ready` resolved. */
function signedServerOptions(node, ready) {
    return {
        ready,
        self: () => node.identity.rid,
        keyPair: () => {
            const keyPair = node.keyPair;
            if (!keyPair)
                throw new Error('signed node without a key pair');
            return keyPair;
        },
        // The cache, as the reference's SecureManager reads it: the graph is derived from it and may lag.
        lookup: async (sender) => {
            const bundle = await node.cache.read(sender);
            if (!bundle)
                return { known: false, publicKeyDerB64: undefined };
            const key = bundle.contents['public_key'];
            return { known: true, publicKeyDerB64: typeof key === 'string' ? key : undefined };
        },
    };
}
function errorText(err) {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
/** Event `i` of a broadcast named in FastAPI's shape, with the reason it cannot be taken. */
function refusedEventDetail(i, err) {
    if (err instanceof KoiNetError && isBadInputError(err)) {
        const [first] = badInputDetail(err);
        if (first)
            return { ...first, loc: ['body', 'events', i, ...first.loc.slice(1)] };
    }
    // Anything else (e.g. a stack overflow on a value the server's checks let through) is still
    // about this event's input: a 422 naming it, never a 200 that dropped it.
    return { type: 'value_error', loc: ['body', 'events', i], msg: `Value error, ${errorText(err)}` };
}
//# sourceMappingURL=full-node.js.map