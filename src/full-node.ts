/**
 * A full node: the five KOI-net endpoints wired to a NodeInterface, and a helper that serves them.
 * This is the seed's FastAPI template (broadcast -> handle as external + background flush, poll ->
 * drain the caller's poll queue, fetch -> response handler) on the Express app of src/server.
 */
import type { KoiNetHandlers, SerializedBody } from '../generated/stubs/operations.ts';
import { Event, KnowledgeSource } from './knowledge/index.ts';
import { createKoiNetApp, startServer, withFastPath, type RequestContext, type ServerLimits, type SignedServerOptions } from './server/app.ts';
import type { ServerTimeouts } from './server/timeouts.ts';
import { isContractChecked, rawBodyOf } from './server/checked-body.ts';
import { HttpProblem, badInputDetail, isBadInputError, type ValidationDetailItem } from './server/errors.ts';
import { KoiNetError } from './errors.ts';
import type { KoiNetNode } from './rid/index.ts';
import { DEFAULT_ROOT_PATH, type ResponseBody } from './protocol/index.ts';
import { withPages } from './server/pages/index.ts';
import { SerializedJson } from './server/serialized.ts';
import { Yielder } from './util/slices.ts';
import type { NodeInterface } from './node.ts';
import type { Logger } from './logger.ts';
import { namedErrorText } from './util/error-text.ts';

type BroadcastBody = Parameters<KoiNetHandlers['broadcastEvents']>[0];
type PollBody = Parameters<KoiNetHandlers['pollEvents']>[0];

export interface NodeHandlersOptions {
  /**
   * Requests wait for this before touching the node, so the server can listen before
   * `node.initialize()` finishes (peers answering our first-contact handshake are then served).
   */
  ready?: Promise<void>;
  logger?: Logger;
}

/** The endpoint handlers plus a way to wait for the background flushes they started. */
export interface NodeHandlers extends KoiNetHandlers {
  /** Resolves when every background flush started so far has ended (for shutdown). */
  idle(): Promise<void>;
}

