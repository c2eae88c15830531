import type { RID, RIDType } from '../rid/index.ts';
import type { Bundle, Event, Manifest } from '../knowledge/index.ts';
import type { EdgeProfile, EdgeStatus, NodeProfile } from '../protocol/index.ts';
import type { RequestHandler } from '../peer/index.ts';

/**
 * The parts of a node the processor needs, declared narrowly here (libp2p style) so the pipeline
 * can be driven by any store, graph or transport that fits, and so tests can supply a small
 * recording network without building the HTTP stack. Methods may be sync or async: the processor
 * awaits every call, so the file cache (async) and an in-memory store (sync) both fit.
 */
export type MaybePromise<T> = T | Promise<T>;

/** What the pipeline reads and writes in the knowledge store (a subset of `KnowledgeStore`). */
export interface ProcessorCache {
  read(rid: RID): MaybePromise<Bundle | null | undefined>;
  write(bundle: Bundle): MaybePromise<unknown>;
  delete(rid: RID): MaybePromise<unknown>;
  exists(rid: RID): MaybePromise<boolean>;
  /** RIDs of the given types (the forget-node handler lists edges with it); every store of the node has it. */
  listRids?(ridTypes?: Iterable<RIDType | string>): readonly RID[];
  /** The cached manifest without reading the bundle, where the store keeps manifests in memory. */
  readManifest?(rid: RID): Manifest | undefined;
  /**
   * True when write() and delete() take effect for reads before they return and their promises
   * only report persistence (the file cache's write-behind): the pipeline then does not wait for
   * each file, and callers that need durability call sync().
   */
  readonly writesVisibleAtOnce?: boolean;
  /** Resolves when every mutation so far is persisted (see KnowledgeStore.sync). */
  sync?(): Promise<void>;
}

/** This node: who it is and what it provides. */
export interface ProcessorIdentity {
  readonly rid: RID;
  readonly profile: NodeProfile;
  readonly bundle: Bundle;
}

export type ProcessorEdgeLookup = { rid: RID | string } | { source: RID | string; target: RID | string };

export interface ProcessorNeighborQuery {
  direction?: 'in' | 'out';
  status?: EdgeStatus;
  allowedType?: RIDType | string;
}

/** The network graph queries the default handlers make, and the incremental updates of step 4. */
export interface ProcessorGraph {
  getEdgeProfile(lookup: ProcessorEdgeLookup): EdgeProfile | null | undefined;
  getNodeProfile(rid: RID | string): NodeProfile | null | undefined;
  getNeighbors(query?: ProcessorNeighborQuery): readonly (RID | string)[];
  applyWrite(bundle: Bundle): unknown;
  applyDelete(rid: RID | string): unknown;
}

/** Outgoing side of the network: event delivery and remote fetches for external knowledge. */
export interface ProcessorNetwork {
  pushEventTo(event: Event, node: RID | string, flush?: boolean): MaybePromise<unknown>;
  /**
   * Optional: a fan-out of `event` to every node of `nodes` at once (each queue changed before it
   * returns, one promise for all), each node that cannot be served reported to `failed`. Without
   * it the pipeline calls pushEventTo per node.
   */
  pushEventToMany?(event: Event, nodes: Iterable<string>, failed: (node: string, err: unknown) => void): MaybePromise<unknown>;
  flushAllWebhookQueues(): MaybePromise<unknown>;
  /** Undefined/null when no state provider has it; must not throw for `not_found`. */
  fetchRemoteManifest(rid: RID): MaybePromise<Manifest | null | undefined>;
  fetchRemoteBundle(rid: RID): MaybePromise<Bundle | null | undefined>;
  /**
   * Raw protocol requests for handlers that talk to peers themselves (catch-up, custom fetches).
   * A NodeInterface always provides it; narrow test networks may leave it out.
   */
  readonly requestHandler?: RequestHandler;
}

/**
 * The components the processor is built from. They are read on every use, never copied at
 * construction, because the node hands over getters that resolve only after `initialize()`.
 */
export interface ProcessorComponents {
  readonly cache: ProcessorCache;
  readonly identity: ProcessorIdentity;
  readonly graph: ProcessorGraph;
  readonly network: ProcessorNetwork;
  /**
   * The node's wire format (NodeInterface's `protocol`). Absent: told from the identity (a profile
   * with a public_key is a signed node's), which cannot tell a `both` node from a signed one.
   */
  readonly protocol?: 'unsigned' | 'signed' | 'both';
}
