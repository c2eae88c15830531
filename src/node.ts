import { join } from 'node:path';
import { Cache, type KnowledgeStore } from './cache/index.ts';
import { NodeIdentity } from './identity/index.ts';
import { Bundle } from './knowledge/index.ts';
import { NetworkGraph } from './network/graph.ts';
import { EventQueues } from './network/queues.ts';
import { NetworkInterface, type NetworkInterfaceOptions, type RetryPolicy } from './network/network-interface.ts';
import { Inbox, InboxIntake, createInboxMarkHandler, type InboxOptions, type RecoveryReport } from './inbox/index.ts';
import { RequestHandler } from './network/request-handler.ts';
import { ResponseHandler } from './network/response-handler.ts';
import {
  ProcessorInterface,
  defaultHandlers as builtInHandlers,
  type KnowledgeHandler,
  type ProcessorComponents,
  type ProcessorOptions,
} from './processor/index.ts';
import { NodeType, type EdgeType } from './protocol/index.ts';
import { KoiNetNode, type RIDType, type RID } from './rid/index.ts';
import { KoiNetError } from './errors.ts';
import { silentLogger, type Logger } from './logger.ts';
import { loadOrCreateNodeKey, type NodeKeyPair } from './secure/index.ts';
import { proposedEdgeBundle } from './behaviours/edge.ts';
import { DataDirLock } from './data-dir-lock.ts';
import { FirstContactJoiner, validateFirstContactRetry, type FirstContactRetryOptions } from './network/first-contact.ts';
import { errorText } from './util/error-text.ts';
import { withNodeProfileContext, type NodeProfileInput } from './protocol/index.ts';

/** `unsigned`: the 1.0.x wire format (default). `signed`: koi-net 1.1+/2.x signed envelopes. */
export type ProtocolMode = 'unsigned' | 'signed';

export interface NodeInterfaceOptions {
  /** Used for the node RID on first start (`orn:koi-net.node:<name>+<uuid4>`). */
  name: string;
  /** `provides` may be left out ({event: [], state: []}), as in the seed's NodeProfile. */
  profile: NodeProfileInput;
  /** Where identity, cache and queues live; default the working directory. */
  dataDir?: string;
  /**
   * Take the lock of `dataDir` (`<dataDir>/koi-net.lock`) before writing anything there, so a
   * second process on the same directory fails with "data dir D is in use by pid N" (default true).
   */
  lockDataDir?: boolean;
  /** Default `<dataDir>/identity.json`. */
  identityFilePath?: string;
  /** Default `<dataDir>/cache`. */
  cacheDir?: string;
  /** Default `<dataDir>/event_queues.json`. */
  queuesFilePath?: string;
  /** Base URL (…/koi-net) of a full node to introduce ourselves to when we know no neighbors. */
  firstContact?: string;
  /**
   * The first contact's node RID. The signed protocol addresses every envelope to a node RID, so a
   * signed node can only introduce itself to (and poll) a first contact whose RID it knows, as
   * the reference's `first_contact: {rid, url}` config.
   */
  firstContactRid?: string;
  /**
   * Until the node holds an approved edge with a neighbour, the first-contact handshake is retried
   * with exponential backoff and jitter (default 1 s doubling, capped at 30 s).
   */
  firstContactRetry?: FirstContactRetryOptions;
  /** Wire format; default `unsigned` (1.0.x). */
  protocol?: ProtocolMode;
  /** Signed mode: the PEM private key, created on first start. Default `<dataDir>/priv_key.pem`. */
  privateKeyPath?: string;
  /** Signed mode: encrypts the PEM file (the reference's PRIV_KEY_PASSWORD). Never logged. */
  privateKeyPassword?: string;
  /** Extra handlers, registered after the defaults (see `replaceDefaultHandlers`). */
  handlers?: KnowledgeHandler[];
  /**
   * The seed's meaning of `handlers`: the list given replaces the default handlers instead of
   * joining them (an empty or missing list keeps the defaults, as the seed's `if not handlers`).
   */
  replaceDefaultHandlers?: boolean;
  /**
   * koi-net 2.1 profiles: this node's own node and edge profiles carry `@context` first.
   * Default: on for the signed protocol, off for unsigned (1.0.x peers never sent it).
   */
  profileContext?: boolean;
  /** Replace the four default handlers (default: use them). */
  defaultHandlers?: KnowledgeHandler[];
  /**
   * Build the network interface yourself (e.g. a subclass), from the parts the node made. The
   * seed's `network=` argument; a factory because those parts exist only once initialize() runs.
   */
  network?: (options: NetworkInterfaceOptions) => NetworkInterface;
  /**
   * Build the processor yourself (e.g. a subclass). The seed's `processor=` argument; `components`
   * resolve on use, so the processor can take handlers before initialize().
   */
  processor?: (components: ProcessorComponents, options: ProcessorOptions) => ProcessorInterface;
  /** A ready store to use instead of the file cache. */
  cache?: KnowledgeStore;
  /** Timeout of each outgoing request. */
  requestTimeoutMs?: number;
  /** Cap of each per-peer event queue. */
  maxQueuedEventsPerPeer?: number;
  /**
   * Durable inbox of accepted broadcasts (docs/RELIABILITY.md): true = `<dataDir>/inbox.log`, a
   * string = that path, false = none. Default: on for FULL nodes (they are the ones that answer
   * broadcasts), off for PARTIAL nodes.
   */
  inbox?: boolean | string;
  /** Tuning of the inbox (compaction threshold, checkpoint coalescing, fsync). */
  inboxOptions?: Omit<InboxOptions, 'logger'> & {
    /** Processor queue depth at which broadcasts wait before they are logged (InboxIntake's maxQueued). */
    maxQueued?: number;
  };
  /** Backoff of failed webhook deliveries. */
  retry?: Partial<RetryPolicy>;
  /** How often queues whose backoff has elapsed are flushed again (default 250 ms; 0 = never). */
  retryTickMs?: number;
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
  private finalizing: Promise<void> | undefined;
  private readonly options: NodeInterfaceOptions;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryTick: Promise<void> | undefined;
  private recovery: RecoveryReport | undefined;
  private ownsCache = false;
  private nodeKeyPair: NodeKeyPair | undefined;
  private dataDirLock: DataDirLock | undefined;
  private joiner: FirstContactJoiner | undefined;
  readonly protocol: ProtocolMode;

