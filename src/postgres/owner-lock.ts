/**
 * Phase 1 runs one node process per database: the in-memory index, queue mirror and inbox seqs
 * assume no other writer. The process holds a session advisory lock on its own connection for as
 * long as the store is open, so a second process on the same database fails at start instead of
 * corrupting the first one's state. Phase 2 (several workers) replaces this with shared locks and
 * NOTIFY.
 */
import pg from 'pg';
import { KoiNetError, StoreUnavailableError } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { errorText } from '../util/error-text.ts';

const LOCK_KEY = 'koi_net_node_owner';

export class OwnerLock {
  private client: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private released = false;

  private constructor(
    private readonly url: string,
    private readonly where: string,
    private readonly logger: Logger,
  ) {}

  /** Takes the lock; throws KoiNetError `store_in_use` when another process holds it. */
  static async acquire(url: string, where: string, logger: Logger = silentLogger): Promise<OwnerLock> {
    const lock = new OwnerLock(url, where, logger);
    const taken = await lock.take();
    if (!taken) {
      throw new KoiNetError('store_in_use', `the PostgreSQL store ${where} is in use by another koi-net process (one process per database for now)`);
    }
    return lock;
  }

  async release(): Promise<void> {
    this.released = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    // Ending the session releases the lock.
    await client?.end().catch(() => undefined);
  }

  private async take(): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000 });
    // The session dies with the server (a restart, a lost network): take the lock again when it returns.
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [LOCK_KEY]);
      if (rows[0]?.ok !== true) {
        await client.end().catch(() => undefined);
        return false;
      }
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new StoreUnavailableError(`cannot reach the PostgreSQL store ${this.where}: ${errorText(err)}`, { cause: err });
    }
    this.client = client;
    return true;
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.released || this.client !== client) return;
    this.client = undefined;
    this.logger.warn({ store: this.where, err: errorText(err) }, 'lost the PostgreSQL session holding the node lock; taking it again when the database returns');
    this.schedule();
  }

  private schedule(): void {
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.released) return;
      this.take().then(
        (ok) => {
          if (ok) this.logger.info({ store: this.where }, 'node lock on the PostgreSQL store taken again');
          else this.logger.error({ store: this.where }, 'another koi-net process took this PostgreSQL store while the database was away');
          if (!ok) this.schedule();
        },
        () => this.schedule(),
      );
    }, 1_000);
    this.retry.unref();
  }
}
