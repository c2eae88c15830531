import { type KnowledgeStore } from './cache/index.ts';
import { NodeIdentity } from './identity/index.ts';
import { Bundle } from './knowledge/index.ts';
import { NetworkGraph } from './network/graph.ts';
import { EventQueues } from './network/queues.ts';
import { NetworkInterface, type NetworkInterfaceOptions, type RetryPolicy } from './network/network-interface.ts';
import { InboxIntake, type InboxOptions, type RecoveryReport } from './inbox/index.ts';
import { ProcessorInterface, type KnowledgeHandler, type ProcessorComponents, type ProcessorOptions } from './processor/index.ts';
import { type EdgeType, type NodeProfile } from './protocol/index.ts';
import { KoiNetNode, type RIDType, type RID } from './rid/index.ts';
import { type Logger } from './logger.ts';
import { type NodeKeyPair } from './secure/index.ts';
import { type FirstContactRetryOptions } from './network/first-contact.ts';
/** `unsigned`: the 1.0.x wire format (default). `signed`: koi-net 1.1+/2.x signed envelopes. */
export type ProtocolMode = 'unsigned' | 'signed';
export interface NodeInterfaceOptions {
    /** Used for the node RID on first start (`orn:koi-net.node:<name>+<uuid4>`). */
    name: string;
    profile: NodeProfile;
    /** Where identity, cache and queues live; default the working directory. */
    dataDir?: string;
    /**
     * Take the lock of `dataDir` (`<dataDir>/koi-net.lock`) before writing anything there, so a
     * second process on the same directory fails with "data dir D is in use by pid N" (default true).
     */
    lockDataDir?: boolean;
    /** Default `<dataDir>/identity.json`. */
    identityFilePath?: string;
    /** Default `<dataDir>/cache`. */
    cacheDir?: string;
    /** Default `<dataDir>/event_queues.json`. */
    queuesFilePath?: string;
    /** Base URL (…/koi-net) of a full node to introduce ourselves to when we know no neighbors. */
    firstContact?: string;
    /**
     * The first contact's node RID. The signed protocol addresses every envelope to a node RID, so a
     * signed node can only introduce itself to (and poll) a first contact whose RID it knows, as
     * the reference's `first_contact: {rid, url}` config.
     */
    firstContactRid?: string;
    /**
     * Until the node holds an approved edge with a neighbour, the first-contact handshake is retried
     * with exponential backoff and jitter (default 1 s doubling, capped at 30 s).
     */
    firstContactRetry?: FirstContactRetryOptions;
    /** Wire format; default `unsigned` (1.0.x). */
    protocol?: ProtocolMode;
    /** Signed mode: the PEM private key, created on first start. Default `<dataDir>/priv_key.pem`. */
    privateKeyPath?: string;
    /** Signed mode: encrypts the PEM file (the reference's PRIV_KEY_PASSWORD). Never logged. */
    privateKeyPassword?: string;
    /** Extra handlers, registered after the defaults. */
    handlers?: KnowledgeHandler[];
    /** Replace the four default handlers (default: use them). */
    defaultHandlers?: KnowledgeHandler[];
    /**
     * Build the network interface yourself (e.g. a subclass), from the parts the node made. The
     * seed's `network=` argument; a factory because those parts exist only once initialize() runs.
     */
    network?: (options: NetworkInterfaceOptions) => NetworkInterface;
    /**
     * Build the processor yourself (e.g. a subclass). The seed's `processor=` argument; `components`
     * resolve on use, so the processor can take handlers before initialize().
     */
    processor?: (components: ProcessorComponents, options: ProcessorOptions) => ProcessorInterface;
    /** A ready store to use instead of the file cache. */
    cache?: KnowledgeStore;
    /** Timeout of each outgoing request. */
    requestTimeoutMs?: number;
    /** Cap of each per-peer event queue. */
    maxQueuedEventsPerPeer?: number;
    /**
     * Durable inbox of accepted broadcasts (docs/RELIABILITY.md): true = `<dataDir>/inbox.log`, a
     * string = that path, false = none. Default: on for FULL nodes (they are the ones that answer
     * broadcasts), off for PARTIAL nodes.
     */
    inbox?: boolean | string;
    /** Tuning of the inbox (compaction threshold, checkpoint coalescing, fsync). */
    inboxOptions?: Omit<InboxOptions, 'logger'>;
    /** Backoff of failed webhook deliveries. */
    retry?: Partial<RetryPolicy>;
    /** How often queues whose backoff has elapsed are flushed again (default 250 ms; 0 = never). */
    retryTickMs?: number;
    logger?: Logger;
}
/**
 * The composition root: builds cache, identity, graph, queues, network and processor, and runs the
 * node's lifecycle. Handlers can be registered on `node.processor` before `initialize()`, as in the
 * seed, because the processor exists from construction; its parts are attached on initialize.
 */
export declare class NodeInterface {
    readonly processor: ProcessorInterface;
    readonly firstContact: string | undefined;
    readonly logger: Logger;
    private parts;
    private finalizing;
    private readonly options;
    private retryTimer;
    private retryTick;
    private recovery;
    private ownsCache;
    private nodeKeyPair;
    private dataDirLock;
    private joiner;
    readonly protocol: ProtocolMode;
    constructor(options: NodeInterfaceOptions);
    get cache(): KnowledgeStore;
    get identity(): NodeIdentity;
    get graph(): NetworkGraph;
    get network(): NetworkInterface;
    get queues(): EventQueues;
    /** Signed mode: this node's key pair (undefined in unsigned mode). */
    get keyPair(): NodeKeyPair | undefined;
    get initialized(): boolean;
    /** The durable inbox, when enabled; endpoints accept broadcasts through it. */
    get inbox(): InboxIntake | undefined;
    /** What the inbox replayed at the last initialize(); undefined without an inbox. */
    get lastRecovery(): RecoveryReport | undefined;
    /**
     * Opens the stores, loads or creates the identity, rebuilds the graph, puts this node's own bundle
     * through the pipeline, and, when the node knows no neighbors, introduces it to the first contact.
     */
    initialize(): Promise<void>;
    private releaseLock;
    private open;
    /** Finishes queued knowledge, tries to deliver queued webhook events, and saves the queues. */
    finalize(): Promise<void>;
    private doFinalize;
    private closeParts;
    /**
     * Re-flushes webhook queues whose backoff has elapsed, so a peer that was down gets its events
     * when it returns even if nothing new is processed meanwhile. A tick never overlaps the last.
     */
    private startRetryTimer;
    private stopRetryTimer;
    /**
     * The handshake of the seed: FORGET ourselves (so a peer holding a stale copy drops it) and then
     * NEW with our bundle, sent straight to the first contact's URL.
     */
    private introduceToFirstContact;
    /** A PROPOSED edge bundle from `source` (the event provider) to `target` (the subscriber). */
    generateEdgeBundle(source: KoiNetNode | RID, target: KoiNetNode | RID, ridTypes: (RIDType | string)[], edgeType: EdgeType): Bundle;
    private requireParts;
}