export function createNodeHandlers(node: NodeInterface, options: NodeHandlersOptions = {}): NodeHandlers {
  const logger = options.logger ?? node.logger.child({ component: 'endpoints' });
  const ready = options.ready ?? Promise.resolve();
  const inFlight = new Set<Promise<void>>();
  // A flush already waiting behind the running one covers every event queued meanwhile, so a burst
  // of broadcasts costs at most two flushes instead of one per request.
  let pendingFlush: Promise<void> | undefined;

  const backgroundFlush = (): void => {
    if (pendingFlush) return;
    const running = [...inFlight];
    const task: Promise<void> = Promise.allSettled(running)
      .then(async () => {
        pendingFlush = undefined;
        // Through the inbox, the flush also moves its checkpoint past what it processed.
        const inbox = node.inbox;
        if (inbox) await inbox.settle();
        else await node.processor.flushKobjQueue();
      })
      .catch((err: unknown) => {
        logger.error({ err: namedErrorText(err) }, 'background flush of broadcast events failed');
      })
      .finally(() => {
        inFlight.delete(task);
      });
    pendingFlush = task;
    inFlight.add(task);
  };

  return {
    async broadcastEvents(body: BroadcastBody, context: RequestContext = {}) {
      await ready;
      const wires = body.events;
      logger.debug({ count: wires.length }, 'events broadcast to this node');
      // The app checked the body against the contract already; a body from anywhere else is checked here.
      const checked = isContractChecked(body);
      // All or nothing, as the reference's request validation: a 200 must mean every event was
      // taken, so one event that cannot be read refuses the request before anything is applied.
      const events: Event[] = [];
      const refused: ValidationDetailItem[] = [];
      // Reading a raised-limit batch (100k events) takes about a second: slice it so other
      // requests are answered meanwhile.
      const yielder = new Yielder();
      for (let i = 0; i < wires.length; i++) {
        const pause = yielder.maybeYield();
        if (pause) await pause;
        try {
          events.push(checked ? Event.fromValidJSON(wires[i]) : Event.fromJSON(wires[i]));
        } catch (err) {
          refused.push(refusedEventDetail(i, err));
        }
      }
      if (refused.length > 0) {
        logger.info({ refused: refused.map((r) => r.loc[2]), count: wires.length, reason: refused[0]!.msg }, 'refused a broadcast: an event cannot be taken');
        throw HttpProblem.validation(refused);
      }
      const inbox = node.inbox;
      if (inbox) {
        // The 200 waits for the batch to be in the inbox log: acknowledged means recoverable.
        await inbox.accept(events, wires, rawBodyOf(body));
      } else {
        for (const event of events) {
          try {
            // Signed mode knows the sender, so the processor can avoid echoing events back to it.
            await node.processor.handle({ event, source: KnowledgeSource.EXTERNAL, ...(context.sourceNode ? { sourceNode: context.sourceNode } : {}) });
          } catch (err) {
            logger.warn({ err: namedErrorText(err), rid: String(event.rid) }, 'dropped a broadcast event');
          }
        }
      }
      backgroundFlush();
      return null;
    },

    async pollEvents(body: PollBody) {
      await ready;
      const { rid, limit } = body;
      const events = await node.network.flushPollQueue(rid, limit ?? 0);
      return { events: events.map((e) => e.toJSON()) };
    },

    // Unsigned answers go out as JSON text the response handler keeps or passes on from the
    // cache files; signed ones are objects, since the envelope is signed over their serialization.
    async fetchRids(body) {
      await ready;
      const responder = node.network.responseHandler;
      if (node.protocol === 'signed') return responder.fetchRids(body);
      return serialized<'fetchRids'>(responder.fetchRidsJson(body));
    },

    async fetchManifests(body) {
      await ready;
      const responder = node.network.responseHandler;
      if (node.protocol === 'signed') return responder.fetchManifests(body);
      return serialized<'fetchManifests'>(await responder.fetchManifestsJson(body));
    },

    async fetchBundles(body, context: RequestContext = {}) {
      await ready;
      const responder = node.network.responseHandler;
      if (node.protocol === 'signed') return responder.fetchBundles(body);
      const legacyManifestsField = context.withoutContentType === true;
      return serialized<'fetchBundles'>(await responder.fetchBundlesJson(body, { legacyManifestsField }));
    },

    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

export interface StartFullNodeOptions {
  host: string;
  /** 0 = any free port; the profile's base_url must then be known some other way. */
  port: number;
  /** Default `/koi-net`. */
  rootPath?: string;
  /** Largest accepted request body, express notation (`1mb`). */
  bodyLimit?: string;
  /** Check our own answers against the contract (tests). */
  validateResponses?: boolean;
  /** Events per broadcast, RIDs per fetch, events per poll answer (docs/SECURITY.md). */
  limits?: Partial<ServerLimits>;
  /** Header, request and keep-alive timeouts of the HTTP server (docs/SECURITY.md). */
  timeouts?: Partial<ServerTimeouts>;
  logger?: Logger;
}

export interface RunningFullNode {
  /** The server's base URL, e.g. `http://127.0.0.1:8000/koi-net`. */
  url: string;
  port: number;
  /** Stops accepting requests and waits for background flushes; does not finalize the node. */
  close(): Promise<void>;
}

/**
 * Serves `node` and initializes it if needed. The server listens first and requests wait until
 * initialization ends, so a first contact that answers our handshake at once is not refused.
 */
export async function startFullNode(node: NodeInterface, options: StartFullNodeOptions): Promise<RunningFullNode> {
  const logger = options.logger ?? node.logger.child({ component: 'server' });
  let markReady!: () => void;
  let markFailed!: (err: unknown) => void;
  const ready = new Promise<void>((res, rej) => {
    markReady = res;
    markFailed = rej;
  });
  // Requests racing a failed start see the error; nobody else awaits `ready` in that case.
  ready.catch(() => {});
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
  // Valid fetches are answered before the pages' host app and express see them (withFastPath).
  const server = await startServer(withFastPath(app, withPages(app, node, { rootPath, logger })), { host: options.host, port: options.port, ...(options.timeouts ? { timeouts: options.timeouts } : {}) });
  try {
    if (!node.initialized) await node.initialize();
    markReady();
  } catch (err) {
    markFailed(err);
    await server.close();
    throw err;
  }
  const url = server.url + (rootPath === '/' ? '' : rootPath.replace(/\/+$/, ''));
  logger.info({ url }, 'full node listening');
  let closing: Promise<void> | undefined;
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
function signedServerOptions(node: NodeInterface, ready: Promise<void>): SignedServerOptions {
  return {
    ready,
    self: () => node.identity.rid,
    keyPair: () => {
      const keyPair = node.keyPair;
      if (!keyPair) throw new Error('signed node without a key pair');
      return keyPair;
    },
    // The cache, as the reference's SecureManager reads it: the graph is derived from it and may lag.
    lookup: async (sender: KoiNetNode) => {
      const bundle = await node.cache.read(sender);
      if (!bundle) return { known: false, publicKeyDerB64: undefined };
      const key = bundle.contents['public_key'];
      return { known: true, publicKeyDerB64: typeof key === 'string' ? key : undefined };
    },
  };
}

/** The server sends a SerializedJson as it is; `Op` names the answer body it is the JSON of. */
function serialized<Op extends 'fetchRids' | 'fetchManifests' | 'fetchBundles'>(text: Buffer): SerializedBody<ResponseBody<Op>> {
  return new SerializedJson(text);
}


/** Event `i` of a broadcast named in FastAPI's shape, with the reason it cannot be taken. */
function refusedEventDetail(i: number, err: unknown): ValidationDetailItem {
  if (err instanceof KoiNetError && isBadInputError(err)) {
    const [first] = badInputDetail(err);
    if (first) return { ...first, loc: ['body', 'events', i, ...first.loc.slice(1)] };
  }
  // Anything else (e.g. a stack overflow on a value the server's checks let through) is still
  // about this event's input: a 422 naming it, never a 200 that dropped it.
  return { type: 'value_error', loc: ['body', 'events', i], msg: `Value error, ${namedErrorText(err)}` };
}
