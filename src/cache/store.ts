/**
 * The store seam: what the rest of the node needs from a bundle store. `Cache` (cache.ts, files
 * in one directory) is the default implementation; a second backend (e.g. PostgreSQL) implements
 * `KnowledgeStore` and is handed to the node instead (`new NodeInterface({ cache })`). Nothing
 * outside src/cache/ depends on more than this file.
 */
import type { RID, RIDType } from '../rid/index.ts';
import type { Bundle, Manifest } from '../knowledge/index.ts';

/**
 * A bundle store. The lookups are synchronous because they are answered from memory (the
 * processor asks "is it cached, with which manifest" for every kobj); only bundle reads and
 * mutations go to storage. A backend whose lookups cannot be synchronous keeps an in-memory index
 * of RID -> manifest, as the file cache does (memory-index.ts).
 */
export interface KnowledgeStore {
  /** Number of cached bundles. */
  readonly size: number;
  /**
   * True when write() and delete() change what read/exists/readManifest/listRids answer before
   * they return, so their promises only report persistence. The processor then does not wait
   * for each file and relies on sync() for durability.
   */
  readonly writesVisibleAtOnce?: boolean;
  /**
   * Resolves once the checks open() left running in the background are done (the file cache's
   * verification after a start without a snapshot); absent when a store leaves none.
   */
  verified?(): Promise<void>;
  /** Stores (replaces) the bundle of `bundle.rid`; resolves once it is persisted. */
  write(bundle: Bundle): Promise<Bundle>;
  /** The cached bundle, or undefined when there is none (or it can no longer be read). */
  read(rid: RID | string): Promise<Bundle | undefined>;
  /**
   * The bundles of `rids`, in their order (undefined where read() would answer undefined; a
   * repeated RID answered at each place). For stores where one read costs a round trip
   * (PostgreSQL: one query for the lot); absent, callers read one at a time.
   */
  readMany?(rids: readonly (RID | string)[]): Promise<(Bundle | undefined)[]>;
  readManifest(rid: RID | string): Manifest | undefined;
  exists(rid: RID | string): boolean;
  /** True when something was deleted; resolves once the deletion is persisted. */
  delete(rid: RID | string): Promise<boolean>;
  /** RIDs of the given types; every RID when `ridTypes` is absent or empty. */
  listRids(ridTypes?: Iterable<RIDType | string>): RID[];
  /**
   * Changes whenever what listRids, readManifest or exists answer may have changed (a write,
   * delete, drop or verification). Lets readers keep answers derived from the index, such as
   * serialized listings, until it moves. Absent: the store offers no such signal.
   */
  readonly generation?: number;
  /** The manifests of listRids(ridTypes), from memory. */
  listManifests?(ridTypes?: Iterable<RIDType | string>): Manifest[];
  /**
   * The cached bundle as JSON text (its wire form, possibly indented), checked as read() checks
   * it; undefined where read() would answer undefined. Spares parsing into a Bundle and
   * serializing it again when the bundle is only passed on.
   */
  readBundleText?(rid: RID | string): string | undefined;
  /** readBundleText as UTF-8 bytes (what a server sends). */
  readBundleBytes?(rid: RID | string): Buffer | undefined;
  /** Removes every bundle. */
  drop(): Promise<void>;
  /**
   * Whether the store keeps up: 'degraded' while some write or delete has failed and is being
   * retried (what it holds is still served, from memory, but not yet on disk).
   */
  health?(): StoreHealth;
  /**
   * Resolves when every write and delete called before it is persisted; rejects (CacheError) if
   * one of them failed and no later write or delete of the same RID has succeeded since.
   */
  sync?(): Promise<void>;
  /** sync(), then release resources (the file cache also saves its index snapshot). */
  close?(): Promise<void>;
}

export interface StoreHealth {
  status: 'ok' | 'degraded';
  /** Mutations not yet on disk: queued, being written, or failed and waiting for their retry. */
  pendingWrites: number;
  /** While degraded: the last write error. */
  lastError?: string;
}

/** The logging calls the cache makes; the project's Logger (pino) satisfies it. */
export interface CacheLogger {
  warn(obj: object, msg?: string): void;
  /** Recovery after failures; falls back to warn when absent. */
  info?(obj: object, msg?: string): void;
  /** Background write failures; falls back to warn when absent. */
  error?(obj: object, msg?: string): void;
}
