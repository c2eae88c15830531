/**
 * The partial node's event loop (the seed's `while True: poll_neighbors(); handle; flush; sleep`),
 * as a start()/stop() service with per-peer backoff.
 *
 * Why it polls peer by peer instead of calling `network.pollNeighborsWithSources()`: that helper
 * swallows each peer's failure (one warning per peer per round), so a caller cannot tell "no events"
 * from "unreachable", which backoff needs. The poller takes its targets from delivery's target rule
 * (`pollTargets`: every FULL neighbor with an edge to this node; while there is none, the
 * first-contact URL), asks through the same request handler, and keeps one state per peer:
 *  - a failed poll marks the peer unreachable and skips it for delivery's `exponentialDelay`
 *    (base `intervalMs`, capped at `maxBackoffMs`, no jitter); other peers are still polled every round;
 *  - the warning is logged once when the peer becomes unreachable and an info line once when it
 *    answers again (later failures only at debug), so a peer down for a day is two log lines.
 */
import { KnowledgeSource } from './knowledge/index.ts';
import type { Event } from './knowledge/index.ts';
import type { KoiNetNode } from './rid/index.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { ProcessorInterface } from './processor/index.ts';
import type { NetworkInterface } from './network/network-interface.ts';
import { pollTargets, type PollTarget, type TargetGraph } from './delivery/targets.ts';
import { exponentialDelay } from './delivery/retry-policy.ts';
import type { Startable } from './util/lifecycle.ts';
import { namedErrorText } from './util/error-text.ts';

/** What the poller needs of a node (NodeInterface has it, once initialized). */
export interface PollerNode {
  readonly processor: Pick<ProcessorInterface, 'handle' | 'flushKobjQueue'>;
  readonly identity: { readonly rid: KoiNetNode };
  readonly graph: TargetGraph;
  readonly network: Pick<NetworkInterface, 'firstContact' | 'requestHandler'>;
}

export interface PollerOptions {
  node: PollerNode;
  /** Pause between rounds. Default 5000 (the seed's 5 s). */
  intervalMs?: number;
  /** Longest pause before retrying an unreachable peer. Default 60000. */
  maxBackoffMs?: number;
  /** Events asked per peer per round; 0 = all queued (default). */
  limit?: number;
  logger?: Logger;
}

/** What the poller knows about one peer (exposed for status output and tests). */
export interface PeerPollState {
  /** Node RID, or the first-contact URL while that is all we know. */
  source: string;
  reachable: boolean;
  consecutiveFailures: number;
  /** Epoch ms before which the peer is not polled again. */
  nextAttemptAt: number;
  lastError?: string;
}

export class Poller implements Startable {
  readonly intervalMs: number;
  readonly maxBackoffMs: number;
  private readonly node: PollerNode;
  private readonly limit: number;
  private readonly logger: Logger;
  private readonly peers = new Map<string, PeerPollState>();
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: PollerOptions) {
    this.node = options.node;
    this.intervalMs = options.intervalMs ?? 5000;
    this.maxBackoffMs = Math.max(options.maxBackoffMs ?? 60000, this.intervalMs);
    this.limit = options.limit ?? 0;
    this.logger = options.logger ?? silentLogger;
    if (!(this.intervalMs > 0)) throw new RangeError(`intervalMs must be positive, got ${this.intervalMs}`);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** A snapshot of every peer polled so far. */
  peerStates(): PeerPollState[] {
    return [...this.peers.values()].map((p) => ({ ...p }));
  }

  /** Starts the loop; the first round runs at once. The node must be initialized. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
    this.logger.info({ intervalMs: this.intervalMs }, 'poller started');
  }

  /** Ends the loop; resolves once the round in progress (if any) has been handled and flushed. */
  async stop(): Promise<void> {
    if (!this.running) return this.loop;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
    this.logger.info({}, 'poller stopped');
  }

  /**
   * One round: poll every due peer concurrently, handle their events in peer order as external
   * knowledge tagged with the peer, then flush. Returns the number of events handled.
   */
  async pollOnce(): Promise<number> {
    const now = Date.now();
    const due = this.targets().filter((t) => (this.peers.get(t.source)?.nextAttemptAt ?? 0) <= now);
    const batches = await Promise.all(due.map((t) => this.pollPeer(t)));
    let handled = 0;
    const processor = this.node.processor;
    for (const [i, events] of batches.entries()) {
      const { sourceNode } = due[i]!;
      for (const event of events) {
        try {
          await processor.handle({ event, source: KnowledgeSource.EXTERNAL, sourceNode });
          handled++;
        } catch (err) {
          this.logger.warn({ source: due[i]!.source, rid: String(event.rid), err: namedErrorText(err) }, 'dropped a polled event');
        }
      }
    }
    await processor.flushKobjQueue();
    return handled;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.pollOnce();
      } catch (err) {
        // A failing round (e.g. a flush error) must not end the loop: the next round may succeed.
        this.logger.error({ err: namedErrorText(err) }, 'poll round failed');
      }
      if (!this.running) break;
      await this.sleep(this.intervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
      this.timer = setTimeout(() => this.wake?.(), ms);
    });
  }

  /** Delivery's target rule, the one `NetworkInterface.pollNeighborsWithSources` uses. */
  private targets(): PollTarget[] {
    const { graph, identity, network } = this.node;
    return pollTargets(graph, identity.rid, network.firstContact);
  }

  private async pollPeer(t: PollTarget): Promise<Event[]> {
    const network = this.node.network;
    try {
      const { events } = await network.requestHandler.pollEvents(t.target, { rid: this.node.identity.rid, limit: this.limit });
      this.markReachable(t.source);
      if (events.length > 0) this.logger.debug({ source: t.source, count: events.length }, 'polled events');
      return events;
    } catch (err) {
      this.markFailed(t.source, namedErrorText(err));
      return [];
    }
  }

  private markReachable(source: string): void {
    const state = this.peers.get(source);
    if (state && !state.reachable) {
      this.logger.info({ source, failures: state.consecutiveFailures }, 'peer reachable again; polling resumed');
    }
    this.peers.set(source, { source, reachable: true, consecutiveFailures: 0, nextAttemptAt: 0 });
  }

  private markFailed(source: string, error: string): void {
    const prev = this.peers.get(source);
    const failures = (prev?.consecutiveFailures ?? 0) + 1;
    const delay = exponentialDelay(this.intervalMs, this.maxBackoffMs, failures);
    this.peers.set(source, { source, reachable: false, consecutiveFailures: failures, nextAttemptAt: Date.now() + delay, lastError: error });
    if (!prev || prev.reachable) {
      this.logger.warn({ source, err: error, retryInMs: delay }, 'peer unreachable; backing off');
    } else {
      this.logger.debug({ source, err: error, failures, retryInMs: delay }, 'peer still unreachable');
    }
  }
}

