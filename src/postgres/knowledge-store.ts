/**
 * The knowledge store on PostgreSQL: one row per bundle in `koi_bundles` (manifest columns,
 * contents JSONB, indexed by RID type). The lookups the processor makes for every kobj (exists,
 * readManifest, listRids) are synchronous, so they are answered from an in-memory index of RID ->
 * manifest, loaded at open and changed only once the database has the change: what the index
 * says is always stored.
 *
 * Several processes on one database keep their indexes coherent by NOTIFY: each write and delete
 * sends `koi_bundles` with the RID in the same statement (so at its commit), and every other
 * process's LISTEN session (listener.ts) calls `applyRemote`, which reloads that row's manifest
 * into the index and tells the node (its network graph follows node and edge bundles).
 */
import { Bundle, Manifest } from '../knowledge/index.ts';
import { RID, type RIDType } from '../rid/index.ts';
import type { KnowledgeStore, StoreHealth } from '../cache/index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { errorText } from '../util/error-text.ts';
import { CacheError } from '../errors.ts';
import { isTransientFailure, type PgDatabase } from './database.ts';
import { CHANNELS, notifySql } from './listener.ts';

interface IndexEntry {
  manifest: Manifest;
  type: string;
}

/** A change another process made: one RID (now stored or gone), or everything (`reload`). */
export type RemoteChange = { rid: string } | { reload: true };

interface ManifestRow {
  rid: string;
  rid_type: string;
  timestamp: string;
  sha256_hash: string;
}

export interface PgKnowledgeStoreOptions {
  logger?: Logger;
  /**
   * How long a write or delete keeps retrying while the database is unreachable before it fails
   * (default 60 s). Meanwhile the processor waits: nothing new is accepted either (the inbox
   * answers 503), so a short outage loses and reorders nothing.
   */
  retryForMs?: number;
}

export class PgKnowledgeStore implements KnowledgeStore {
  readonly writesVisibleAtOnce = false;
  /** RIDs whose last write or delete failed for good: sync() rejects until a later one succeeds. */
  private readonly failed = new Set<string>();
  private closed = false;
  private readonly index = new Map<string, IndexEntry>();
  private readonly byType = new Map<string, Set<string>>();
  private gen = 0;
  private failures = 0;
  private lastError: string | undefined;
  private pending = 0;
  private readonly followers = new Set<(change: RemoteChange) => void | Promise<void>>();

  private constructor(
    private readonly db: PgDatabase,
    private readonly logger: Logger,
    private readonly retryForMs: number,
  ) {}

  /** Loads the index of every stored manifest. */
  static async open(db: PgDatabase, options: PgKnowledgeStoreOptions = {}): Promise<PgKnowledgeStore> {
    const store = new PgKnowledgeStore(db, options.logger ?? silentLogger, options.retryForMs ?? 60_000);
    const { rows } = await db.query<ManifestRow>('SELECT rid, rid_type, timestamp, sha256_hash FROM koi_bundles');
    for (const row of rows) store.remember(row);
    return store;
  }

  get size(): number {
    return this.index.size;
  }

  get generation(): number {
    return this.gen;
  }

  async write(bundle: Bundle): Promise<Bundle> {
    const rid = String(bundle.rid);
    const m = bundle.manifest;
    await this.tracked(rid, () =>
      this.db.query(
        `WITH w AS (
           INSERT INTO koi_bundles (rid, rid_type, timestamp, sha256_hash, contents) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (rid) DO UPDATE SET rid_type = EXCLUDED.rid_type, timestamp = EXCLUDED.timestamp,
             sha256_hash = EXCLUDED.sha256_hash, contents = EXCLUDED.contents, updated_at = now()
           RETURNING rid)
         SELECT ${notifySql(CHANNELS.bundles, '$6::text', 'w.rid')} FROM w`,
        [rid, bundle.rid.type.toString(), m.timestamp, m.sha256Hash, JSON.stringify(bundle.contents), this.db.owner],
      ),
    );
    this.set(rid, { manifest: m, type: bundle.rid.type.toString() });
    return bundle;
  }

