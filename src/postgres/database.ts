/**
 * One PostgreSQL database behind a node: a node-postgres Pool, the connection check at open (an
 * unreachable database fails the start with one clear line), the migrations, and the one place
 * driver errors become StoreUnavailableError (the server answers those with 503).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { KoiNetError, StoreUnavailableError } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { errorText } from '../util/error-text.ts';
import { MIGRATIONS, SCHEMA_VERSION, type Migration } from './migrations.ts';
import { checkPostgresUrl, redactUrl } from './url.ts';

export { checkPostgresUrl, redactUrl };

export interface PgDatabaseOptions {
  logger?: Logger;
  /** Pool size (default 10). */
  max?: number;
  /** How long a query waits for a connection before it fails (default 5,000 ms). */
  connectTimeoutMs?: number;
  /** The migrations to apply (tests pass their own; default the node's). */
  migrations?: readonly Migration[];
  /**
   * Read only (`koi-net status`, `migrate --from-store`): every session is read-only on the
   * server side, and nothing is created or migrated; a database without a koi-net schema, or with
   * a newer one, is refused.
   */
  readOnly?: boolean;
}

/** A client of the pool, or the pool itself: what a query runs on. */
export type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * Whether a failure may pass by itself (the server is down, restarting, out of connections, or
 * the network dropped): worth retrying. Anything else (a value PostgreSQL refuses, e.g. a \u0000
 * in JSONB) fails the same way every time.
 */
