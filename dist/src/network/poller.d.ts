import { type Logger } from '../logger.ts';
import type { NodeInterface } from '../node.ts';
export interface PollerOptions {
    node: NodeInterface;
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
export declare class Poller {
    readonly intervalMs: number;
    readonly maxBackoffMs: number;
    private readonly node;
    private readonly limit;
    private readonly logger;
    private readonly peers;
    private running;
    private loop;
    private wake;
    private timer;
    constructor(options: PollerOptions);
    get isRunning(): boolean;
    /** A snapshot of every peer polled so far. */
    peerStates(): PeerPollState[];
    /** Starts the loop; the first round runs at once. The node must be initialized. */
    start(): void;
    /** Ends the loop; resolves once the round in progress (if any) has been handled and flushed. */
    stop(): Promise<void>;
    /**
     * One round: poll every due peer concurrently, handle their events in peer order as external
     * knowledge tagged with the peer, then flush. Returns the number of events handled.
     */
    pollOnce(): Promise<number>;
    private run;
    private sleep;
    /** Same rule as `NetworkInterface.pollNeighborsWithSources` (see the file comment). */
    private targets;
    private pollPeer;
    private markReachable;
    private markFailed;
}
