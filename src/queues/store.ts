import type { Event } from '../knowledge/index.ts';
import type { KoiNetNode } from '../rid/index.ts';

/** A peer's node RID, or its string form. */
export type NodeKey = KoiNetNode | string;

export interface QueueDepths {
  webhook: Record<string, number>;
  poll: Record<string, number>;
  /** Events taken by a webhook flush that is still in progress. */
  webhookInflight: Record<string, number>;
  /** Events dropped by the cap since open, per `webhook:<node>` / `poll:<node>`. */
  dropped: Record<string, number>;
}

export const DEFAULT_MAX_PER_PEER = 10_000;
export const DEFAULT_COMPACT_BYTES = 8 * 2 ** 20;
export const DEFAULT_IDLE_COMPACT_MS = 500;

/**
 * The outgoing event queues of a node: per peer, a webhook queue (pushed to the peer) and a poll
 * queue (drained when the peer polls). This is the seam a second backend (PostgreSQL: a table of
 * queued events keyed by peer and position, the in-flight batch a flag) plugs into; the node and
 * NetworkInterface use only these members. The file-backed implementation is EventQueues
 * (file-store.ts, on src/storage/).
 *
 * Contract of every implementation:
 * - Mutations change what the readers (peek*, depths, *Nodes) see at once, synchronously, and
 *   return a promise that resolves once the change is durable (survives a SIGKILL). Pushes of one
 *   peer keep their order.
 * - Each queue holds at most a cap of events; a push onto a full queue drops the OLDEST event.
 * - Webhook delivery is at-least-once: `takeWebhook` moves a batch in flight (durably);
 *   `ackWebhook` forgets it, `requeueWebhookFront` puts it back at the front, and a batch still in
 *   flight when the store is opened again goes back to the front too.
 * - `drainPoll` resolves only once the removal is durable, so a poller is never answered with
 *   events a restart would send again.
 */
export interface EventQueueStore {
  pushWebhook(node: NodeKey, event: Event): Promise<void>;
  pushPoll(node: NodeKey, event: Event): Promise<void>;
  /**
   * A fan-out: `event` pushed to the webhook queues of `webhook` and the poll queues of `poll`, the
   * same as one push per queue made in that order, with one promise for all of them. Optional: a
   * store without it gets one push call per queue.
   */
  pushMany?(event: Event, webhook: readonly NodeKey[], poll: readonly NodeKey[]): Promise<void>;
  /** Removes and returns up to `limit` oldest poll events of `node` (0 = all). */
  drainPoll(node: NodeKey, limit?: number): Promise<Event[]>;
  /** Takes up to `limit` oldest webhook events of `node` (0 = all) into flight. */
  takeWebhook(node: NodeKey, limit?: number): Promise<Event[]>;
  /** The last taken batch of `node` was delivered. */
  ackWebhook(node: NodeKey): Promise<void>;
  /** A delivery failed: `events` go back to the FRONT of the queue, in their original order. */
  requeueWebhookFront(node: NodeKey, events: readonly Event[]): Promise<void>;
  /** Nodes with queued webhook events. */
  webhookNodes(): string[];
  /** Nodes with queued poll events. */
  pollNodes(): string[];
  peekWebhook(node: NodeKey): Event[];
  peekWebhookLength(node: NodeKey): number;
  peekPoll(node: NodeKey): Event[];
  depths(): QueueDepths;
  /** Resolves when every mutation made so far is durable. */
  flushed(): Promise<void>;
  /** Makes everything durable in its most compact form (a file store: a fresh snapshot). */
  persist(): Promise<void>;
  /** Persists and releases the store; it must not be used afterwards. */
  close(): Promise<void>;
}
