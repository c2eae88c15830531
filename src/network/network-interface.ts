import { KoiNetNode, RID, RIDType, KOI_NET_NODE_TYPE } from '../rid/index.ts';
import { Event as EventClass, EventType, type Bundle, type Event, type Manifest } from '../knowledge/index.ts';
import { RemoteProtocolError } from '../secure/errors.ts';
import type { KnowledgeStore } from '../cache/index.ts';
import { EdgeType, NodeType } from '../protocol/index.ts';
import type { NodeProfile } from '../protocol/index.ts';
import { RemoteHTTPError, UnreachableNodeError } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { NetworkGraph } from './graph.ts';
import type { EventQueues } from './queues.ts';
import { RequestHandler } from '../peer/index.ts';
import { ResponseHandler } from './response-handler.ts';
import { errorText } from '../util/error-text.ts';

export interface NetworkInterfaceOptions {
  cache: KnowledgeStore;
  identity: { rid: KoiNetNode; profile: NodeProfile };
  graph: NetworkGraph;
  queues: EventQueues;
  /** Default: one on `graph` with default timeout. */
  requestHandler?: RequestHandler;
  /** Default: one on `cache`. */
  responseHandler?: ResponseHandler;
  /** Base URL (…/koi-net) polled while this node has no neighbor to poll. */
  firstContact?: string | undefined;
  /** Backoff of webhook deliveries that failed (see RetryPolicy). */
  retry?: Partial<RetryPolicy>;
  logger?: Logger;
}

/**
 * After a failed webhook delivery (connection error, timeout, 5xx or any other retryable answer)
 * the peer is left alone for min(maxDelayMs, baseDelayMs * 2^(failures-1)), shortened by a random
 * fraction up to `jitter` so that peers that failed together do not all retry together.
 */
export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  /** 0..1; 0.5 = the delay is between 50% and 100% of the exponential value. */
  jitter: number;
  /** Source of randomness in [0, 1) (tests pass a fixed one). */
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  jitter: 0.5,
  random: Math.random,
});

/** Webhook delivery counters of one peer since this process started. */
export interface PeerDeliveryStats {
  /** Batches delivered (2xx). */
  deliveries: number;
  /** Events in those batches. */
  deliveredEvents: number;
  /** Delivery attempts that failed and were requeued. */
  failures: number;
  /** Attempts made while the previous one had failed: the retries observed. */
  retries: number;
  /** Batches a peer refused for good (400/413/422), dropped. */
  refusedBatches: number;
  /** Failures since the last success; 0 when healthy. */
  consecutiveFailures: number;
  /** Milliseconds until the backoff ends; 0 = may be flushed now. */
  retryInMs: number;
  /** Events waiting in its webhook queue. */
  queued: number;
  lastError?: string;
}

interface PeerState {
  deliveries: number;
  deliveredEvents: number;
  failures: number;
  retries: number;
  refusedBatches: number;
  consecutiveFailures: number;
  nextAttemptAt: number;
  lastError: string | undefined;
}

/** Which queue an event went to; undefined when the target cannot be served at all. */
export type QueueKind = 'webhook' | 'poll';

/** A polled event and where it came from: the neighbor's node RID, or the first-contact URL. */
export interface SourcedEvent {
  event: Event;
  source: string;
}

/**
 * Statuses that say the request itself is wrong (malformed, refused, too large). Sending the same
 * batch again gets the same answer, and since flushes keep order, requeueing it would block every
 * later event to that peer forever; such a batch is dropped (and logged). Everything else (5xx,
 * 404/405 from a base_url that may still be corrected, 429) is retried on the next flush.
 */
const NON_RETRYABLE_STATUSES: ReadonlySet<number> = new Set([400, 413, 422]);

/** Events per webhook request: a long queue goes out in several requests, in order. */
export const MAX_EVENTS_PER_DELIVERY = 500;

/**
 * High-level network actions of a node (the seed's NetworkInterface): queueing events for peers,
 * delivering webhook queues, polling neighbors, and fetching state from providers. Remote failures
 * never escape as exceptions from the delivery and fetch helpers: a peer that is down, answers an
 * error, or answers garbage is logged and skipped, because one bad peer must not stop the node.
 */
