import { join } from 'node:path';
import { Cache, type KnowledgeStore } from './cache/index.ts';
import { NodeIdentity } from './identity/index.ts';
import { Bundle } from './knowledge/index.ts';
import { NetworkGraph } from './graph/index.ts';
import { EventQueues, type EventQueueStore } from './queues/index.ts';
import { NetworkInterface, type NetworkInterfaceOptions } from './network/network-interface.ts';
import { openInboxIntake, type InboxIntake, type RecoveryReport } from './inbox/index.ts';
import { RequestHandler, bridgePeerFormat } from './peer/index.ts';
import { ResponseHandler } from './server/operations/fetch-answers.ts';
import type { NodeView, ProtocolMode } from './server/node-view.ts';
import {
  ProcessorInterface,
  defaultHandlers as builtInHandlers,
  type ProcessorComponents,
  type ProcessorOptions,
} from './processor/index.ts';
import type { EdgeType } from './protocol/index.ts';
import { KoiNetNode, KOI_NET_EDGE_TYPE, KOI_NET_NODE_TYPE, type RIDType, type RID } from './rid/index.ts';
import { KoiNetError } from './errors.ts';
import { silentLogger, type Logger } from './logger.ts';
import { loadOrCreateNodeKey, type NodeKeyPair } from './secure/index.ts';
import { proposedEdgeBundle } from './behaviours/edge.ts';
import { DataDirLock } from './data-dir-lock.ts';
import { StartupCatchUp, type ProviderCatchUp } from './network/catch-up.ts';
import { firstContactJoinerFor, validateFirstContactRetry, type FirstContactJoiner } from './network/first-contact.ts';
import { errorText } from './util/error-text.ts';
import { startAll, stopAll, type Startable } from './util/lifecycle.ts';
import { withNodeProfileContext } from './protocol/index.ts';

export type { ProtocolMode } from './server/node-view.ts';
import type { NodeInterfaceOptions } from './node-options.ts';
export type { NodeInterfaceOptions, NodeStorage } from './node-options.ts';


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
