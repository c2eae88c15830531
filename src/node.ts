import { join } from 'node:path';
import { Cache, type KnowledgeStore } from './cache/index.ts';
import { NodeIdentity, type IdentityStorage } from './identity/index.ts';
import { Bundle } from './knowledge/index.ts';
import { NetworkGraph } from './graph/index.ts';
import { EventQueues, type EventQueueStore } from './queues/index.ts';
import { NetworkInterface, type NetworkInterfaceOptions, type RetryPolicy } from './network/network-interface.ts';
import { openInboxIntake, type InboxIntake, type InboxLog, type InboxOptions, type InboxSettings, type RecoveryReport } from './inbox/index.ts';
import { RequestHandler, bridgePeerFormat } from './peer/index.ts';
import { ResponseHandler } from './server/operations/fetch-answers.ts';
import type { NodeView, ProtocolMode } from './server/node-view.ts';
import {
  ProcessorInterface,
  defaultHandlers as builtInHandlers,
  type KnowledgeHandler,
  type ProcessorComponents,
  type ProcessorOptions,
} from './processor/index.ts';
import type { EdgeType } from './protocol/index.ts';
import { KoiNetNode, KOI_NET_EDGE_TYPE, KOI_NET_NODE_TYPE, type RIDType, type RID } from './rid/index.ts';
import { KoiNetError } from './errors.ts';
import { silentLogger, type Logger } from './logger.ts';
import { loadOrCreateNodeKey, type NodeKeyPair, type PemStorage } from './secure/index.ts';
import { proposedEdgeBundle } from './behaviours/edge.ts';
import { DataDirLock } from './data-dir-lock.ts';
import { StartupCatchUp, type ProviderCatchUp } from './network/catch-up.ts';
import { firstContactJoinerFor, validateFirstContactRetry, type FirstContactJoiner, type FirstContactRetryOptions } from './network/first-contact.ts';
import { errorText } from './util/error-text.ts';
import { startAll, stopAll, type Startable } from './util/lifecycle.ts';
import { withNodeProfileContext, type NodeProfileInput } from './protocol/index.ts';

export type { ProtocolMode } from './server/node-view.ts';

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
  /**
   * Wire format; default `unsigned` (1.0.x). `both` bridges the two networks: the node has a signed
   * node's key and RID, answers each request in its format and calls each peer in its own.
   */
  protocol?: ProtocolMode;
  /** Signed and both modes: the PEM private key, created on first start. Default `<dataDir>/priv_key.pem`. */
  privateKeyPath?: string;
  /** Signed and both modes: encrypts the PEM file (the reference's PRIV_KEY_PASSWORD). Never logged. */
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
   * Default: on for the signed and both protocols, off for unsigned (1.0.x peers never sent it).
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
  /**
   * Keep knowledge, queues, inbox, identity and key there instead of in `dataDir` (e.g.
   * `openPostgresStore(url)` from koi-net's postgres store); the application closes it after finalize().
   */
  store?: NodeStorage;
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
  /** Tuning of the inbox (compaction threshold, checkpoint coalescing, fsync, maxQueued). */
  inboxOptions?: InboxSettings;
  /**
   * Start-up catch-up (koi-net 2.x's sync of `rid_types_of_interest`): once running, the node asks
   * each full node it holds an approved edge from for the manifests of that edge's RID types and
   * takes in what is new or newer. `ridTypes` narrows it (default: every type on those edges);
   * false = off. Default on.
   */
  catchUp?: boolean | { ridTypes?: readonly string[]; batchSize?: number };
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
 *
 * Every running part is a Startable (util/lifecycle.ts): initialize() starts them in order,
 * finalize() stops them in reverse (see runningParts for the order and why).
 */
export class NodeInterface implements NodeView {
  readonly processor: ProcessorInterface;
  readonly firstContact: string | undefined;
  readonly logger: Logger;
  readonly protocol: ProtocolMode;
  private parts: NodeParts | undefined;
  /** The parts started by the last initialize(), stopped by finalize(). */
  private running: Startable[] | undefined;
  private starting: Promise<void> | undefined;
  private finalizing: Promise<void> | undefined;
  private readonly options: NodeInterfaceOptions;
  private recovery: RecoveryReport | undefined;
  private nodeKeyPair: NodeKeyPair | undefined;
  private catchUp: StartupCatchUp | undefined;

