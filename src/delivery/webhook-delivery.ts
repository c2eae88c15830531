/**
 * Webhook delivery: one delivery loop per peer, bounded batches in queue order, backoff after a
 * failure (its own timer per peer), the re-handshake on `unknown_node`, and the 400/413/422 rule
 * (refused batches dropped; a 422 that names events drops only those). Every trigger of a webhook
 * flush (an explicit flush, the processor's fan-out, a peer's backoff timer, the retry sweep) ends
 * in the same place: requestAttempt() on the peer's loop.
 */
import type { KoiNetNode } from '../rid/index.ts';
import { Event as EventClass, EventType, type Event } from '../knowledge/index.ts';
import { RemoteProtocolError } from '../secure/errors.ts';
import type { KnowledgeStore } from '../cache/index.ts';
import { RemoteHTTPError, UnreachableNodeError } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { EventQueueStore } from '../queues/index.ts';
import type { RequestHandler } from '../peer/index.ts';
import type { Startable } from '../util/lifecycle.ts';
import { errorText } from '../util/error-text.ts';
import { DEFAULT_RETRY_POLICY, backoffMs, type RetryPolicy } from './retry-policy.ts';
import { NON_RETRYABLE_STATUSES, refusedEventIndexes } from './refused-events.ts';
import { newPeerState, peerStats, type PeerDeliveryStats, type PeerState } from './peer-stats.ts';
import { toNodeRid } from './targets.ts';

/** Events per webhook request: a long queue goes out in several requests, in order. */
export const MAX_EVENTS_PER_DELIVERY = 500;

/** The queue calls delivery makes (EventQueueStore has them; the queue store seam). */
export type DeliveryQueues = Pick<EventQueueStore, 'webhookNodes' | 'takeWebhook' | 'ackWebhook' | 'requeueWebhookFront' | 'peekWebhookLength'>;

export interface WebhookDeliveryOptions {
  /** This node's RID: the handshake events are about it. */
  self: KoiNetNode;
  /** Where this node's own bundle is read for a re-handshake. */
  cache: Pick<KnowledgeStore, 'read'>;
  queues: DeliveryQueues;
  requests: Pick<RequestHandler, 'resolveBaseUrl' | 'broadcastEvents'>;
  retry?: Partial<RetryPolicy>;
  /**
   * Between start() and stop(), how often every due queue is woken (default 0 = never): a safety
   * net beside each peer's own backoff timer, for a loop whose timer was lost.
   */
  sweepMs?: number;
  logger?: Logger;
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

/**
 * Remote failures never escape as exceptions: a peer that is down, answers an error, or answers
 * garbage is logged and backed off, because one bad peer must not stop the node.
 */
export class WebhookDelivery implements Startable {
  private readonly self: KoiNetNode;
  private readonly cache: Pick<KnowledgeStore, 'read'>;
  private readonly queues: DeliveryQueues;
  private readonly requests: Pick<RequestHandler, 'resolveBaseUrl' | 'broadcastEvents'>;
  private readonly logger: Logger;
  private readonly retryPolicy: RetryPolicy;
  private readonly sweepMs: number;
  /**
   * Nodes already warned about as unreachable. Every processed kobj wakes all webhook queues,
   * so without this a queue for, say, a PARTIAL node would log a warning per kobj.
   */
  private readonly warnedUnreachable = new Set<string>();
  private readonly peers = new Map<string, PeerState>();
  private readonly workers = new Map<string, PeerWorker>();
  /** The last wakeAll answer and what it waits for, reused while nothing changed. */
  private lastWakeAll: { waits: Promise<boolean>[]; done: Promise<void> } | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweep: Promise<void> | undefined;
  private closed = false;

  constructor(options: WebhookDeliveryOptions) {
    this.self = options.self;
    this.cache = options.cache;
    this.queues = options.queues;
    this.requests = options.requests;
    this.logger = options.logger ?? silentLogger;
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.sweepMs = options.sweepMs ?? 0;
  }

