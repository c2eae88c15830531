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
import { PgListener } from './listener.ts';
import { Serial } from '../util/serial.ts';
import { errorText } from '../util/error-text.ts';
import { silentLogger } from '../logger.ts';

export { PgDatabase, checkPostgresUrl, redactUrl, type PgDatabaseOptions } from './database.ts';
export { MIGRATIONS, SCHEMA_VERSION, type Migration } from './migrations.ts';
export { PgKnowledgeStore } from './knowledge-store.ts';
export { PgEventQueues, type PgEventQueuesOptions } from './queue-store.ts';
export { PgInbox } from './inbox.ts';
export { pgIdentityStorage, pgKeyStorage } from './identity.ts';
export type { RemoteChange } from './knowledge-store.ts';

/** What the node does when another process on the same database changed shared state. */
export interface StoreFollower {
  /** A bundle another process wrote or deleted, once this process's knowledge index has it. */
  changed(rid: string): void | Promise<void>;
  /** Everything may have changed (the LISTEN session was lost, or the knowledge was dropped). */
  reloaded(): void | Promise<void>;
  /** Another process queued webhook events for `node`: this process may deliver them. */
  queued(node: string): void;
}

/** What a node keeps in PostgreSQL; NodeInterface's `store` option takes it. */
export interface PostgresStore {
  readonly db: PgDatabase;
  readonly knowledge: PgKnowledgeStore;
  readonly identity: IdentityStorage;
  readonly privateKey: PemStorage;
  openQueues(options: PgEventQueuesOptions): Promise<PgEventQueues>;
  openInbox(options: InboxOptions): Promise<InboxLog>;
  /** Subscribes `follower` to the other processes' changes; returns the unsubscribe. */
  follow(follower: StoreFollower): () => void;
  /** Closes the LISTEN session and the pool; call after the node's finalize(). */
  close(): Promise<void>;
}

/**
 * Connects to `url` (postgres://USER@HOST:PORT/DB), migrates the schema, loads the knowledge
 * index and opens this process's LISTEN session. Any number of processes may open one database:
 * they are one node (same identity and key), sharing knowledge, queues and inbox (see listener.ts,
 * queue-store.ts, inbox.ts). Throws StoreUnavailableError when the database cannot be reached,
 * KoiNetError `schema_too_new` for a schema from a newer koi-net.
 */
export async function openPostgresStore(url: string, options: PgDatabaseOptions & { logger?: Logger } = {}): Promise<PostgresStore> {
  const logger = options.logger ?? silentLogger;
  const db = await PgDatabase.open(url, options);
  let knowledge: PgKnowledgeStore;
  const queues = new Set<PgEventQueues>();
  // Notifications are applied one at a time, in the order they came.
  const serial = new Serial();
  const apply = (what: string, work: () => Promise<void>): void => {
    void serial.run(work).catch((err: unknown) => logger.warn({ err: errorText(err), what }, 'cannot apply a change from another process'));
  };
  let listener: PgListener;
  try {
    knowledge = await PgKnowledgeStore.open(db, { logger });
    listener = await PgListener.open(
      db,
      {
        notification: (channel, data) => {
          if (channel === 'koi_bundles') apply(data, () => knowledge.applyRemote(data));
          else for (const q of queues) q.remoteChanged(data);
        },
        reconnected: () => {
          apply('reload', () => knowledge.reload());
          for (const q of queues) apply('reload queues', () => q.reload());
        },
      },
      logger,
    );
  } catch (err) {
    await db.close();
    throw err;
  }
  // The owner id names this process in claims (claimed_by) and inbox rows.
  logger.info({ store: db.where, owner: db.owner }, 'PostgreSQL store opened');
  const queueFollowers = new Set<(node: string) => void>();
  return {
    db,
    knowledge,
    identity: pgIdentityStorage(db),
    privateKey: pgKeyStorage(db),
    openQueues: async (o) => {
      const q = await PgEventQueues.open(db, o);
      queues.add(q);
      q.onRemoteQueued((node) => {
        for (const f of queueFollowers) f(node);
      });
      return q;
    },
    openInbox: (o) => PgInbox.open(db, o),
    follow: (follower) => {
      const off = knowledge.onRemoteChange((change) => ('rid' in change ? follower.changed(change.rid) : follower.reloaded()));
      const queued = (node: string): void => follower.queued(node);
      queueFollowers.add(queued);
      return () => {
        off();
        queueFollowers.delete(queued);
      };
    },
    close: async () => {
      await listener.close();
      await serial.idle;
      await db.close();
    },
  };
}