  async read(rid: RID | string): Promise<Bundle | undefined> {
    const key = String(rid);
    const { rows } = await this.db.query<ManifestRow & { contents: unknown }>(
      'SELECT rid, rid_type, timestamp, sha256_hash, contents FROM koi_bundles WHERE rid = $1',
      [key],
    );
    const row = rows[0];
    return row ? this.bundleOf(row) : undefined;
  }

  /** One query for the lot (`rid = ANY($1)`), answered in the order asked. */
  async readMany(rids: readonly (RID | string)[]): Promise<(Bundle | undefined)[]> {
    const keys = rids.map(String);
    if (keys.length === 0) return [];
    const { rows } = await this.db.query<ManifestRow & { contents: unknown }>(
      'SELECT rid, rid_type, timestamp, sha256_hash, contents FROM koi_bundles WHERE rid = ANY($1::text[])',
      [[...new Set(keys)]],
    );
    const found = new Map<string, Bundle | undefined>();
    for (const row of rows) found.set(row.rid, this.bundleOf(row));
    return keys.map((k) => found.get(k));
  }

  private bundleOf(row: ManifestRow & { contents: unknown }): Bundle | undefined {
    try {
      return Bundle.fromJSON({ manifest: { rid: row.rid, timestamp: row.timestamp, sha256_hash: row.sha256_hash }, contents: row.contents });
    } catch (err) {
      // Only a hand-edited row gets here: reported, and read as absent, as the file cache does.
      this.logger.warn({ rid: row.rid, err: errorText(err) }, 'stored bundle cannot be read; treated as absent');
      return undefined;
    }
  }

  readManifest(rid: RID | string): Manifest | undefined {
    return this.index.get(String(rid))?.manifest;
  }

  exists(rid: RID | string): boolean {
    return this.index.has(String(rid));
  }

  async delete(rid: RID | string): Promise<boolean> {
    const key = String(rid);
    const result = await this.tracked(key, () =>
      this.db.query(`WITH d AS (DELETE FROM koi_bundles WHERE rid = $1 RETURNING rid) SELECT ${notifySql(CHANNELS.bundles, '$2::text', 'd.rid')} FROM d`, [key, this.db.owner]),
    );
    const had = this.unset(key);
    return had || (result.rowCount ?? 0) > 0;
  }

  listRids(ridTypes?: Iterable<RIDType | string>): RID[] {
    return this.keys(ridTypes).map((k) => RID.fromString(k));
  }

  listManifests(ridTypes?: Iterable<RIDType | string>): Manifest[] {
    return this.keys(ridTypes).map((k) => this.index.get(k)!.manifest);
  }

  async drop(): Promise<void> {
    await this.tracked(undefined, () =>
      this.db.transaction(async (client) => {
        await client.query('DELETE FROM koi_bundles');
        await client.query(`SELECT ${notifySql(CHANNELS.bundles, '$1::text', "'*'")}`, [this.db.owner]);
      }),
    );
    this.failed.clear();
    this.index.clear();
    this.byType.clear();
    this.gen++;
  }

  health(): StoreHealth {
    return this.lastError === undefined ? { status: 'ok', pendingWrites: this.pending } : { status: 'degraded', pendingWrites: this.pending, lastError: this.lastError };
  }

  /**
   * Every write resolves only once committed, so there is nothing to wait for; rejects while a
   * write or delete failed for good and nothing later replaced it, so that the inbox checkpoint
   * does not pass what was never stored (it is replayed at the next start).
   */
  sync(): Promise<void> {
    if (this.failed.size === 0) return Promise.resolve();
    return Promise.reject(new CacheError(`${this.failed.size} change(s) could not be stored in PostgreSQL: ${this.lastError ?? 'unknown error'}`));
  }