export class NetworkInterface {
  readonly cache: KnowledgeStore;
  readonly identity: { rid: KoiNetNode; profile: NodeProfile };
  readonly graph: NetworkGraph;
  readonly queues: EventQueues;
  readonly requestHandler: RequestHandler;
  readonly responseHandler: ResponseHandler;
  readonly firstContact: string | undefined;
  private readonly logger: Logger;
  /**
   * Nodes already warned about as unreachable. Every processed kobj wakes all webhook queues,
   * so without this a queue for, say, a PARTIAL node would log a warning per kobj.
   */
  private readonly warnedUnreachable = new Set<string>();
  private readonly retryPolicy: RetryPolicy;
  private readonly peers = new Map<string, PeerState>();
  /** One delivery loop per webhook peer (see PeerWorker). */
  private readonly workers = new Map<string, PeerWorker>();
  /** The last flushAllWebhookQueues answer and what it waits for, reused while nothing changed. */
  private lastFlushAll: { waits: Promise<boolean>[]; done: Promise<void> } | undefined;
  private closed = false;

  constructor(options: NetworkInterfaceOptions) {
    this.cache = options.cache;
    this.identity = options.identity;
    this.graph = options.graph;
    this.queues = options.queues;
    this.logger = options.logger ?? silentLogger;
    this.requestHandler =
      options.requestHandler ?? new RequestHandler({ graph: options.graph, logger: this.logger.child({ component: 'requests' }) });
    this.responseHandler = options.responseHandler ?? new ResponseHandler({ cache: options.cache });
    this.firstContact = options.firstContact;
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  }

  /**
   * Queues `event` for `node`. An edge from this node to the target decides the queue by its
   * edge_type; without one, FULL nodes get webhook delivery and PARTIAL nodes poll. A target with
   * neither edge nor known profile cannot be served: the event is dropped with a warning (the
   * reference crashes here).
   */
  async pushEventTo(event: Event, node: KoiNetNode | string, flush = false): Promise<QueueKind | undefined> {
    const target = toNodeRid(node);
    const kind = this.chooseQueue(target);
    if (kind === undefined) {
      this.logger.warn({ node: String(target), rid: String(event.rid) }, 'event for an unknown node with no edge to it dropped');
      return undefined;
    }
    if (kind === 'webhook') await this.queues.pushWebhook(target, event);
    else await this.queues.pushPoll(target, event);
    this.logger.debug({ node: String(target), rid: String(event.rid), eventType: event.eventType, queue: kind }, 'queued event');
    if (flush && kind === 'webhook') await this.flushWebhookQueue(target);
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
    const target = toNodeRid(node);
    if (this.closed) return Promise.resolve(false);
    const worker = this.worker(target);
    worker.force = true;
    return this.requestAttempt(worker);
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
    if (this.closed) return Promise.resolve();
    const now = Date.now();
    const waits: Promise<boolean>[] = [];
    for (const node of this.queues.webhookNodes()) {
      let target: KoiNetNode;
      try {
        target = toNodeRid(node);
      } catch (err) {
        // One broken queue (e.g. a key that is not a node RID) must not stop the others.
        this.logger.error({ node, err: errorText(err) }, 'webhook flush failed');
        continue;
      }
      if ((this.peers.get(node)?.nextAttemptAt ?? 0) > now) continue;
      waits.push(this.requestAttempt(this.worker(target)));
    }
    // A burst of fan-outs finds the same pending attempts: one combined promise serves them all.
    const last = this.lastFlushAll;
    if (last && last.waits.length === waits.length && last.waits.every((w, i) => w === waits[i])) return last.done;
    const done = Promise.all(waits).then(() => undefined);
    this.lastFlushAll = { waits, done };
    return done;
  }

  /**
   * The same as flushAllWebhookQueues (due peers only). Each peer's loop also has its own retry
   * timer, so a library user without NodeInterface's timer still gets retries.
   */
  flushDueWebhookQueues(): Promise<void> {
    return this.flushAllWebhookQueues();
  }

  /** Resolves when no webhook delivery attempt is running. */
  async deliveriesIdle(): Promise<void> {
    for (;;) {
      const running = [...this.workers.values()].map((w) => w.loop).filter((l): l is Promise<void> => l !== undefined);
      if (running.length === 0) return;
      await Promise.allSettled(running);
    }
  }

