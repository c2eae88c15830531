import { Event } from '../knowledge/index.ts';
import { type KnowledgeHandler } from '../processor/handler.ts';
import type { ProcessorInterface } from '../processor/interface.ts';
import type { ProcessorComponents } from '../processor/components.ts';
import type { KnowledgeStore } from '../cache/index.ts';
import { type Logger } from '../logger.ts';
import type { Inbox } from './inbox.ts';
/**
 * RID type of the progress markers the intake queues after each batch. The processor is FIFO, so
 * when a batch's marker comes out of the queue, the batch's events before it are done; this moves
 * the checkpoint even under a load that never lets the queue empty.
 */
export declare const INBOX_MARK_TYPE = "orn:koi-net.inbox-mark";
/**
 * The RID handler that swallows markers. The node registers it right after the default handlers,
 * so handlers added by applications never see a marker.
 */
export declare function createInboxMarkHandler(onMark: (seq: number) => void): KnowledgeHandler;
/** The processor's components; the cache must also answer manifests from memory. */
export type IntakeComponents = ProcessorComponents & {
    readonly cache: Pick<KnowledgeStore, 'readManifest'>;
};
export interface InboxIntakeOptions {
    inbox: Inbox;
    processor: ProcessorInterface;
    /** What re-announcing a replayed event needs: the processor's components. */
    components: IntakeComponents;
    logger?: Logger;
}
export interface RecoveryReport {
    /** Log entries replayed (accepted broadcasts not known processed at the crash). */
    entries: number;
    /** Events re-queued for processing. */
    requeued: number;
    /** Events already cached with the same hash, whose fan-out was redone (see index.ts). */
    reannounced: number;
    /** Wire events that no longer parse (skipped). */
    invalid: number;
}
/**
 * Couples the inbox to the processor: accept() makes a broadcast durable and queues it, settle()
 * moves the checkpoint once the processor has finished what was queued, recover() replays.
 */
export declare class InboxIntake {
    readonly inbox: Inbox;
    private readonly processor;
    private readonly components;
    private readonly logger;
    /** Every seq <= this has all its events in the processor queue (or had nothing to queue). */
    private enqueuedUpTo;
    /** Seqs above `enqueuedUpTo` already queued: concurrent requests may finish out of order. */
    private readonly enqueuedAhead;
    /** Every seq <= this is processed (its marker came out of the queue, or a flush covered it). */
    private doneUpTo;
    private readonly doneAhead;
    constructor(options: InboxIntakeOptions);
    /**
     * Appends the batch to the log and, once it is there, queues its events for processing. The
     * caller answers 200 only after this resolves; if it rejects, nothing was acknowledged.
     * `events[i]` must be the parsed form of `wires[i]`.
     */
    accept(events: readonly Event[], wires: readonly unknown[]): Promise<void>;
    /** A batch's marker came out of the processor queue (called by the marker handler). */
    markDone(seq: number): void;
    /**
     * Waits until the processor has drained everything queued so far, then checkpoints. The mark is
     * taken before waiting: the processor is FIFO and a flush ends only on an empty queue, so what
     * was queued before the flush started is processed when it resolves.
     */
    settle(): Promise<void>;
    /**
     * Replays the entries after the checkpoint, in order. An event whose exact state is already
     * cached was processed before the crash, but its fan-out to subscribers may not have been
     * queued yet (the crash may have hit between the cache write and the queue write), and the
     * pipeline would now stop it as a duplicate; so its event is pushed to the Network chain's
     * targets again. Subscribers may get it twice; that is the at-least-once price.
     */
    recover(): Promise<RecoveryReport>;
    /**
     * Queues the events in order and then the batch's marker, so the marker comes out only after
     * every event of its batch. A big batch is queued in slices that yield to the event loop (100,000
     * handle() calls in one go held it for ~200 ms); another request's batch may then be queued in
     * between, which the contiguous progress marks (noteEnqueued, markDone) allow for.
     */
    private enqueueBatch;
    private noteEnqueued;
    /** Pipeline step 5 alone, for a replayed event: Network chain, then queue to its targets. */
    private reannounce;
    private context;
}