  /** The database is the node's to close (PostgresStore.close), shared with the other stores. */
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /**
   * Another process changed `rid` (a NOTIFY; `*` = everything): reload its manifest into the
   * index, or forget it when the row is gone, then tell the followers.
   */
  async applyRemote(rid: string): Promise<void> {
    if (rid === '*') return this.reload();
    const { rows } = await this.db.query<ManifestRow>('SELECT rid, rid_type, timestamp, sha256_hash FROM koi_bundles WHERE rid = $1', [rid]);
    if (rows[0]) this.remember(rows[0]);
    else this.unset(rid);
    await this.tell({ rid });
  }

  /** Reads the whole index again (after the LISTEN session was lost, or a remote drop). */
  async reload(): Promise<void> {
    const { rows } = await this.db.query<ManifestRow>('SELECT rid, rid_type, timestamp, sha256_hash FROM koi_bundles');
    this.index.clear();
    this.byType.clear();
    for (const row of rows) this.remember(row);
    this.gen++;
    await this.tell({ reload: true });
  }

  /** `follower` hears every change another process made, once the index has it; returns the unsubscribe. */
  onRemoteChange(follower: (change: RemoteChange) => void | Promise<void>): () => void {
    this.followers.add(follower);
    return () => this.followers.delete(follower);
  }

  private async tell(change: RemoteChange): Promise<void> {
    for (const follower of this.followers) {
      try {
        await follower(change);
      } catch (err) {
        this.logger.warn({ err: errorText(err), ...change }, 'following a change from another process failed');
      }
    }
  }

  // --- internals -------------------------------------------------------------------------------

  /** Runs a change, retrying with backoff while the database is unreachable (up to retryForMs). */
  private async tracked<T>(rid: string | undefined, op: () => Promise<T>): Promise<T> {
    this.pending++;
    const deadline = Date.now() + this.retryForMs;
    let delay = 250;
    try {
      for (;;) {
        try {
          const result = await op();
          if (rid !== undefined) this.failed.delete(rid);
          if (this.lastError !== undefined && this.failed.size === 0) {
            this.logger.info({ failures: this.failures }, 'PostgreSQL store writes succeed again');
            this.lastError = undefined;
          }
          return result;
        } catch (err) {
          this.failures++;
          if (this.lastError === undefined && isTransientFailure(err)) this.logger.error({ rid, err: errorText(err) }, 'PostgreSQL store write failed; retrying');
          if (isTransientFailure(err)) this.lastError = errorText(err);
          if (!isTransientFailure(err)) {
            // Never storable (replaying it would fail alike): reported, and the checkpoint goes on.
            this.logger.error({ rid, err: errorText(err) }, 'PostgreSQL refused the bundle; not stored');
            throw err;
          }
          if (this.closed || Date.now() + delay > deadline) {
            if (rid !== undefined) this.failed.add(rid);
            throw err;
          }
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 5_000);
        }
      }
    } finally {
      this.pending--;
    }
  }

  private remember(row: ManifestRow): void {
    try {
      const manifest = Manifest.fromJSON({ rid: row.rid, timestamp: row.timestamp, sha256_hash: row.sha256_hash });
      this.set(row.rid, { manifest, type: row.rid_type });
    } catch (err) {
      this.logger.warn({ rid: row.rid, err: errorText(err) }, 'stored manifest cannot be read; bundle left out of the index');
    }
  }

  private set(key: string, entry: IndexEntry): void {
    const old = this.index.get(key);
    if (old && old.type !== entry.type) this.byType.get(old.type)?.delete(key);
    this.index.set(key, entry);
    let set = this.byType.get(entry.type);
    if (!set) this.byType.set(entry.type, (set = new Set()));
    set.add(key);
    this.gen++;
  }

  private unset(key: string): boolean {
    const old = this.index.get(key);
    if (!old) return false;
    this.index.delete(key);
    const set = this.byType.get(old.type);
    set?.delete(key);
    if (set?.size === 0) this.byType.delete(old.type);
    this.gen++;
    return true;
  }

  private keys(ridTypes?: Iterable<RIDType | string>): string[] {
    const types = ridTypes === undefined ? [] : [...ridTypes].map(String);
    if (types.length === 0) return [...this.index.keys()];
    return [...new Set(types)].flatMap((t) => [...(this.byType.get(t) ?? [])]);
  }
}
