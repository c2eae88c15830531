import { Event } from '../knowledge/index.ts';
import type { KoiNetNode } from '../rid/index.ts';
import { type Logger } from '../logger.ts';
export interface EventQueuesOptions {
    /** Cap per queue (webhook and poll each, per peer). Default 10,000. */
    maxPerPeer?: number;
    /**
     * The journal is folded into a new snapshot once it holds at least this many bytes AND at least
     * as many bytes as the snapshot would (so rewriting the snapshot stays proportional to the
     * changes it absorbs). Default 8 MiB.
     */
    compactBytes?: number;
    /**
     * After this long without a change, the journal is folded into the snapshot (when that is cheap
     * enough), so `event_queues.json` alone is an up-to-date view for tools that read it. 0 = never.
     * Default 500 ms.
     */
    idleCompactMs?: number;
    logger?: Logger;
}
export interface QueueDepths {
    webhook: Record<string, number>;
    poll: Record<string, number>;
    /** Events taken by a webhook flush that is still in progress. */
    webhookInflight: Record<string, number>;
    /** Events dropped by the cap since open, per `webhook:<node>` / `poll:<node>`. */
    dropped: Record<string, number>;
}
type NodeKey = KoiNetNode | string;
export declare const DEFAULT_MAX_PER_PEER = 10000;
export declare const DEFAULT_COMPACT_BYTES: number;
export declare const DEFAULT_IDLE_COMPACT_MS = 500;
/**
 * Per-peer webhook and poll queues of events, persisted as a snapshot plus an append-only journal,
 * so that the cost of persisting a change is proportional to the change, not to the queues' depth.
 *
 * Files (F = the queue file path, `event_queues.json` in a node):
 * - F: snapshot in the reference's `EventQueueModel` layout (`webhook`, `poll`: node -> wire
 *   events), so a Python node and `koi-net status` can read it, plus `webhook_inflight` and
 *   `journal_gen` (pydantic ignores extra keys). Always written to a temp file and renamed.
 * - F.journal-G: JSON lines of the changes made after snapshot generation G (see JournalOp). An
 *   event is written once per journal however many queues it goes to; pushes of one event to many
 *   peers share a line. Replayed at open over the snapshot; a torn final line is a write that never
 *   completed, so nobody was told it was durable: it is ignored.
 *
 * Durability: every mutation changes memory synchronously and returns a promise that resolves once
 * a journal append that includes it has completed (SIGKILL-safe; no fsync, so not power-loss
 * safe). Appends are coalesced: all mutations made before an append takes its cut share that one
 * write call, and at most one append runs at a time.
 *
 * Compaction: once the journal is both over `compactBytes` and larger than the snapshot would be,
 * the state is captured at an append's cut, the journal generation moves on (later appends go to
 * F.journal-(G+1)), and the snapshot is written in the background; journals older than the new
 * snapshot are deleted only after its rename. A crash in between replays both journals over the
 * old snapshot. `persist()`, `close()`, `open()` after a replay, and a failed append compact
 * inline instead (the mutations of that cut resolve once the snapshot is renamed). When the queues
 * go quiet the journal is folded in too, if that is cheap, to keep F current for readers.
 *
 * Memory: each distinct event (same object, or same canonical JSON) is held once, shared by the
 * queues that hold it, and freed when the last of them lets it go. Returned events are these
 * shared, frozen objects.
 *
 * Cap policy: each queue holds at most `maxPerPeer` events; pushing onto a full queue drops the
 * OLDEST event. Events are signals about state, so the newest ones are the most useful to a peer
 * that has fallen behind (it can re-fetch state), while an unbounded queue for a dead peer would
 * grow memory and the files without limit. One warning is logged per burst: at the first drop,
 * and again only after that queue has dropped below the cap.
 *
 * Webhook delivery is at-least-once: `takeWebhook` moves the batch to an in-flight list that is
 * persisted too; `requeueWebhookFront` (failure) moves it back, `ackWebhook` (success) or the
 * node's next `takeWebhook` clears it. A batch still in flight at open goes back to the front of
 * its queue. The price is a possible duplicate after a crash, which peers tolerate (an event
 * whose manifest they already have is dropped).
 *
 * One process, one instance per file: two writers would overwrite each other's snapshots.
 */