export function isTransientFailure(err: unknown): boolean {
  const cause = err instanceof StoreUnavailableError ? err.cause : err;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  if (typeof code === 'string') {
    if (/^(08|53|57P)/.test(code)) return true;
    if (/^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(message);
}

/** The application_name prefix of every session a koi-net process opens; the rest is its owner id. */
export const SESSION_PREFIX = 'koi-net:';

/**
 * SQL that is true while the process whose owner id is `ownerExpr` still has a session open:
 * each process names all its sessions (pool and LISTEN client) `koi-net:<owner>`, and a killed
 * process's sessions end with its sockets. Needs every process of a node to connect as one role
 * (pg_stat_activity shows other roles' application_name only to privileged roles).
 */
export function ownerAlive(ownerExpr: string): string {
  return `EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = '${SESSION_PREFIX}' || ${ownerExpr})`;
}

export class PgDatabase {
  private closed = false;

  private constructor(
    readonly pool: pg.Pool,
    /** The URL without its password. */
    readonly where: string,
    private readonly logger: Logger,
    /** The URL as given (the LISTEN client opens its own session with it). */
    readonly url: string,
    /** This process's id on the database (claims, inbox rows, NOTIFY origin); new at each open. */
    readonly owner: string,
  ) {}

  /** The application_name of this process's sessions. */
  get applicationName(): string {
    return `${SESSION_PREFIX}${this.owner}`;
  }

  /**
   * Connects, checks the schema version and applies missing migrations. Throws
   * StoreUnavailableError when the database cannot be reached, KoiNetError `schema_too_new` when
   * it was written by a newer koi-net.
   */
  static async open(url: string, options: PgDatabaseOptions = {}): Promise<PgDatabase> {
    const problem = checkPostgresUrl(url);
    if (problem) throw new KoiNetError('invalid_store', `store ${problem}`);
    const logger = options.logger ?? silentLogger;
    const where = redactUrl(url);
    const owner = randomUUID();
    const pool = new pg.Pool({
      connectionString: url,
      application_name: `${SESSION_PREFIX}${owner}`,
      max: options.max ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      idleTimeoutMillis: 10_000,
      ...(options.readOnly ? { options: '-c default_transaction_read_only=on' } : {}),
    });
    // An idle client whose server went away emits 'error' on the pool; unhandled, it would end
    // the process. The next query takes a fresh connection.
    pool.on('error', (err) => logger.warn({ err: errorText(err), store: where }, 'PostgreSQL connection lost'));
    const db = new PgDatabase(pool, where, logger, url, owner);
    try {
      if (options.readOnly) await db.checkVersion(options.migrations ?? MIGRATIONS);
      else await db.migrate(options.migrations ?? MIGRATIONS);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return db;
  }

  /** Runs one statement; a driver failure becomes StoreUnavailableError (nothing was stored). */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /** Runs `work` in one transaction on one connection; rolled back if it throws. */
  async transaction<T>(work: (client: Queryable) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.unavailable(err);
    }
    let broken = false;
    // A connection lost while checked out emits 'error' on the client (the same error its query
    // rejects with; the pool listens only to idle ones); unheard, it would end the process.
    const onError = (err: Error): void => {
      broken = true;
      this.logger.warn({ err: errorText(err), store: this.where }, 'PostgreSQL connection lost during a transaction');
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw err instanceof KoiNetError ? err : this.unavailable(err);
    } finally {
      // A connection whose rollback failed (or that was lost) is not handed out again.
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private unavailable(err: unknown): StoreUnavailableError {
    return new StoreUnavailableError(`PostgreSQL store ${this.where} failed: ${errorText(err)}`, { cause: err });
  }

  /** The schema version, checked as migrate() checks it, without creating or changing anything. */
  private async checkVersion(migrations: readonly Migration[]): Promise<void> {
    const known = migrations.length > 0 ? migrations[migrations.length - 1]!.version : 0;
    let current: number;
    try {
      const table = await this.pool.query<{ t: string | null }>("SELECT to_regclass('koi_schema_version')::text AS t");
      if (!table.rows[0]?.t) throw new KoiNetError('not_a_store', `${this.where} holds no koi-net store (no koi_schema_version table)`);
      const row = await this.pool.query<{ v: number | null }>('SELECT max(version) AS v FROM koi_schema_version');
      current = row.rows[0]?.v ?? 0;
    } catch (err) {
      if (err instanceof KoiNetError) throw err;
      throw new StoreUnavailableError(`cannot reach the PostgreSQL store ${this.where}: ${errorText(err)}`, { cause: err });
    }
    if (current > known) {
      throw new KoiNetError('schema_too_new', `the PostgreSQL store ${this.where} has schema version ${current}, newer than this koi-net knows (${known}); upgrade koi-net`);
    }
  }

  private async migrate(migrations: readonly Migration[]): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw new StoreUnavailableError(`cannot reach the PostgreSQL store ${this.where}: ${errorText(err)}`, { cause: err });
    }
    const known = migrations.length > 0 ? migrations[migrations.length - 1]!.version : 0;
    // As in transaction(): a lost connection rejects the query below; its 'error' event is only logged.
    const onError = (err: Error): void => this.logger.warn({ err: errorText(err), store: this.where }, 'PostgreSQL connection lost while migrating');
    client.on('error', onError);
    try {
      // One process migrates; the others wait here, then find nothing left to do.
      await client.query('SELECT pg_advisory_lock(hashtext($1))', ['koi_net_schema']);
      await client.query('CREATE TABLE IF NOT EXISTS koi_schema_version (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
      const row = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM koi_schema_version');
      const current = row.rows[0]?.v ?? 0;
      if (current > known) {
        throw new KoiNetError(
          'schema_too_new',
          `the PostgreSQL store ${this.where} has schema version ${current}, newer than this koi-net knows (${known}); upgrade koi-net or use another database`,
        );
      }
      for (const m of migrations) {
        if (m.version <= current) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO koi_schema_version (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new KoiNetError('migration_failed', `migration ${m.version} (${m.name}) of ${this.where} failed: ${errorText(err)}`, { cause: err });
        }
        this.logger.info({ store: this.where, version: m.version, name: m.name }, 'PostgreSQL schema migrated');
      }
    } catch (err) {
      if (err instanceof KoiNetError) throw err;
      throw this.unavailable(err);
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', ['koi_net_schema']).catch(() => undefined);
      client.off('error', onError);
      client.release();
    }
  }
}

export { SCHEMA_VERSION };