  constructor(options: NodeInterfaceOptions) {
    this.options = options;
    this.firstContact = options.firstContact;
    this.protocol = options.protocol ?? 'unsigned';
    if (this.protocol !== 'unsigned' && this.protocol !== 'signed' && this.protocol !== 'both') {
      throw new KoiNetError('invalid_protocol', `protocol must be 'unsigned', 'signed' or 'both', got ${String(this.protocol)}`);
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
    // The node is the processor's components: its getters resolve the parts on each use, so the
    // processor can exist (and take handlers) before initialize() has opened the stores.
    const components: ProcessorComponents = this;
    this.processor = options.processor ? options.processor(components, processorOptions) : new ProcessorInterface(components, processorOptions);
    if (!seedHandlers) for (const handler of options.handlers ?? []) this.processor.addHandler(handler);
  }

  // The parts exist once initialize() ran (README: "their parts exist only once initialize() runs"),
  // and these throw not_initialized before. One line each: they are a table of the parts.
  get cache(): KnowledgeStore { return this.requireParts().cache; }
  get identity(): NodeIdentity { return this.requireParts().identity; }
  get graph(): NetworkGraph { return this.requireParts().graph; }
  get network(): NetworkInterface { return this.requireParts().network; }
  get queues(): EventQueueStore { return this.requireParts().queues; }
  /** The answers to fetch requests the server sends (also `network.responseHandler`, deprecated). */
  get fetchAnswers(): ResponseHandler { return this.requireParts().fetchAnswers; }
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
  /**
   * Resolves with what the start-up catch-up took in from each provider, once it is over (at once
   * when it is off or there was nobody to catch up with).
   */
  caughtUp(): Promise<ProviderCatchUp[]> {
    return this.catchUp?.done() ?? Promise.resolve([]);
  }
  /** What the inbox replayed at the last initialize(); undefined without an inbox. */
  get lastRecovery(): RecoveryReport | undefined {
    return this.recovery;
  }

  /**
   * Processes everything handed to the processor so far. Through the inbox when there is one, so
   * its checkpoint moves past what was processed. The one way the node's queued knowledge is
   * flushed: the server after a broadcast, the inbox replay and finalize() all call it; the
   * processor's fan-out then wakes webhook delivery (delivery/), whose own timers do the retries.
   */
  async settle(): Promise<void> {
    const inbox = this.parts?.inbox;
    if (inbox) await inbox.settle();
    else await this.processor.flushKobjQueue();
  }

  /**
   * Opens the stores, loads or creates the identity, rebuilds the graph, puts this node's own bundle
   * through the pipeline, and, when the node knows no neighbors, introduces it to the first contact.
   */
  initialize(): Promise<void> {
    if (this.parts) return Promise.resolve();
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async start(): Promise<void> {
    const parts = this.runningParts();
    try {
      await startAll(parts);
    } catch (err) {
      // startAll stopped what had started: the node is back to not initialized.
      this.parts = undefined;
      throw err;
    }
    this.running = parts;
    this.finalizing = undefined;
  }

  /** Finishes queued knowledge, tries to deliver queued webhook events, and saves the queues. */
  finalize(): Promise<void> {
    // A start still running (e.g. the first handshake) is let finish, then stopped as a whole.
    if (this.starting) return this.starting.then(() => this.finalize(), () => undefined);
    // Idempotent: a signal handler and an application may both call it.
    if (!this.parts || !this.running) return Promise.resolve();
    const running = this.running;
    this.finalizing ??= stopAll(running).finally(() => {
      if (this.running === running) this.running = undefined;
    });
    return this.finalizing;
  }

  /**
   * The running parts, in start order; stop runs in reverse. The data-dir lock comes first (a second
   * process must change nothing) and goes last. The key pair is loaded before any store opens (a
   * wrong password must leave nothing open). Delivery starts before the pipeline so that, at stop,
   * the pipeline settles first and delivery then offers what that produced to every healthy peer.
   * The first-contact joiner starts last and stops first.
   */
  private runningParts(): Startable[] {
    const o = this.options;
    const dataDir = o.dataDir ?? '.';
    const logger = this.logger;
    // Filled in as the parts start: each one reads what the earlier ones made.
    const made: Partial<NodeParts> = {};
    let lock: DataDirLock | undefined;
    let ownsCache = false;
    let joiner: FirstContactJoiner | undefined;
    let unfollow: (() => void) | undefined;
    const need = <K extends keyof NodeParts>(key: K): NonNullable<NodeParts[K]> => made[key] as NonNullable<NodeParts[K]>;
    return [
      {
        start: async () => {
          if (o.lockDataDir !== false) lock = await DataDirLock.acquire(dataDir);
        },
        stop: async () => {
          await lock?.release();
          lock = undefined;
        },
      },
      {
        start: async () => {
          this.nodeKeyPair =
            this.protocol !== 'unsigned'
              ? await loadOrCreateNodeKey(o.privateKeyPath ?? join(dataDir, 'priv_key.pem'), {
                  passphrase: o.privateKeyPassword,
                  ...(o.store ? { storage: o.store.privateKey } : {}),
                  logger: logger.child({ component: 'identity' }),
                })
              : undefined;
        },
        stop: () => undefined,
      },
      {
        start: async () => {
          ownsCache = o.cache === undefined;
          made.cache = o.cache ?? o.store?.knowledge ?? (await Cache.open(o.cacheDir ?? join(dataDir, 'cache'), { logger: logger.child({ component: 'cache' }) }));
        },
        // A cache the node opened is closed (files synced, index snapshot saved for a fast start);
        // one handed in by the application is only synced, since the application owns it.
        stop: async () => {
          if (ownsCache) await made.cache?.close?.();
          else await made.cache?.sync?.();
          if (made.identity) logger.info({ rid: String(made.identity.rid) }, 'node finalized');
        },
      },
      {
        start: async () => {
          const cache = need('cache');
          made.identity = await NodeIdentity.load({
            name: o.name,
            // --- versions (issue 13): koi-net 2.1's `@context` on our own profile.
            profile: (o.profileContext ?? this.protocol !== 'unsigned') ? withNodeProfileContext(o.profile) : o.profile,
            filePath: o.identityFilePath ?? join(dataDir, 'identity.json'),
            ...(this.nodeKeyPair ? { keyPair: this.nodeKeyPair } : {}),
            ...(o.store ? { storage: o.store.identity } : {}),
            logger,
          });
          made.graph = new NetworkGraph(cache, made.identity.rid, { logger: logger.child({ component: 'graph' }) });
          await made.graph.generate();
          made.fetchAnswers = new ResponseHandler({ cache });
        },
        stop: () => undefined,
      },
      {
        start: async () => {
          const queueOptions = { maxPerPeer: o.maxQueuedEventsPerPeer, logger: logger.child({ component: 'queues' }) };
          made.queues = o.store
            ? await o.store.openQueues(queueOptions)
            : await EventQueues.open(o.queuesFilePath ?? join(dataDir, 'event_queues.json'), queueOptions);
        },
        // A last compact snapshot, and the idle-compaction timer stops.
        stop: () => made.queues?.close(),
      },
      {
        start: () => {
          made.network = this.buildNetwork(need('cache'), need('identity'), need('graph'), need('queues'), need('fetchAnswers'));
        },
        stop: () => undefined,
      },
      {
        // Other processes serving this node from the same store: their node and edge bundles change
        // this process's graph, and their queued webhook events wake this process's delivery.
        start: () => {
          const cache = need('cache');
          const graph = need('graph');
          const network = need('network');
          unfollow = o.store?.follow?.({
            changed: async (rid) => {
              // Only node and edge bundles are the graph's; the rest needs no read.
              if (!rid.startsWith(`${String(KOI_NET_NODE_TYPE)}:`) && !rid.startsWith(`${String(KOI_NET_EDGE_TYPE)}:`)) return;
              const bundle = await cache.read(rid);
              if (bundle) graph.applyWrite(bundle);
              else graph.applyDelete(rid);
            },
            reloaded: () => graph.generate(),
            queued: () => void network.flushAllWebhookQueues().catch(() => undefined),
          });
        },
        stop: () => {
          unfollow?.();
          unfollow = undefined;
        },
      },
      {
        start: async () => {
          made.inbox = await openInboxIntake({
            inbox: o.inbox,
            dataDir,
            settings: o.inboxOptions,
            processor: this.processor,
            components: { cache: need('cache'), identity: need('identity'), graph: need('graph'), network: need('network') },
            logger: logger.child({ component: 'inbox' }),
            ...(o.store ? { openLog: o.store.openInbox } : {}),
          });
        },
        stop: () => made.inbox?.inbox.close(),
      },
      {
        // The webhook delivery: its retry sweep runs from here on, its loops on demand.
        start: () => need('network').start(),
        stop: async () => {
          const network = need('network');
          try {
            // Peers in backoff are skipped: their events stay queued on disk for the next start.
            await network.flushAllWebhookQueues();
            // Stops the per-peer delivery loops and their timers before the queues close.
            await network.stop();
          } catch (err) {
            logger.warn({ err: errorText(err) }, 'webhook flush at shutdown failed; events stay queued');
          }
        },
      },
      {
        // The pipeline: from here on handlers see the parts.
        start: async () => {
          const parts: NodeParts = { ...(made as Required<Omit<NodeParts, 'inbox'>>), inbox: made.inbox };
          this.parts = parts;
          logger.info({ rid: String(parts.identity.rid), nodeType: parts.identity.profile.node_type }, 'node initialized');
          await this.processor.handle({ bundle: parts.identity.bundle, flush: true });
          if (parts.inbox) {
            // Replayed after our own bundle, so handlers see this node's identity and graph first.
            this.recovery = await parts.inbox.recover();
            void this.settle().catch((err: unknown) => {
              logger.error({ err: errorText(err) }, 'processing the replayed inbox failed');
            });
          }
        },
        stop: () => this.settle(),
      },
      {
        // After the pipeline (the bundles it takes in go through it), in the background.
        start: () => {
          const option = o.catchUp ?? true;
          if (option === false) return;
          this.catchUp = new StartupCatchUp({
            ...(option === true ? {} : option),
            graph: need('graph'),
            cache: need('cache'),
            fetcher: need('network').requestHandler,
            processor: this.processor,
            takes: (provider, bundle) => need('network').takesStateFrom(provider, bundle),
            logger: logger.child({ component: 'catch-up' }),
          });
          this.catchUp.start();
        },
        stop: () => this.catchUp?.stop(),
      },
      {
        // The joiner is a Startable itself; whether there is one is known only at this point.
        start: async () => {
          if (this.firstContact && need('graph').getNeighbors({}).length === 0) {
            joiner = firstContactJoinerFor({
              ...o.firstContactRetry,
              url: this.firstContact,
              node: o.firstContactRid,
              // A bridge with the contact's RID joins in envelopes, without it plainly (a 1.0.x contact).
              signed: this.protocol === 'signed',
              identity: need('identity'),
              graph: need('graph'),
              cache: need('cache'),
              requestHandler: need('network').requestHandler,
              processor: this.processor,
              logger: logger.child({ component: 'first-contact' }),
            });
          }
          await joiner?.start();
        },
        stop: () => joiner?.stop(),
      },
    ];
  }

  private buildNetwork(cache: KnowledgeStore, identity: NodeIdentity, graph: NetworkGraph, queues: EventQueueStore, fetchAnswers: ResponseHandler): NetworkInterface {
    const o = this.options;
    const keyPair = this.nodeKeyPair;
    const firstContactRid = o.firstContactRid ? KoiNetNode.of(o.firstContactRid) : undefined;
    const urlNodes = new Map(o.firstContact && firstContactRid ? [[o.firstContact, firstContactRid]] : []);
    const requestHandler = new RequestHandler({
      graph,
      logger: this.logger.child({ component: 'requests' }),
      timeoutMs: o.requestTimeoutMs,
      signed: keyPair ? { keyPair, self: identity.rid, urlNodes } : undefined,
      // A bridge calls each peer in its own format (peer/peer-format.ts).
      ...(this.protocol === 'both' ? { peerFormat: bridgePeerFormat(urlNodes) } : {}),
    });
    const networkOptions: NetworkInterfaceOptions = {
      cache,
      identity,
      graph,
      queues,
      requestHandler,
      responseHandler: fetchAnswers,
      firstContact: o.firstContact,
      retry: o.retry,
      // Re-flushes queues whose backoff has elapsed, so a peer that was down gets its events when
      // it returns even if nothing new is processed meanwhile.
      retryTickMs: o.retryTickMs ?? 250,
      logger: this.logger.child({ component: 'network' }),
    };
    return o.network ? o.network(networkOptions) : new NetworkInterface(networkOptions);
  }

  /** A PROPOSED edge bundle from `source` (the event provider) to `target` (the subscriber). */
  generateEdgeBundle(source: KoiNetNode | RID, target: KoiNetNode | RID, ridTypes: (RIDType | string)[], edgeType: EdgeType): Bundle {
    return proposedEdgeBundle(source, target, ridTypes.map(String), edgeType, { context: this.options.profileContext ?? this.protocol !== 'unsigned' });
  }

  private requireParts(): NodeParts {
    if (!this.parts) throw new KoiNetError('not_initialized', 'the node is not initialized: call `await node.initialize()` first');
    return this.parts;
  }
}

interface NodeParts {
  cache: KnowledgeStore;
  fetchAnswers: ResponseHandler;
  identity: NodeIdentity;
  graph: NetworkGraph;
  queues: EventQueueStore;
  network: NetworkInterface;
  inbox: InboxIntake | undefined;
}

/** Another backend for everything a node keeps (`openPostgresStore`'s PostgresStore is one). */
export interface NodeStorage {
  knowledge: KnowledgeStore;
  identity: IdentityStorage;
  privateKey: PemStorage;
  openQueues(options: { maxPerPeer?: number | undefined; logger?: Logger }): Promise<EventQueueStore>;
  openInbox(options: InboxOptions): Promise<InboxLog>;
  /**
   * A store shared by several processes tells the node what the others changed (a bundle written
   * or deleted, everything to reload, webhook events queued); returns the unsubscribe.
   */
  follow?(follower: {
    changed(rid: string): void | Promise<void>;
    reloaded(): void | Promise<void>;
    queued(node: string): void;
  }): () => void;
}
