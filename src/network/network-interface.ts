import { KoiNetNode, RID, RIDType, KOI_NET_NODE_TYPE } from '../rid/index.ts';
import { Event, EventType, type Bundle, type Manifest } from '../knowledge/index.ts';
import type { KnowledgeStore } from '../cache/index.ts';
import { NodeType } from '../protocol/index.ts';
import type { BundlesPayload, FetchBundles, FetchManifests, FetchRids, ManifestsPayload, NodeProfile, RidsPayload } from '../protocol/index.ts';
import { KoiNetError } from '../errors.ts';
import { debugEnabled, silentLogger, type Logger } from '../logger.ts';
import type { NetworkGraph } from '../graph/index.ts';
import type { EventQueueStore } from '../queues/index.ts';
import { RequestHandler } from '../peer/index.ts';
import { WebhookDelivery } from '../delivery/webhook-delivery.ts';
import { chooseQueue, pollTargets, toNodeRid, withheldFrom, type QueueKind } from '../delivery/targets.ts';
import { RouteCache } from '../delivery/routes.ts';
import type { RetryPolicy } from '../delivery/retry-policy.ts';
import type { PeerDeliveryStats } from '../delivery/peer-stats.ts';
import type { Startable } from '../util/lifecycle.ts';
import { isKeyBoundNodeRid, unsignedEventRefusal } from '../secure/unsigned-trust.ts';
import { errorText } from '../util/error-text.ts';

// Kept importable from here, where they were before delivery/ existed.
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../delivery/retry-policy.ts';
export { MAX_EVENTS_PER_DELIVERY } from '../delivery/webhook-delivery.ts';
export { refusedEventIndexes } from '../delivery/refused-events.ts';
export type { PeerDeliveryStats } from '../delivery/peer-stats.ts';
export type { QueueKind } from '../delivery/targets.ts';

/** The three fetch answers over the local cache, as the deprecated `network.responseHandler` offers them. */
export interface FetchAnswers {
  fetchRids(req?: Partial<FetchRids>): Promise<RidsPayload>;
  fetchManifests(req?: Partial<FetchManifests>): Promise<ManifestsPayload>;
  fetchBundles(req: FetchBundles): Promise<BundlesPayload>;
}

const notGiven = (): Promise<never> =>
  Promise.reject(
    new KoiNetError('not_configured', 'this NetworkInterface was built without fetch answers: pass options.responseHandler (a node passes node.fetchAnswers)'),
  );
const NO_FETCH_ANSWERS: FetchAnswers = { fetchRids: notGiven, fetchManifests: notGiven, fetchBundles: notGiven };

export interface NetworkInterfaceOptions {
  cache: KnowledgeStore;
  identity: { rid: KoiNetNode; profile: NodeProfile };
  graph: NetworkGraph;
  queues: EventQueueStore;
  /** Default: one on `graph` with default timeout. */
  requestHandler?: RequestHandler;
  /**
   * The node's fetch answers (server/operations/fetch-answers.ts), kept reachable as the deprecated
   * `responseHandler`. Passed in rather than made here, so that network/ never reaches up to the server.
   */
  responseHandler?: FetchAnswers;
  /** Base URL (…/koi-net) polled while this node has no neighbor to poll. */
  firstContact?: string | undefined;
  /** Backoff of webhook deliveries that failed (see RetryPolicy). */
  retry?: Partial<RetryPolicy>;
  /**
   * Between start() and stop(), how often every due webhook queue is woken again (default 0 =
   * never; NodeInterface passes its `retryTickMs`). Each peer's backoff timer wakes it anyway.
   */
  retryTickMs?: number;
  logger?: Logger;
}

/** A polled event and where it came from: the neighbor's node RID, or the first-contact URL. */
export interface SourcedEvent {
  event: Event;
  source: string;
}

/**
 * High-level network actions of a node (the seed's NetworkInterface): queueing events for peers,
 * delivering webhook queues, polling neighbors, and fetching state from providers. Remote failures
 * never escape as exceptions from the delivery and fetch helpers: a peer that is down, answers an
 * error, or answers garbage is logged and skipped, because one bad peer must not stop the node.
 */
