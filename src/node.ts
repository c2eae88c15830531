import { join } from 'node:path';
import { Cache, type KnowledgeStore } from './cache/index.ts';
import { NodeIdentity } from './identity/index.ts';
import { Bundle, Event, EventType } from './knowledge/index.ts';
import { NetworkGraph } from './network/graph.ts';
import { EventQueues } from './network/queues.ts';
import { NetworkInterface } from './network/network-interface.ts';
import { RequestHandler } from './network/request-handler.ts';
import { ResponseHandler } from './network/response-handler.ts';
import { ProcessorInterface, defaultHandlers as builtInHandlers, type KnowledgeHandler } from './processor/index.ts';
import { EdgeStatus, type EdgeType, type EdgeProfile, type NodeProfile } from './protocol/index.ts';
import { KoiNetEdge, RIDType, type KoiNetNode, type RID } from './rid/index.ts';
import { KoiNetError } from './errors.ts';
import { silentLogger, type Logger } from './logger.ts';

export interface NodeInterfaceOptions {
  /** Used for the node RID on first start (`orn:koi-net.node:<name>+<uuid4>`). */
  name: string;
  profile: NodeProfile;
  /** Where identity, cache and queues live; default the working directory. */
  dataDir?: string;
  /** Default `<dataDir>/identity.json`. */
  identityFilePath?: string;
  /** Default `<dataDir>/cache`. */
  cacheDir?: string;
  /** Default `<dataDir>/event_queues.json`. */
  queuesFilePath?: string;
  /** Base URL (…/koi-net) of a full node to introduce ourselves to when we know no neighbors. */
  firstContact?: string;
  /** Extra handlers, registered after the defaults. */
  handlers?: KnowledgeHandler[];
  /** Replace the four default handlers (default: use them). */
  defaultHandlers?: KnowledgeHandler[];
  /** A ready store to use instead of the file cache. */
  cache?: KnowledgeStore;
  /** Timeout of each outgoing request. */
  requestTimeoutMs?: number;
  /** Cap of each per-peer event queue. */
  maxQueuedEventsPerPeer?: number;
  logger?: Logger;
}

/**
 * The composition root: builds cache, identity, graph, queues, network and processor, and runs the
 * node's lifecycle. Handlers can be registered on `node.processor` before `initialize()`, as in the
 * seed, because the processor exists from construction; its parts are attached on initialize.
 */
export class NodeInterface {
  readonly processor: ProcessorInterface;
  readonly firstContact: string | undefined;
  readonly logger: Logger;
  private parts: NodeParts | undefined;
  private readonly options: NodeInterfaceOptions;

  constructor(options: NodeInterfaceOptions) {
    this.options = options;
    this.firstContact = options.firstContact;
    this.logger = options.logger ?? silentLogger;
    this.processor = new ProcessorInterface(lateComponents(() => this.requireParts()), {
      defaultHandlers: options.defaultHandlers ?? builtInHandlers,
      logger: this.logger.child({ component: 'processor' }),
    });
    for (const handler of options.handlers ?? []) this.processor.addHandler(handler);
  }

  get cache(): KnowledgeStore {
    return this.requireParts().cache;
  }
  get identity(): NodeIdentity {
    return this.requireParts().identity;
  }
  get graph(): NetworkGraph {
    return this.requireParts().graph;
  }
  get network(): NetworkInterface {
    return this.requireParts().network;
  }
  get queues(): EventQueues {
    return this.requireParts().queues;
  }
  get initialized(): boolean {
    return this.parts !== undefined;
  }