  /** Starts the sweep (when sweepMs > 0). Per-peer loops need no start: they run on demand. */
  start(): void {
    if (this.sweepMs <= 0 || this.sweepTimer || this.closed) return;
    this.sweepTimer = setInterval(() => {
      // A sweep never overlaps the last.
      if (this.sweep) return;
      this.sweep = this.wakeAll()
        .catch((err: unknown) => this.logger.warn({ err: errorText(err) }, 'retry flush failed'))
        .finally(() => {
          this.sweep = undefined;
        });
    }, this.sweepMs);
    // The timer alone must not keep a process alive that has nothing else to do.
    this.sweepTimer.unref();
  }

  /**
   * No new attempt starts, every timer is cleared, and this resolves once the attempts already
   * running have ended. Undelivered events stay queued.
   */
  async stop(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    await this.sweep;
    for (const worker of this.workers.values()) {
      if (worker.timer) clearTimeout(worker.timer);
      worker.timer = undefined;
    }
    await this.idle();
    for (const worker of this.workers.values()) settle(worker, false);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** One attempt for `node` now, whatever its backoff (see NetworkInterface.flushWebhookQueue). */
  flush(node: KoiNetNode | string): Promise<boolean> {
    const target = toNodeRid(node);
    if (this.closed) return Promise.resolve(false);
    const worker = this.worker(target);
    worker.force = true;
    return this.requestAttempt(worker);
  }

  /** One attempt for every due peer with a queue (see NetworkInterface.flushAllWebhookQueues). */
  wakeAll(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const now = Date.now();
    const waits: Promise<boolean>[] = [];
    for (const node of this.queues.webhookNodes()) {
      // Every fan-out wakes every peer: a known peer's worker is found by its key, unparsed.
      let worker = this.workers.get(node);
      if (worker === undefined) {
        try {
          worker = this.worker(toNodeRid(node));
        } catch (err) {
          // One broken queue (e.g. a key that is not a node RID) must not stop the others.
          this.logger.error({ node, err: errorText(err) }, 'webhook flush failed');
          continue;
        }
      }
      if ((this.peers.get(node)?.nextAttemptAt ?? 0) > now) continue;
      waits.push(this.requestAttempt(worker));
    }
    // A burst of fan-outs finds the same pending attempts: one combined promise serves them all.
    const last = this.lastWakeAll;
    if (last && last.waits.length === waits.length && last.waits.every((w, i) => w === waits[i])) return last.done;
    const done = Promise.all(waits).then(() => undefined);
    this.lastWakeAll = { waits, done };
    return done;
  }

  /** Resolves when no delivery attempt is running. */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.workers.values()].map((w) => w.loop).filter((l): l is Promise<void> => l !== undefined);
      if (running.length === 0) return;
      await Promise.allSettled(running);
    }
  }

  /** Per-peer counters, keyed by node RID (peers with a queue or any delivery so far). */
  stats(): Record<string, PeerDeliveryStats> {
    const now = Date.now();
    const out: Record<string, PeerDeliveryStats> = {};
    const keys = new Set([...this.peers.keys(), ...this.queues.webhookNodes()]);
    for (const key of keys) out[key] = peerStats(this.peers.get(key) ?? newPeerState(), this.queues.peekWebhookLength(key), now);
    return out;
  }

  // --- one attempt ---------------------------------------------------------------------------

  private async deliverQueue(target: KoiNetNode): Promise<boolean> {
    const node = target.toString();
    try {
      await this.requests.resolveBaseUrl({ node: target });
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
      await this.requests.broadcastEvents({ node: target }, { events });
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
        const already = first !== undefined && first.rid.toString() === this.self.toString() && first.eventType === EventType.FORGET;
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
      const delayMs = backoffMs(this.retryPolicy, peer.consecutiveFailures);
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
    const bundle = await this.cache.read(this.self);
    if (!bundle) return [];
    return [EventClass.fromRid(this.self, EventType.FORGET), EventClass.fromBundle(bundle, EventType.NEW)];
  }

  private peerState(node: string): PeerState {
    let state = this.peers.get(node);
    if (!state) {
      state = newPeerState();
      this.peers.set(node, state);
    }
    return state;
  }

  // --- the per-peer loops --------------------------------------------------------------------

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
          ok = await this.deliverQueue(worker.target);
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