export class NetworkInterface implements Startable {
  readonly cache: KnowledgeStore;
  readonly identity: { rid: KoiNetNode; profile: NodeProfile };
  readonly graph: NetworkGraph;
  readonly queues: EventQueueStore;
  readonly requestHandler: RequestHandler;
  /** @deprecated The fetch answers are the server's operations (server/operations/fetch-answers.ts); kept as an alias. */
  readonly responseHandler: FetchAnswers;
  readonly firstContact: string | undefined;
  private readonly logger: Logger;
  /** Webhook delivery: the per-peer loops, their backoff and the retry sweep. */
  readonly delivery: WebhookDelivery;
  /** The target rule's answers per peer, kept until the graph changes (fan-outs ask it per event and peer). */
  private readonly routes: RouteCache;

  constructor(options: NetworkInterfaceOptions) {
    this.cache = options.cache;
    this.identity = options.identity;
    this.graph = options.graph;
    this.queues = options.queues;
    this.logger = options.logger ?? silentLogger;
    this.requestHandler =
      options.requestHandler ?? new RequestHandler({ graph: options.graph, logger: this.logger.child({ component: 'requests' }) });
    this.responseHandler = options.responseHandler ?? NO_FETCH_ANSWERS;
    this.firstContact = options.firstContact;
    this.delivery = new WebhookDelivery({
      self: options.identity.rid,
      cache: options.cache,
      queues: options.queues,
      requests: this.requestHandler,
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.retryTickMs !== undefined ? { sweepMs: options.retryTickMs } : {}),
      logger: this.logger,
    });
    this.routes = new RouteCache(options.graph, options.identity.rid);
  }

  /** Starts the retry sweep (when retryTickMs > 0); delivery loops run on demand without it. */
  start(): void {
    this.delivery.start();
  }

  /** The same as close(). */
  stop(): Promise<void> {
    return this.close();
  }

  /**
   * Queues `event` for `node`. An edge from this node to the target decides the queue by its
   * edge_type; without one, FULL nodes get webhook delivery and PARTIAL nodes poll. A target with
   * neither edge nor known profile cannot be served: the event is dropped with a warning (the
   * reference crashes here). An unsigned node's profile is never queued for a signed peer
   * (withheldFrom, PROTOCOL.md section 9); undefined comes back then too.
   */
  async pushEventTo(event: Event, node: KoiNetNode | string, flush = false): Promise<QueueKind | undefined> {
    const target = toNodeRid(node);
    const kind = this.queueFor(event, target, chooseQueue(this.graph, this.identity.rid, target));
    if (kind === undefined) return undefined;
    if (kind === 'webhook') await this.queues.pushWebhook(target, event);
    else await this.queues.pushPoll(target, event);
    this.logger.debug({ node: String(target), rid: String(event.rid), eventType: event.eventType, queue: kind }, 'queued event');
    if (flush && kind === 'webhook') await this.flushWebhookQueue(target);
    return kind;
  }

  /**
   * A fan-out: `event` queued for each of `nodes` as pushEventTo would (same target rule, same
   * withholding, same warnings), with every queue changed before this returns (so per-peer order
   * is call order) and one promise for the one queue-file write that holds them all. A node that
   * cannot be served is reported to `failed` and costs the others nothing. A subclass that
   * overrides pushEventTo keeps getting one call per node.
   */
  pushEventToMany(event: Event, nodes: Iterable<string>, failed: (node: string, err: unknown) => void): Promise<void> {
    const pushMany = this.queues.pushMany;
    if (this.pushEventTo !== NetworkInterface.prototype.pushEventTo || pushMany === undefined) {
      // Called at once, in order, as the pipeline called them: each push changes its queue before it
      // first waits, so per-peer order stays kobj order.
      const each = [...nodes].map((node) => {
        try {
          return Promise.resolve(this.pushEventTo(event, node)).then(undefined, (err: unknown) => failed(node, err));
        } catch (err) {
          failed(node, err);
          return undefined;
        }
      });
      return Promise.all(each).then(() => undefined);
    }
    // Queue keys are the normalized RID strings, as pushWebhook/pushPoll make them.
    const webhook: string[] = [];
    const poll: string[] = [];
    for (const node of nodes) {
      let target: KoiNetNode;
      let kind: QueueKind | undefined;
      try {
        ({ node: target, kind } = this.routes.route(node));
      } catch (err) {
        failed(node, err);
        continue;
      }
      const queue = this.queueFor(event, target, kind);
      if (queue !== undefined) (queue === 'webhook' ? webhook : poll).push(target.toString());
    }
    if (webhook.length === 0 && poll.length === 0) return Promise.resolve();
    if (debugEnabled(this.logger)) {
      this.logger.debug({ rid: String(event.rid), eventType: event.eventType, webhook, poll }, 'queued event');
    }
    return pushMany.call(this.queues, event, webhook, poll).then(undefined, (err: unknown) => {
      for (const node of [...webhook, ...poll]) failed(node, err);
    });
  }

  /**
   * The queue `event` goes to for `target`, whose queue under the target rule is `kind`; undefined
   * (and logged) when the event is withheld from a signed peer or nobody can serve the target.
   */
  private queueFor(event: Event, target: KoiNetNode, kind: QueueKind | undefined): QueueKind | undefined {
    const withheld = withheldFrom(this.graph, target, event);
    if (withheld !== undefined) {
      this.logger.debug({ node: String(target), rid: String(event.rid), reason: withheld }, 'event withheld from a signed peer');
      return undefined;
    }
    if (kind === undefined) this.logger.warn({ node: String(target), rid: String(event.rid) }, 'event for an unknown node with no edge to it dropped');
    return kind;
  }

  /** Drains `node`'s poll queue (oldest first); limit 0 = everything. */
  async flushPollQueue(node: KoiNetNode | string, limit = 0): Promise<Event[]> {
    return await this.queues.drainPoll(toNodeRid(node), limit);
  }

  /**
   * Sends `node`'s webhook queue to its base_url now, whatever its backoff (an explicit request).
   * Resolves with the outcome of one delivery attempt that starts after this call: true when the
   * queue was delivered (or empty). On a failure the batch goes back to the front of the queue in
   * its order and the peer's backoff grows. Deliveries of one peer run one at a time in its own
   * loop, so two concurrent flushes can never deliver out of order.
   */
  flushWebhookQueue(node: KoiNetNode | string): Promise<boolean> {
    return this.delivery.flush(node);
  }

  /**
   * Wakes the delivery loop of every peer with queued webhook events that is not backing off, and
   * resolves once each of them has made one delivery attempt that started after this call: so
   * every event queued before the call has been offered to every healthy peer. Peers in backoff
   * are skipped (their own timer wakes them when it ends); an attempt that fails and backs off
   * ends its wait. Each peer's attempt runs in that peer's loop with its own request timeout, so
   * a hung or slow peer can make this promise wait (up to the request timeout) but never delays
   * another peer's events. The processor calls it after every fan-out without waiting on it.
   */
  flushAllWebhookQueues(): Promise<void> {
    return this.delivery.wakeAll();
  }

  /**
   * The same as flushAllWebhookQueues (due peers only). Each peer's loop also has its own retry
   * timer, so a library user without NodeInterface's timer still gets retries.
   */
  flushDueWebhookQueues(): Promise<void> {
    return this.delivery.wakeAll();
  }

  /** Resolves when no webhook delivery attempt is running. */
  deliveriesIdle(): Promise<void> {
    return this.delivery.idle();
  }

  /**
   * Stops the delivery loops (for shutdown): no new attempt starts, backoff timers are cleared, and
   * this resolves once the attempts already running have ended. Undelivered events stay queued.
   */
  close(): Promise<void> {
    return this.delivery.stop();
  }

  /** Per-peer delivery counters, keyed by node RID (peers with a queue or any delivery so far). */
  deliveryStats(): Record<string, PeerDeliveryStats> {
    return this.delivery.stats();
  }

  /** Known FULL nodes (other than this one) whose profile lists `ridType` in provides.state. */
  async getStateProviders(ridType: RIDType | string): Promise<KoiNetNode[]> {
    const wanted = String(ridType);
    const me = this.identity.rid.toString();
    const providers: KoiNetNode[] = [];
    for (const rid of await this.cache.listRids([KOI_NET_NODE_TYPE])) {
      if (rid.toString() === me) continue;
      const profile = this.graph.getNodeProfile(rid.toString());
      if (profile?.node_type !== NodeType.FULL) continue;
      if (!(profile.provides.state ?? []).some((t) => String(t) === wanted)) continue;
      providers.push(toNodeRid(rid));
    }
    return providers;
  }

  /** Asks each state provider of the RID's type in turn; undefined when none has it. */
  fetchRemoteBundle(rid: RID | string): Promise<Bundle | undefined> {
    return this.askStateProviders(RID.of(rid), 'bundle', async (provider, wanted) => {
      const { bundles } = await this.requestHandler.fetchBundles({ node: provider }, { rids: [wanted] });
      return bundles.find((b) => b.rid.equals(wanted));
    });
  }

  /** As fetchRemoteBundle, for the manifest only. */
  fetchRemoteManifest(rid: RID | string): Promise<Manifest | undefined> {
    return this.askStateProviders(RID.of(rid), 'manifest', async (provider, wanted) => {
      const { manifests } = await this.requestHandler.fetchManifests({ node: provider }, { rids: [wanted] });
      return manifests.find((m) => m.rid.equals(wanted));
    });
  }

  /**
   * The answer is matched by RID rather than taking [0] (a confused peer may answer with something
   * else), and a provider that fails is logged and skipped: a peer's garbage never ends the search.
   */
  private async askStateProviders<T>(
    wanted: RID,
    what: 'bundle' | 'manifest',
    ask: (provider: KoiNetNode, wanted: RID) => Promise<T | undefined>,
  ): Promise<T | undefined> {
    for (const provider of await this.getStateProviders(wanted.type)) {
      if (!this.mayVouchFor(provider, wanted)) continue;
      try {
        const found = await ask(provider, wanted);
        if (found) {
          this.logger.debug({ rid: String(wanted), provider: String(provider) }, `fetched remote ${what}`);
          return found;
        }
      } catch (err) {
        this.logger.warn({ rid: String(wanted), provider: String(provider), err: errorText(err) }, `state provider failed to answer a ${what} fetch`);
      }
    }
    this.logger.warn({ rid: String(wanted) }, `no state provider has the ${what}`);
    return undefined;
  }

  private takenFromPlain(event: Event, source: string): boolean {
    const refusal = unsignedEventRefusal(event, this.identity.rid);
    if (refusal !== undefined) this.logger.warn({ source, rid: String(event.rid), eventType: event.eventType, reason: refusal }, 'ignored an event of an unsigned poll answer');
    return refusal === undefined;
  }

  /**
   * A bridge (a node with a key that also talks to unsigned peers) takes a signed node's bundle or
   * manifest only from signed providers: an unsigned one answers in a plain body, which proves
   * nothing, and could redirect the node's deliveries (secure/unsigned-trust.ts).
   */
  private mayVouchFor(provider: KoiNetNode, wanted: RID): boolean {
    if (!this.hasOwnKey() || !isKeyBoundNodeRid(wanted)) return true;
    if (typeof this.graph.getNodeProfile(provider)?.public_key === 'string') return true;
    this.logger.debug({ rid: String(wanted), provider: String(provider) }, "an unsigned provider is not asked for a signed node's state");
    return false;
  }

  /**
   * Whether a bundle fetched from `provider` outside the pipeline (the start-up catch-up) may be
   * taken in: a bridge takes from an unsigned provider only what unsigned peers may say, as from
   * its poll answers (secure/unsigned-trust.ts).
   */
  async takesStateFrom(provider: KoiNetNode, bundle: Bundle): Promise<boolean> {
    if (!this.hasOwnKey() || (await this.requestHandler.signsTo({ node: provider }))) return true;
    return this.takenFromPlain(Event.fromBundle(bundle, EventType.NEW), String(provider));
  }

  private hasOwnKey(): boolean {
    return typeof this.identity.profile.public_key === 'string';
  }

  /** The seed's poll_neighbors: the events only. */
  async pollNeighbors(): Promise<Event[]> {
    return (await this.pollNeighborsWithSources()).map((s) => s.event);
  }

  /**
   * Polls every FULL neighbor that has an edge to this node (it is the event source); while there
   * is none, polls the first-contact URL instead, so a freshly introduced node hears the answer to
   * its handshake. Peers are polled concurrently; the result keeps neighbor order. A peer that
   * fails is logged and skipped.
   */
  async pollNeighborsWithSources(): Promise<SourcedEvent[]> {
    const targets = pollTargets(this.graph, this.identity.rid, this.firstContact);
    const batches = await Promise.all(
      targets.map(async ({ target, source }) => {
        try {
          const { events: polled } = await this.requestHandler.pollEvents(target, { rid: this.identity.rid });
          // A bridge takes from a plain answer only what unsigned peers may say (secure/unsigned-trust.ts).
          const plain = this.hasOwnKey() && !(await this.requestHandler.signsTo(target));
          const events = plain ? polled.filter((event) => this.takenFromPlain(event, source)) : polled;
          if (events.length > 0) this.logger.debug({ source, count: events.length }, 'polled events');
          return events.map((event) => ({ event, source }));
        } catch (err) {
          this.logger.warn({ source, err: errorText(err) }, 'poll failed');
          return [];
        }
      }),
    );
    return batches.flat();
  }
}