  /**
   * Stops the delivery loops (for shutdown): no new attempt starts, backoff timers are cleared, and
   * this resolves once the attempts already running have ended. Undelivered events stay queued.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const worker of this.workers.values()) {
      if (worker.timer) clearTimeout(worker.timer);
      worker.timer = undefined;
    }
    await this.deliveriesIdle();
    for (const worker of this.workers.values()) settle(worker, false);
  }

  /** Per-peer delivery counters, keyed by node RID (peers with a queue or any delivery so far). */
  deliveryStats(): Record<string, PeerDeliveryStats> {
    const now = Date.now();
    const out: Record<string, PeerDeliveryStats> = {};
    const keys = new Set([...this.peers.keys(), ...this.queues.webhookNodes()]);
    for (const key of keys) {
      const p = this.peers.get(key) ?? newPeerState();
      out[key] = {
        deliveries: p.deliveries,
        deliveredEvents: p.deliveredEvents,
        failures: p.failures,
        retries: p.retries,
        refusedBatches: p.refusedBatches,
        consecutiveFailures: p.consecutiveFailures,
        retryInMs: Math.max(0, p.nextAttemptAt - now),
        queued: this.queues.peekWebhookLength(key),
        ...(p.lastError === undefined ? {} : { lastError: p.lastError }),
      };
    }
    return out;
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
    const me = this.identity.rid.toString();
    const targets: { target: { node: KoiNetNode } | { url: string }; source: string }[] = [];
    for (const neighbor of this.graph.getNeighbors({ direction: 'in' })) {
      if (neighbor.toString() === me) continue;
      const profile = this.graph.getNodeProfile(neighbor);
      if (profile?.node_type !== NodeType.FULL || !profile.base_url) continue;
      targets.push({ target: { node: neighbor }, source: neighbor.toString() });
    }
    if (targets.length === 0 && this.firstContact) {
      targets.push({ target: { url: this.firstContact }, source: this.firstContact });
    }
    const batches = await Promise.all(
      targets.map(async ({ target, source }) => {
        try {
          const { events } = await this.requestHandler.pollEvents(target, { rid: this.identity.rid });
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

  // --- internals -------------------------------------------------------------------------------

  private chooseQueue(target: KoiNetNode): QueueKind | undefined {
    const edge = this.graph.getEdgeProfile({ source: this.identity.rid, target });
    if (edge) return edge.edge_type === EdgeType.WEBHOOK ? 'webhook' : 'poll';
    const profile = this.graph.getNodeProfile(target);
    if (!profile) return undefined;
    return profile.node_type === NodeType.FULL ? 'webhook' : 'poll';
  }

  private async deliverWebhookQueue(target: KoiNetNode): Promise<boolean> {
    const node = target.toString();
    try {
      await this.requestHandler.resolveBaseUrl({ node: target });
    } catch (err) {
      // Leave the queue as it is: the node may become reachable when its profile arrives.
      if (err instanceof UnreachableNodeError) {
        const first = !this.warnedUnreachable.has(node);
        this.warnedUnreachable.add(node);
        const details = { node, err: err.message };
        if (first) this.logger.warn(details, 'webhook queue not flushed; events stay queued');
        else this.logger.debug(details, 'webhook queue not flushed; events stay queued');
        return false;
      }
      throw err;
    }
    // Reachable again: a later loss of reachability deserves a fresh warning.
    this.warnedUnreachable.delete(node);
    // A refused batch is dropped and the rest still goes out now (it would otherwise wait for the
    // next wake); the attempt then reports false.
    let refused = false;
    for (;;) {
      const events = await this.queues.takeWebhook(target, MAX_EVENTS_PER_DELIVERY);
      if (events.length === 0) return !refused;
      const outcome = await this.deliverBatch(target, node, events);
      if (outcome === 'failed') return false;
      if (outcome === 'refused') refused = true;
    }
  }

  /** One POST of `events`: delivered, refused for good (dropped), or failed (requeued, backoff). */
  private async deliverBatch(target: KoiNetNode, node: string, events: Event[]): Promise<'delivered' | 'refused' | 'failed'> {
    const peer = this.peerState(node);
    const retry = peer.consecutiveFailures > 0;
    if (retry) peer.retries++;
    try {
      await this.requestHandler.broadcastEvents({ node: target }, { events });
      await this.queues.ackWebhook(target);
      peer.deliveries++;
      peer.deliveredEvents += events.length;
      if (retry) {
        this.logger.info({ node, count: events.length, afterFailures: peer.consecutiveFailures, retries: peer.retries }, 'webhook delivery recovered');
      } else {
        this.logger.debug({ node, count: events.length }, 'webhook queue delivered');
      }
      peer.consecutiveFailures = 0;
      peer.nextAttemptAt = 0;
      peer.lastError = undefined;
      return 'delivered';
    } catch (err) {
      if (err instanceof RemoteProtocolError && err.errorType === 'unknown_node') {
        // The reference's answer: the peer forgot us (or never knew us), so handshake again by
        // putting FORGET + NEW of our own bundle in front of the batch, then retry after backoff.
        const intro = await this.handshakeEvents();
        const first = events[0];
        const already = first !== undefined && first.rid.toString() === this.identity.rid.toString() && first.eventType === EventType.FORGET;
        events = already || intro.length === 0 ? events : [...intro, ...events];
      } else if (err instanceof RemoteHTTPError && NON_RETRYABLE_STATUSES.has(err.status)) {
        // A peer refuses a broadcast whole but names the events it cannot take (422 with
        // loc ["body","events",i,...]): drop only those and send the others again at once.
        const named = err.status === 422 ? refusedEventIndexes(err.body, events.length) : undefined;
        if (named && named.size < events.length) {
          const dropped = events.filter((_, i) => named.has(i));
          const rest = events.filter((_, i) => !named.has(i));
          peer.refusedBatches++;
          this.logger.error(
            { node, count: dropped.length, rids: dropped.map((e) => String(e.rid)), status: err.status, err: err.message },
            'peer refused some events; those dropped, the rest sent again',
          );
          return this.deliverBatch(target, node, rest);
        }
        await this.queues.ackWebhook(target);
        peer.refusedBatches++;
        this.logger.error({ node, count: events.length, status: err.status, err: err.message }, 'peer refused the events; batch dropped');
        return 'refused';
      }
      await this.queues.requeueWebhookFront(target, events);
      peer.failures++;
      peer.consecutiveFailures++;
      peer.lastError = errorText(err);
      const delayMs = this.backoffMs(peer.consecutiveFailures);
      peer.nextAttemptAt = Date.now() + delayMs;
      this.logger.warn(
        { node, count: events.length, err: peer.lastError, attempt: peer.consecutiveFailures, retryInMs: delayMs, retries: peer.retries },
        'webhook delivery failed; events requeued, retrying after backoff',
      );
      return 'failed';
    }
  }

  /** FORGET + NEW of this node's cached bundle (empty when our own bundle is not cached yet). */
  private async handshakeEvents(): Promise<Event[]> {
    const bundle = await this.cache.read(this.identity.rid);
    if (!bundle) return [];
    return [EventClass.fromRid(this.identity.rid, EventType.FORGET), EventClass.fromBundle(bundle, EventType.NEW)];
  }

  private backoffMs(failures: number): number {
    const { baseDelayMs, maxDelayMs, jitter, random } = this.retryPolicy;
    // 2^(failures-1) overflows to Infinity long after the cap applies; min() keeps it finite.
    const exponential = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failures - 1, 52));
    return Math.round(exponential * (1 - jitter * random()));
  }

  private peerState(node: string): PeerState {
    let state = this.peers.get(node);
    if (!state) {
      state = newPeerState();
      this.peers.set(node, state);
    }
    return state;
  }

  private worker(target: KoiNetNode): PeerWorker {
    const key = target.toString();
    let worker = this.workers.get(key);
    if (!worker) {
      worker = { target, key, wanted: false, force: false, waiters: undefined, loop: undefined, timer: undefined };
      this.workers.set(key, worker);
    }
    return worker;
  }

  /** Asks `worker` for one more attempt; resolves with its outcome (false when it backs off instead). */
  private requestAttempt(worker: PeerWorker): Promise<boolean> {
    worker.wanted = true;
    worker.waiters ??= deferred();
    const promise = worker.waiters.promise;
    worker.loop ??= this.runWorker(worker);
    return promise;
  }

  /**
   * The peer's delivery loop: runs while someone asked for an attempt, one attempt at a time, each
   * draining the queue in bounded batches. It never waits for another peer, and it ends (instead
   * of sleeping) when nothing is asked or the peer is backing off; a backoff timer wakes it again.
   */
  private async runWorker(worker: PeerWorker): Promise<void> {
    // Let the caller's synchronous burst of pushes and wakes land first: one batch, one request.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (worker.wanted && !this.closed) {
        const peer = this.peers.get(worker.key);
        const waitMs = (peer?.nextAttemptAt ?? 0) - Date.now();
        if (!worker.force && waitMs > 0) {
          // Backing off: whoever waits is answered now, and the timer comes back for the queue.
          worker.wanted = false;
          settle(worker, false);
          this.armRetry(worker, waitMs);
          break;
        }
        worker.wanted = false;
        worker.force = false;
        const waiters = worker.waiters;
        worker.waiters = undefined;
        let ok = false;
        try {
          ok = await this.deliverWebhookQueue(worker.target);
        } catch (err) {
          this.logger.error({ node: worker.key, err: errorText(err) }, 'webhook flush failed');
        }
        waiters?.resolve(ok);
        // A failure left events queued and a backoff: the next turn arms the retry timer.
        if (!ok && (this.peers.get(worker.key)?.nextAttemptAt ?? 0) > Date.now() && this.queues.peekWebhookLength(worker.key) > 0) {
          worker.wanted = true;
        }
      }
    } finally {
      worker.loop = undefined;
      if (this.closed) settle(worker, false);
      // A request that came in after the last check (between the await and here) starts a new loop.
      else if (worker.wanted) worker.loop = this.runWorker(worker);
    }
  }

  private armRetry(worker: PeerWorker, delayMs: number): void {
    if (worker.timer) clearTimeout(worker.timer);
    worker.timer = setTimeout(() => {
      worker.timer = undefined;
      if (this.closed || this.queues.peekWebhookLength(worker.key) === 0) return;
      worker.wanted = true;
      worker.loop ??= this.runWorker(worker);
    }, delayMs + 1);
    // The timer alone must not keep a process alive that has nothing else to do.
    worker.timer.unref();
  }
}

/**
 * One webhook peer's delivery state. `wanted`: an attempt was asked for since the current one took
 * its batch; `force`: the next attempt ignores the backoff (an explicit flushWebhookQueue);
 * `waiters`: callers waiting for the next attempt to end; `loop`: the running loop, if any.
 */
interface PeerWorker {
  readonly target: KoiNetNode;
  readonly key: string;
  wanted: boolean;
  force: boolean;
  waiters: Deferred<boolean> | undefined;
  loop: Promise<void> | undefined;
  timer: NodeJS.Timeout | undefined;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function settle(worker: PeerWorker, value: boolean): void {
  const waiters = worker.waiters;
  worker.waiters = undefined;
  waiters?.resolve(value);
}

function newPeerState(): PeerState {
  return {
    deliveries: 0,
    deliveredEvents: 0,
    failures: 0,
    retries: 0,
    refusedBatches: 0,
    consecutiveFailures: 0,
    nextAttemptAt: 0,
    lastError: undefined,
  };
}

function toNodeRid(value: KoiNetNode | RID | string): KoiNetNode {
  if (value instanceof KoiNetNode) return value;
  const rid = RID.fromString(String(value));
  if (!(rid instanceof KoiNetNode)) throw new UnreachableNodeError(String(value), 'not an orn:koi-net.node RID');
  return rid;
}


/**
 * The indexes of the events a 422 body names (FastAPI's `detail[].loc` of `["body","events",i,...]`,
 * or `["body","payload","events",i,...]` in signed mode); undefined when it names none, or an index
 * outside the batch, so that the caller falls back to dropping the whole batch.
 */
export function refusedEventIndexes(body: unknown, count: number): Set<number> | undefined {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (!Array.isArray(detail)) return undefined;
  const out = new Set<number>();
  for (const item of detail) {
    const loc = (item as { loc?: unknown } | null)?.loc;
    if (!Array.isArray(loc)) return undefined;
    const at = loc[1] === 'payload' ? 2 : 1;
    const i = loc[at + 1];
    if (loc[0] !== 'body' || loc[at] !== 'events' || typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= count) return undefined;
    out.add(i);
  }
  return out.size > 0 ? out : undefined;
}