export declare class EventQueues {
    readonly filePath: string;
    private readonly maxPerPeer;
    private readonly compactBytes;
    private readonly idleCompactMs;
    private readonly logger;
    /** Queues currently in a dropping burst (`kind:node`). */
    private readonly dropping;
    private readonly droppedCounts;
    private readonly queues;
    private readonly inflight;
    /** Live entries by canonical text. */
    private readonly byText;
    /** Spares re-serializing an Event object pushed to many peers, or requeued after a take. */
    private readonly byEvent;
    private nextId;
    /** What the snapshot's event texts would weigh now: the compaction thresholds compare with it. */
    private stateBytes;
    /** Current journal generation. */
    private gen;
    private peerNumbers;
    /** Definitions (no effect on state, so they may precede the records of their batch). */
    private defs;
    private ops;
    /** Journal bytes per generation not yet folded into a snapshot. */
    private readonly journalBytes;
    private retryCompactionAt;
    /** An append failed: the journal may end in garbage, so the next write is a full snapshot. */
    private broken;
    private forceCompact;
    private wantBackgroundCompact;
    private compacting;
    private idleTimer;
    private closed;
    /** The append that will include every mutation made so far and not yet cut. */
    private pending;
    /** The last write scheduled; never rejects, it only orders writes. */
    private chain;
    private writes;
    private constructor();
    static open(filePath: string, options?: EventQueuesOptions): Promise<EventQueues>;
    /** Number of file writes (journal appends and snapshots) since open. */
    get writeCount(): number;
    /** Distinct events held in memory (each once, however many queues hold it). */
    get storedEvents(): number;
    pushWebhook(node: NodeKey, event: Event): Promise<void>;
    pushPoll(node: NodeKey, event: Event): Promise<void>;
    /**
     * Removes and returns up to `limit` oldest poll events of `node` (0 = all). Resolves once the
     * removal is on disk, so a poller is never answered with events a restart would resend.
     */
    drainPoll(node: NodeKey, limit?: number): Promise<Event[]>;
    /**
     * Takes the webhook queue of `node` (at most `limit` oldest events; 0 = all) for a flush. The batch stays on disk as in flight
     * until `ackWebhook`, `requeueWebhookFront`, or the next `takeWebhook` of this node (flushes of
     * one node are expected to run one at a time, so the next take means the last one finished).
     */
    takeWebhook(node: NodeKey, limit?: number): Promise<Event[]>;
    /** The last taken batch of `node` was delivered. */
    ackWebhook(node: NodeKey): Promise<void>;
    /** A delivery failed: `events` go back to the FRONT of the queue, in their original order. */
    requeueWebhookFront(node: NodeKey, events: readonly Event[]): Promise<void>;
    /** Nodes with queued webhook events. */
    webhookNodes(): string[];
    /** Nodes with queued poll events. */
    pollNodes(): string[];
    /** A copy of the webhook queue of `node`, without removing anything. */
    peekWebhook(node: NodeKey): Event[];
    /** How many events wait in the webhook queue of `node` (without copying them). */
    peekWebhookLength(node: NodeKey): number;
    /** A copy of the poll queue of `node`, without removing anything. */
    peekPoll(node: NodeKey): Event[];
    depths(): QueueDepths;
    /** Resolves when every mutation made so far is on disk. */
    flushed(): Promise<void>;
    /** Writes the whole current state as a new snapshot (with any pending changes) and resolves once it is renamed into place. */
    persist(): Promise<void>;
    /** Persists, then stops the idle timer. The instance must not be used afterwards. */
    close(): Promise<void>;
    private intern;
    private internText;
    private ref;
    private unref;
    private pushBack;
    private pushFront;
    /** Removes up to `n` entries from the front, without releasing them. */
    private shiftFront;
    private clearInflight;
    private enforceCap;
    private endBurstIfBelowCap;
    private pushFrontLive;
    private recordPush;
    private defineEntry;
    private peerNumber;
    private startGeneration;
    private journalPath;
    private unfoldedJournalBytes;
    private schedule;
    /** Runs synchronously up to its first await: the records taken and the state captured match. */
    private writeCut;
    private append;
    private armIdleTimer;
    private capture;
    /** Streams the snapshot to a temp file in bounded chunks, then renames it over the queue file. */
    private writeSnapshot;
    private dropJournalsBefore;
    private load;
    /** Loads the snapshot (current, older ours, or the Python reference's layout); returns its generation or why it is corrupt. */
    private loadSnapshot;
    private entryFromWire;
    private clearState;
    /** Applies one journal's records; returns why it stopped early, if it did. A torn last line is ignored. */
    private replay;
    /** Puts batches a crashed flush left in flight back at the front of their queues. */
    private restoreInflight;
}
export {};
