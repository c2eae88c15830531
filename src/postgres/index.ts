/**
 * The PostgreSQL store: one database holds a node's knowledge, event queues, inbox and identity,
 * behind the same seams as the files in its data dir (KnowledgeStore, EventQueueStore, InboxLog,
 * IdentityStorage, PemStorage). `openPostgresStore(url)` connects and migrates; hand the result to
 * `new NodeInterface({ store })`. Schema: migrations.ts.
 */
import type { Logger } from '../logger.ts';
import type { InboxLog, InboxOptions } from '../inbox/index.ts';
import type { IdentityStorage } from '../identity/index.ts';
import type { PemStorage } from '../secure/index.ts';
import { PgDatabase, type PgDatabaseOptions } from './database.ts';
import { PgKnowledgeStore } from './knowledge-store.ts';
import { PgEventQueues, type PgEventQueuesOptions } from './queue-store.ts';
import { PgInbox } from './inbox.ts';
import { pgIdentityStorage, pgKeyStorage } from './identity.ts';
import { OwnerLock } from './owner-lock.ts';

export { PgDatabase, checkPostgresUrl, redactUrl, type PgDatabaseOptions } from './database.ts';
export { MIGRATIONS, SCHEMA_VERSION, type Migration } from './migrations.ts';
export { PgKnowledgeStore } from './knowledge-store.ts';
export { PgEventQueues, type PgEventQueuesOptions } from './queue-store.ts';
export { PgInbox } from './inbox.ts';
export { pgIdentityStorage, pgKeyStorage } from './identity.ts';

/** What a node keeps in PostgreSQL; NodeInterface's `store` option takes it. */
export interface PostgresStore {
  readonly db: PgDatabase;
  readonly knowledge: PgKnowledgeStore;
  readonly identity: IdentityStorage;
  readonly privateKey: PemStorage;
  openQueues(options: PgEventQueuesOptions): Promise<PgEventQueues>;
  openInbox(options: InboxOptions): Promise<InboxLog>;
  /** Closes the pool; call after the node's finalize(). */
  close(): Promise<void>;
}

/**
 * Connects to `url` (postgres://USER@HOST:PORT/DB), migrates the schema and loads the knowledge
 * index, and holds the database for this process (one node process per database in phase 1).
 * Throws StoreUnavailableError when the database cannot be reached, KoiNetError `schema_too_new`
 * for a schema from a newer koi-net, `store_in_use` when another process has it open.
 */
export async function openPostgresStore(url: string, options: PgDatabaseOptions & { logger?: Logger } = {}): Promise<PostgresStore> {
  const db = await PgDatabase.open(url, options);
  let knowledge: PgKnowledgeStore;
  let lock: OwnerLock;
  try {
    lock = await OwnerLock.acquire(url, db.where, options.logger);
  } catch (err) {
    await db.close();
    throw err;
  }
  try {
    knowledge = await PgKnowledgeStore.open(db, { logger: options.logger });
  } catch (err) {
    await lock.release();
    await db.close();
    throw err;
  }
  return {
    db,
    knowledge,
    identity: pgIdentityStorage(db),
    privateKey: pgKeyStorage(db),
    openQueues: (o) => PgEventQueues.open(db, o),
    openInbox: (o) => PgInbox.open(db, o),
    close: async () => {
      await lock.release();
      await db.close();
    },
  };
}