  constructor(options: NodeInterfaceOptions) {
    this.options = options;
    this.firstContact = options.firstContact;
    this.protocol = options.protocol ?? 'unsigned';
    if (this.protocol !== 'unsigned' && this.protocol !== 'signed') {
      throw new KoiNetError('invalid_protocol', `protocol must be 'unsigned' or 'signed', got ${String(this.protocol)}`);
    }
    this.logger = options.logger ?? silentLogger;
    // Checked here so a bad value fails the construction, not a retry minutes later.
    validateFirstContactRetry(options.firstContactRetry);
    // --- versions (issue 13): the seed's `handlers` replace the defaults when asked to.
    const seedHandlers = options.replaceDefaultHandlers === true && (options.handlers?.length ?? 0) > 0;
    const processorOptions: ProcessorOptions = {
      defaultHandlers: seedHandlers ? options.handlers! : (options.defaultHandlers ?? builtInHandlers),
      logger: this.logger.child({ component: 'processor' }),
    };
    const components = lateComponents(() => this.requireParts());
    this.processor = options.processor ? options.processor(components, processorOptions) : new ProcessorInterface(components, processorOptions);
    // Before application handlers, so they never see the inbox's progress markers.
    this.processor.addHandler(createInboxMarkHandler((seq) => this.parts?.inbox?.markDone(seq)));
    if (!seedHandlers) for (const handler of options.handlers ?? []) this.processor.addHandler(handler);
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
  /** Signed mode: this node's key pair (undefined in unsigned mode). */
  get keyPair(): NodeKeyPair | undefined {
    this.requireParts();
    return this.nodeKeyPair;
  }
  get initialized(): boolean {
    return this.parts !== undefined;
  }
  /** The durable inbox, when enabled; endpoints accept broadcasts through it. */
  get inbox(): InboxIntake | undefined {
    return this.requireParts().inbox;
  }
  /** What the inbox replayed at the last initialize(); undefined without an inbox. */
  get lastRecovery(): RecoveryReport | undefined {
    return this.recovery;
  }

  /**
   * Opens the stores, loads or creates the identity, rebuilds the graph, puts this node's own bundle
   * through the pipeline, and, when the node knows no neighbors, introduces it to the first contact.
   */
  async initialize(): Promise<void> {
    if (this.parts) return;
    const o = this.options;
    const dataDir = o.dataDir ?? '.';
    // Before anything in the directory is read or written: a second process must change nothing.
    if (o.lockDataDir !== false && !this.dataDirLock) this.dataDirLock = await DataDirLock.acquire(dataDir);
    try {
      await this.open(o, dataDir);
    } catch (err) {
      await this.releaseLock();
      throw err;
    }
  }

  private async releaseLock(): Promise<void> {
    const lock = this.dataDirLock;
    this.dataDirLock = undefined;
    await lock?.release();
  }

  private async open(o: NodeInterfaceOptions, dataDir: string): Promise<void> {
    const logger = this.logger;
    // Before opening anything: a wrong password must fail the start without leaving stores open.
    const keyPair =
      this.protocol === 'signed'
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
      // --- versions (issue 13): koi-net 2.1's `@context` on our own profile.
      profile: (o.profileContext ?? this.protocol === 'signed') ? withNodeProfileContext(o.profile) : o.profile,
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
    const networkOptions: NetworkInterfaceOptions = {
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
    let inbox: InboxIntake | undefined;
    if (inboxPath !== undefined) {
      const inboxLogger = logger.child({ component: 'inbox' });
      inbox = new InboxIntake({
        inbox: await Inbox.open(inboxPath, {
          ...o.inboxOptions,
          logger: inboxLogger,
          // The checkpoint may pass a batch only once its cache files are on disk (write-behind).
          ...(cache.sync ? { beforeCheckpoint: () => cache.sync!() } : {}),
        }),
        processor: this.processor,
        components: { cache, identity, graph, network },
        ...(o.inboxOptions?.maxQueued !== undefined ? { maxQueued: o.inboxOptions.maxQueued } : {}),
        logger: inboxLogger,
      });
    }
    this.parts = { cache, identity, graph, queues, network, inbox };
    logger.info({ rid: String(identity.rid), nodeType: identity.profile.node_type }, 'node initialized');

    await this.processor.handle({ bundle: identity.bundle, flush: true });
    if (inbox) {
      // Replayed after our own bundle, so handlers see this node's identity and graph first.
      this.recovery = await inbox.recover();
      void inbox.settle().catch((err: unknown) => {
        logger.error({ err: errorText(err) }, 'processing the replayed inbox failed');
      });
    }
    this.startRetryTimer(o.retryTickMs ?? 250);

    if (this.firstContact && graph.getNeighbors({}).length === 0) {
      await this.introduceToFirstContact(this.firstContact);
    }
  }

  /** Finishes queued knowledge, tries to deliver queued webhook events, and saves the queues. */
  finalize(): Promise<void> {
    // Idempotent: a signal handler and an application may both call it.
    if (!this.parts) return Promise.resolve();
    this.finalizing ??= this.doFinalize();
    return this.finalizing;
  }

  private async doFinalize(): Promise<void> {
    try {
      await this.closeParts();
    } finally {
      // Also when closing failed (e.g. a full disk): the stores are done with either way.
      await this.releaseLock();
    }
  }

  private async closeParts(): Promise<void> {
    if (!this.parts) return;
    await this.joiner?.stop();
    this.stopRetryTimer();
    await this.retryTick;
    if (this.parts.inbox) await this.parts.inbox.settle();
    else await this.processor.flushKobjQueue();
    try {
      // Peers in backoff are skipped: their events stay queued on disk for the next start.
      await this.parts.network.flushAllWebhookQueues();
      // Stops the per-peer delivery loops and their retry timers before the queues close.
      await this.parts.network.close();
    } catch (err) {
      this.logger.warn({ err: errorText(err) }, 'webhook flush at shutdown failed; events stay queued');
    }
    // close(): a last compact snapshot, and the idle-compaction timer stops.
    await this.parts.queues.close();
    if (this.parts.inbox) await this.parts.inbox.inbox.close();
    // A cache the node opened is closed (files synced, index snapshot saved for a fast start);
    // one handed in by the application is only synced, since the application owns it.
    if (this.ownsCache) await this.parts.cache.close?.();
    else await this.parts.cache.sync?.();
    this.logger.info({ rid: String(this.parts.identity.rid) }, 'node finalized');
  }

  /**
   * Re-flushes webhook queues whose backoff has elapsed, so a peer that was down gets its events
   * when it returns even if nothing new is processed meanwhile. A tick never overlaps the last.
   */
  private startRetryTimer(tickMs: number): void {
    if (tickMs <= 0 || this.retryTimer) return;
    const network = this.requireParts().network;
    this.retryTimer = setInterval(() => {
      if (this.retryTick) return;
      this.retryTick = network
        .flushDueWebhookQueues()
        .catch((err: unknown) => this.logger.warn({ err: errorText(err) }, 'retry flush failed'))
        .finally(() => {
          this.retryTick = undefined;
        });
    }, tickMs);
    // The timer alone must not keep a process alive that has nothing else to do.
    this.retryTimer.unref();
  }

  private stopRetryTimer(): void {
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = undefined;
  }

  /**
   * The handshake of the seed: FORGET ourselves (so a peer holding a stale copy drops it) and then
   * NEW with our bundle, sent straight to the first contact's URL.
   */
  private async introduceToFirstContact(url: string): Promise<void> {
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
  generateEdgeBundle(source: KoiNetNode | RID, target: KoiNetNode | RID, ridTypes: (RIDType | string)[], edgeType: EdgeType): Bundle {
    return proposedEdgeBundle(source, target, ridTypes.map(String), edgeType, { context: this.options.profileContext ?? this.protocol === 'signed' });
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
  inbox: InboxIntake | undefined;
}

function resolveInboxPath(option: boolean | string | undefined, dataDir: string, nodeType: string): string | undefined {
  if (typeof option === 'string') return option;
  const enabled = option ?? nodeType === NodeType.FULL;
  return enabled ? join(dataDir, 'inbox.log') : undefined;
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
