/**
 * What `new NodeInterface(options)` takes (node.ts), kept apart from the composition root so that
 * the options read as one documented table.
 */
import type { KnowledgeStore } from './cache/index.ts';
import type { IdentityStorage } from './identity/index.ts';
import type { EventQueueStore } from './queues/index.ts';
import type { NetworkInterface, NetworkInterfaceOptions, RetryPolicy } from './network/network-interface.ts';
import type { InboxLog, InboxOptions, InboxSettings } from './inbox/index.ts';
import type { ProtocolMode } from './server/node-view.ts';
import type { KnowledgeHandler, ProcessorComponents, ProcessorInterface, ProcessorOptions } from './processor/index.ts';
import type { Logger } from './logger.ts';
import type { PemStorage } from './secure/index.ts';
import type { FirstContactRetryOptions } from './network/first-contact.ts';
import type { NodeProfileInput } from './protocol/index.ts';

export interface NodeInterfaceOptions {
  /** Used for the node RID on first start (`orn:koi-net.node:<name>+<uuid4>`). */
  name: string;
  /** `provides` may be left out ({event: [], state: []}), as in the seed's NodeProfile. */
  profile: NodeProfileInput;
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
  /**
   * Wire format; default `unsigned` (1.0.x). `both` bridges the two networks: the node has a signed
   * node's key and RID, answers each request in its format and calls each peer in its own.
   */
  protocol?: ProtocolMode;
  /** Signed and both modes: the PEM private key, created on first start. Default `<dataDir>/priv_key.pem`. */
  privateKeyPath?: string;
  /** Signed and both modes: encrypts the PEM file (the reference's PRIV_KEY_PASSWORD). Never logged. */
  privateKeyPassword?: string;
  /** Extra handlers, registered after the defaults (see `replaceDefaultHandlers`). */
  handlers?: KnowledgeHandler[];
  /**
   * The seed's meaning of `handlers`: the list given replaces the default handlers instead of
   * joining them (an empty or missing list keeps the defaults, as the seed's `if not handlers`).
   */
  replaceDefaultHandlers?: boolean;
  /**
   * koi-net 2.1 profiles: this node's own node and edge profiles carry `@context` first.
   * Default: on for the signed and both protocols, off for unsigned (1.0.x peers never sent it).
   */
  profileContext?: boolean;
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
  /**
   * Keep knowledge, queues, inbox, identity and key there instead of in `dataDir` (e.g.
   * `openPostgresStore(url)` from koi-net's postgres store); the application closes it after finalize().
   */
  store?: NodeStorage;
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
  /** Tuning of the inbox (compaction threshold, checkpoint coalescing, fsync, maxQueued). */
  inboxOptions?: InboxSettings;
  /**
   * Start-up catch-up (koi-net 2.x's sync of `rid_types_of_interest`): once running, the node asks
   * each full node it holds an approved edge from for the manifests of that edge's RID types and
   * takes in what is new or newer. `ridTypes` narrows it (default: every type on those edges);
   * false = off. Default on.
   */
  catchUp?: boolean | { ridTypes?: readonly string[]; batchSize?: number };
  /** Backoff of failed webhook deliveries. */
  retry?: Partial<RetryPolicy>;
  /** How often queues whose backoff has elapsed are flushed again (default 250 ms; 0 = never). */
  retryTickMs?: number;
  logger?: Logger;
}

/** Another backend for everything a node keeps (`openPostgresStore`'s PostgresStore is one). */
export interface NodeStorage {
  knowledge: KnowledgeStore;
  identity: IdentityStorage;
  privateKey: PemStorage;
  openQueues(options: { maxPerPeer?: number | undefined; logger?: Logger }): Promise<EventQueueStore>;
  openInbox(options: InboxOptions): Promise<InboxLog>;
  /**
   * A store shared by several processes tells the node what the others changed (a bundle written
   * or deleted, everything to reload, webhook events queued); returns the unsubscribe.
   */
  follow?(follower: {
    changed(rid: string): void | Promise<void>;
    reloaded(): void | Promise<void>;
    queued(node: string): void;
  }): () => void;
}
