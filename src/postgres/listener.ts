/**
 * The one LISTEN session of a process (several processes serve one node): writers call
 * pg_notify in the writing statement, so a notification is sent exactly when the change commits,
 * and every process's listener hears it. Payloads are `<origin owner> <data>`; a process skips
 * its own. The session is named like the pool's (`koi-net:<owner>`), so it also marks this
 * process alive for the claim and inbox liveness checks. A dropped session reconnects with
 * backoff and then asks for a full reload: notifications sent meanwhile are lost.
 */
import pg from 'pg';
import { silentLogger, type Logger } from '../logger.ts';
import { errorText } from '../util/error-text.ts';
import type { PgDatabase } from './database.ts';

export const CHANNELS = { bundles: 'koi_bundles', queues: 'koi_queues' } as const;
export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];

/** The longest data a payload carries; a longer RID is announced as `*` (reload everything). */
export const MAX_NOTIFY_DATA = 7_000;

export interface ListenerHandlers {
  notification(channel: Channel, data: string): void;
  /** The session came back after a drop: what was missed must be read again. */
  reconnected(): void;
}

export class PgListener {
  private client: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  private delay = 250;

  private constructor(
    private readonly db: PgDatabase,
    private readonly handlers: ListenerHandlers,
    private readonly logger: Logger,
  ) {}

  static async open(db: PgDatabase, handlers: ListenerHandlers, logger: Logger = silentLogger): Promise<PgListener> {
    const listener = new PgListener(db, handlers, logger);
    await listener.connect();
    return listener;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.db.url, connectionTimeoutMillis: 5_000, application_name: this.db.applicationName });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', (msg) => {
      const payload = msg.payload ?? '';
      const space = payload.indexOf(' ');
      if (space < 0 || payload.slice(0, space) === this.db.owner) return;
      this.handlers.notification(msg.channel as Channel, payload.slice(space + 1));
    });
    try {
      await client.connect();
      for (const channel of Object.values(CHANNELS)) await client.query(`LISTEN ${channel}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw err;
    }
    this.client = client;
    this.delay = 250;
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    this.logger.warn({ store: this.db.where, err: errorText(err) }, 'PostgreSQL LISTEN session lost; reconnecting, then reloading');
    this.schedule();
  }

  private schedule(): void {
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.closed) return;
      this.connect().then(
        () => {
          if (this.closed) return void this.close();
          this.logger.info({ store: this.db.where }, 'PostgreSQL LISTEN session back; reloading shared state');
          this.handlers.reconnected();
        },
        () => {
          this.delay = Math.min(this.delay * 2, 5_000);
          this.schedule();
        },
      );
    }, this.delay);
    this.retry.unref();
  }
}

/** SQL for a notification sent with the statement's commit: `pg_notify(channel, owner || ' ' || data)`. */
export function notifySql(channel: Channel, ownerParam: string, dataExpr: string): string {
  return `pg_notify('${channel}', ${ownerParam} || ' ' || CASE WHEN length(${dataExpr}) > ${MAX_NOTIFY_DATA} THEN '*' ELSE ${dataExpr} END)`;
}
