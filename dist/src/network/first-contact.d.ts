import type { Logger } from '../logger.ts';
import type { NetworkGraph } from './graph.ts';
import type { RequestHandler } from './request-handler.ts';
import type { NodeIdentity } from '../identity/index.ts';
import type { KnowledgeProcessor } from '../processor/index.ts';
import type { KnowledgeStore } from '../cache/index.ts';
import type { KoiNetNode } from '../rid/index.ts';
export interface FirstContactRetryOptions {
    /** Delay after the first failed attempt (default 1000 ms); it doubles per attempt. */
    initialDelayMs?: number;
    /** Longest delay between attempts (default 30000 ms). */
    maxDelayMs?: number;
    /** Each delay is drawn from [d * (1 - jitter), d] (default 0.2), so restarted fleets spread out. */
    jitter?: number;
}
export interface FirstContactJoinerOptions extends FirstContactRetryOptions {
    url: string;
    /** Signed mode: the contact's node RID (envelopes are addressed to it). */
    node?: KoiNetNode;
    identity: NodeIdentity;
    graph: NetworkGraph;
    cache: KnowledgeStore;
    requestHandler: RequestHandler;
    processor: KnowledgeProcessor;
    logger: Logger;
}
export declare const DEFAULT_FIRST_CONTACT_RETRY: {
    readonly initialDelayMs: 1000;
    readonly maxDelayMs: 30000;
    readonly jitter: 0.2;
};
export declare function validateFirstContactRetry(o: FirstContactRetryOptions | undefined): Required<FirstContactRetryOptions>;
export declare class FirstContactJoiner {
    private readonly o;
    private readonly retry;
    private attempts;
    private failures;
    private delivered;
    private timer;
    private running;
    private stopped;
    constructor(options: FirstContactJoinerOptions);
    /** True once this node holds an APPROVED edge with some neighbour. */
    joined(): boolean;
    get attemptCount(): number;
    /** Runs the first attempt now (awaited) and keeps retrying in the background until joined or stopped. */
    start(): Promise<void>;
    stop(): Promise<void>;
    private attemptAndSchedule;
    private nextDelay;
    private attempt;
    /** The re-handshake's clean slate on this side (see the file comment). */
    private forgetContactBundle;
}