  /**
   * Opens the stores, loads or creates the identity, rebuilds the graph, puts this node's own bundle
   * through the pipeline, and, when the node knows no neighbors, introduces it to the first contact.
   */
  async initialize(): Promise<void> {
    if (this.parts) return;
    const o = this.options;
    const dataDir = o.dataDir ?? '.';
    const logger = this.logger;
    const cache = o.cache ?? (await Cache.open(o.cacheDir ?? join(dataDir, 'cache'), { logger: logger.child({ component: 'cache' }) }));
    const identity = await NodeIdentity.load({
      name: o.name,
      profile: o.profile,
      filePath: o.identityFilePath ?? join(dataDir, 'identity.json'),
      logger,
    });
    const graph = new NetworkGraph(cache, identity.rid, { logger: logger.child({ component: 'graph' }) });
    await graph.generate();
    const queues = await EventQueues.open(o.queuesFilePath ?? join(dataDir, 'event_queues.json'), {
      maxPerPeer: o.maxQueuedEventsPerPeer,
      logger: logger.child({ component: 'queues' }),
    });
    const requestHandler = new RequestHandler({ graph, logger: logger.child({ component: 'requests' }), timeoutMs: o.requestTimeoutMs });
    const responseHandler = new ResponseHandler({ cache });
    const network = new NetworkInterface({
      cache,
      identity,
      graph,
      queues,
      requestHandler,
      responseHandler,
      firstContact: o.firstContact,
      logger: logger.child({ component: 'network' }),
    });
    this.parts = { cache, identity, graph, queues, network };
    logger.info({ rid: String(identity.rid), nodeType: identity.profile.node_type }, 'node initialized');

    await this.processor.handle({ bundle: identity.bundle, flush: true });

    if (this.firstContact && graph.getNeighbors({}).length === 0) {
      await this.introduceToFirstContact(this.firstContact);
    }
  }

  /** Finishes queued knowledge, tries to deliver queued webhook events, and saves the queues. */
  async finalize(): Promise<void> {
    if (!this.parts) return;
    await this.processor.flushKobjQueue();
    try {
      await this.parts.network.flushAllWebhookQueues();
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'webhook flush at shutdown failed; events stay queued');
    }
    await this.parts.queues.persist();
    this.logger.info({ rid: String(this.parts.identity.rid) }, 'node finalized');
  }

  /**
   * The handshake of the seed: FORGET ourselves (so a peer holding a stale copy drops it) and then
   * NEW with our bundle, sent straight to the first contact's URL.
   */
  private async introduceToFirstContact(url: string): Promise<void> {
    const { identity, network } = this.requireParts();
    const events = [Event.fromRid(identity.rid, EventType.FORGET), Event.fromBundle(identity.bundle, EventType.NEW)];
    try {
      await network.requestHandler.broadcastEvents({ url }, { events });
      this.logger.info({ firstContact: url }, 'introduced this node to its first contact');
    } catch (err) {
      this.logger.warn({ firstContact: url, err: String(err) }, 'first contact unreachable; will retry on the next poll or restart');
    }
  }

  /** A PROPOSED edge bundle from `source` (the event provider) to `target` (the subscriber). */
  generateEdgeBundle(source: KoiNetNode | RID, target: KoiNetNode | RID, ridTypes: (RIDType | string)[], edgeType: EdgeType): Bundle {
    const profile: EdgeProfile = {
      source: String(source),
      target: String(target),
      edge_type: edgeType,
      status: EdgeStatus.PROPOSED,
      rid_types: ridTypes.map((t) => String(RIDType.of(t))),
    };
    return Bundle.generate(KoiNetEdge.generate(source, target), profile as unknown as Record<string, unknown>);
  }

  private requireParts(): NodeParts {
    if (!this.parts) throw new KoiNetError('not_initialized', 'the node is not initialized: call `await node.initialize()` first');
    return this.parts;
  }
}

interface NodeParts {
  cache: KnowledgeStore;
  identity: NodeIdentity;
  graph: NetworkGraph;
  queues: EventQueues;
  network: NetworkInterface;
}

/**
 * The processor's components, resolved on each access, so that the processor can exist (and take
 * handlers) before initialize() has opened the stores.
 */
function lateComponents(parts: () => NodeParts): ConstructorParameters<typeof ProcessorInterface>[0] {
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
