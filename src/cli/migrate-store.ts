/**
 * Moving a node between its files and PostgreSQL, both ways, as the same node (same RID, key,
 * bundles, queued events and edges, so peers see no change and no new handshake is made):
 *
 * - `koi-net migrate --from DATA_DIR --store URL [--data-dir CONFIG_DIR]`: a file-backed node's
 *   data dir into an empty PostgreSQL store, in one transaction. Its koi-net.yaml goes into the
 *   store (`koi_config`, for the way back) and, with `--data-dir`, into CONFIG_DIR/koi-net.yaml
 *   naming the store, so that `koi-net start --data-dir CONFIG_DIR` is the node.
 * - `koi-net migrate --from-store URL --data-dir NEW_DIR [--config FILE]`: a PostgreSQL store into
 *   a new data dir (written in a temporary directory beside it and renamed into place).
 *
 * The source is only read: a file node's data dir is locked for the time of the copy (the node's
 * own lock file, removed afterwards) and a store is opened read-only under its owner lock, so a
 * node cannot start on it meanwhile; a running node is refused. So are a target store that holds
 * anything, a target directory that exists, and a source that is not a node. Unprocessed inbox
 * entries (a node that was killed) are refused too: start and stop the node once first, and it
 * processes them.
 */
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { loadConfig, renderConfig, type KoiNetConfig } from '../config/index.ts';
import { Bundle, Event } from '../knowledge/index.ts';
import { Cache, cacheFileName } from '../cache/index.ts';
import { Inbox } from '../inbox/index.ts';
import { readNodeIdentity } from '../identity/index.ts';
import { DataDirLock, DataDirLockedError } from '../data-dir-lock.ts';
import { KoiNetError } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import { errorText } from '../util/error-text.ts';
import { PgDatabase, SESSION_PREFIX, redactUrl, type Queryable } from '../postgres/database.ts';
import { MigrationError, exists, writeNewDataDir, writeQueuedEvents } from './migration-files.ts';
import { withQueueCopy } from './status.ts';

/** Everything that makes the node, as read from one backend and written to the other. */
interface NodeContents {
  rid: string;
  /** The profile as stored (JSON), so that its own bundle and hash stay what they were. */
  profile: unknown;
  /** Signed mode: the PEM as stored (encrypted when it was): the password stays the password. */
  pem: string | undefined;
  /** Manifest fields as stored (the timestamp text as signed and hashed) and the contents. */
  bundles: { rid: string; ridType: string; timestamp: string; sha256Hash: string; contentsJson: string }[];
  /** In queue order per (kind, peer); the event as its wire JSON. */
  queued: { kind: 'webhook' | 'poll'; peer: string; event: string }[];
  /** koi-net.yaml without store and data dir, or undefined when the node had none. */
  config: KoiNetConfig | undefined;
}

export interface StoreMigrationReport {
  direction: 'files-to-postgres' | 'postgres-to-files';
  rid: string;
  protocol: 'signed' | 'unsigned';
  from: string;
  to: string;
  bundles: number;
  edges: number;
  queued_events: number;
  config: string | null;
  /** The command that starts the migrated node. */
  start: string;
}

const EDGE_TYPE = 'orn:koi-net.edge';

// --- files --------------------------------------------------------------------------------------

/** Reads a file node's data dir (never writes to it). */
async function readDataDir(dir: string): Promise<NodeContents> {
  const identityFile = join(dir, 'identity.json');
  let identity: Awaited<ReturnType<typeof readNodeIdentity>>;
  try {
    identity = await readNodeIdentity(identityFile);
  } catch (err) {
    throw new MigrationError(`${identityFile}: ${errorText(err)}`);
  }
  if (!identity) throw new MigrationError(`${dir} is not a koi-net node's data dir: no identity.json (a node writes it at its first start)`);
  const raw = JSON.parse(await readFile(identityFile, 'utf8')) as { rid: string; profile: unknown };

  let config: KoiNetConfig | undefined;
  const configFile = join(dir, 'koi-net.yaml');
  if (await exists(configFile)) {
    try {
      config = await loadConfig(configFile, { env: {} });
    } catch (err) {
      throw new MigrationError(`${configFile}: ${errorText(err)}`);
    }
    if (config.store) throw new MigrationError(`${configFile} names the store ${redactUrl(config.store)}: this node's data is there, not in ${dir}`);
  }

  const pemFile = join(dir, 'priv_key.pem');
  const pem = (await exists(pemFile)) ? await readFile(pemFile, 'utf8') : undefined;
  if (config?.protocol === 'signed' && pem === undefined) throw new MigrationError(`${configFile} says protocol: signed, but ${pemFile} is missing`);
  const publicKey = (identity.profile as { public_key?: unknown }).public_key;
  if (pem === undefined && typeof publicKey === 'string') throw new MigrationError(`the profile in ${identityFile} carries a public key, but ${pemFile} is missing`);

  const bundles: NodeContents['bundles'] = [];
  const cacheDir = join(dir, 'cache');
  if (await exists(cacheDir)) {
    for (const name of (await readdir(cacheDir)).sort()) {
      if (!name.endsWith('.json')) continue; // a write interrupted by a crash leaves a temp file
      const path = join(cacheDir, name);
      let bundle: Bundle;
      try {
        bundle = Bundle.fromJSON(JSON.parse(await readFile(path, 'utf8')));
      } catch (err) {
        throw new MigrationError(`cache file ${path} is not a bundle: ${errorText(err)}`);
      }
      if (cacheFileName(bundle.rid) !== name) throw new MigrationError(`cache file ${path} holds ${String(bundle.rid)}, whose file name would be ${cacheFileName(bundle.rid)}`);
      const m = bundle.manifest;
      bundles.push({ rid: String(bundle.rid), ridType: bundle.rid.type.toString(), timestamp: m.timestamp, sha256Hash: m.sha256Hash, contentsJson: JSON.stringify(bundle.contents) });
    }
  }

  const queued: NodeContents['queued'] = [];
  const queueFile = join(dir, 'event_queues.json');
  await withQueueCopy(queueFile, (queues) => {
    for (const peer of queues.webhookNodes()) for (const e of queues.peekWebhook(peer)) queued.push({ kind: 'webhook', peer, event: JSON.stringify(e.toJSON()) });
    for (const peer of queues.pollNodes()) for (const e of queues.peekPoll(peer)) queued.push({ kind: 'poll', peer, event: JSON.stringify(e.toJSON()) });
  });

  const pending = await unprocessedFileInbox(join(dir, 'inbox.log'));
  if (pending > 0) throw unprocessedInbox(pending, `koi-net start --data-dir ${dir}`);

  return { rid: raw.rid, profile: raw.profile, pem, bundles, queued, config: config && { ...config, store: null } };
}

/** Entries past the checkpoint of a file inbox, read from a copy (opening one may rewrite it). */
async function unprocessedFileInbox(logFile: string): Promise<number> {
  if (!(await exists(logFile))) return 0;
  const copy = await mkdtemp(join(tmpdir(), 'koi-net-migrate-inbox-'));
  try {
    for (const name of [basename(logFile), `${basename(logFile)}.checkpoint`]) {
      await copyFile(join(dirname(logFile), name), join(copy, name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    const inbox = await Inbox.open(join(copy, basename(logFile)), { logger: silentLogger });
    const count = inbox.recovered.length;
    await inbox.close();
    return count;
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

function unprocessedInbox(count: number, startCommand: string): MigrationError {
  return new MigrationError(
    `the node has ${count} acknowledged broadcast batch(es) it has not processed yet (it was stopped abruptly); start it once where it is (${startCommand}), stop it, then migrate`,
  );
}

/** Writes a new data dir: in a temporary directory beside `target`, renamed into place at the end. */
async function writeDataDir(target: string, node: NodeContents, config: KoiNetConfig): Promise<void> {
  await writeNewDataDir(target, async (tmp) => {
    await writeFile(join(tmp, 'koi-net.yaml'), renderConfig({ ...config, store: null, dataDir: target }, target));
    await writeFile(join(tmp, 'identity.json'), JSON.stringify({ rid: node.rid, profile: node.profile }, null, 2) + '\n');
    if (node.pem !== undefined) {
      await writeFile(join(tmp, 'priv_key.pem'), node.pem, { mode: 0o600 });
      await chmod(join(tmp, 'priv_key.pem'), 0o600);
    }
    // No index snapshot: it would describe the temporary directory; the first start scans.
    const cache = await Cache.open(join(tmp, 'cache'), { logger: silentLogger, snapshot: false });
    for (const b of node.bundles) {
      await cache.write(Bundle.fromJSON({ manifest: { rid: b.rid, timestamp: b.timestamp, sha256_hash: b.sha256Hash }, contents: JSON.parse(b.contentsJson) as unknown }));
    }
    await cache.close();
    await writeQueuedEvents(tmp, node.queued.map((q) => ({ kind: q.kind, node: q.peer, event: Event.fromJSON(JSON.parse(q.event)) })));
  });
}

// --- PostgreSQL -----------------------------------------------------------------------------------

/** Reads a store in one snapshot (REPEATABLE READ, read only). */
async function readStore(db: PgDatabase, startHint: string): Promise<NodeContents> {
  return refusing(db, async (c) => {
    await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const id = await c.query<{ rid: string; profile: string }>('SELECT rid, profile::text AS profile FROM koi_identity WHERE id = 1');
    const identity = id.rows[0];
    if (!identity) throw new MigrationError(`the store ${db.where} holds no node (no identity: a node started on it writes one)`);
    const key = await c.query<{ pem: string }>('SELECT pem FROM koi_node_key WHERE id = 1');
    const bundles = await c.query<{ rid: string; rid_type: string; timestamp: string; sha256_hash: string; contents: string }>(
      'SELECT rid, rid_type, timestamp, sha256_hash, contents::text AS contents FROM koi_bundles ORDER BY rid',
    );
    const queued = await c.query<{ kind: 'webhook' | 'poll'; peer: string; event: string }>('SELECT kind, peer, event FROM koi_queue_events ORDER BY kind, peer, id');
    // Each process checkpoints its own inbox rows (schema v2).
    const inbox = await c.query<{ n: string }>(
      'SELECT count(*) AS n FROM koi_inbox i WHERE i.seq > COALESCE((SELECT c.seq FROM koi_inbox_checkpoints c WHERE c.owner = i.owner), 0)',
    );
    const pending = Number(inbox.rows[0]?.n ?? 0);
    if (pending > 0) throw unprocessedInbox(pending, startHint);
    let config: KoiNetConfig | undefined;
    if (await hasTable(c, 'koi_config')) {
      const row = await c.query<{ yaml: string }>('SELECT yaml FROM koi_config WHERE id = 1');
      if (row.rows[0]) config = await configFromText(row.rows[0].yaml, `${db.where} (koi_config)`);
    }
    return {
      rid: identity.rid,
      profile: JSON.parse(identity.profile) as unknown,
      pem: key.rows[0]?.pem,
      bundles: bundles.rows.map((r) => ({ rid: r.rid, ridType: r.rid_type, timestamp: r.timestamp, sha256Hash: r.sha256_hash, contentsJson: r.contents })),
      queued: queued.rows,
      config,
    };
  });
}

/** db.transaction, with a refusal passed on as itself (the database wraps anything else as a store failure). */
async function refusing<T>(db: PgDatabase, work: (c: Queryable) => Promise<T>): Promise<T> {
  let refusal: MigrationError | undefined;
  try {
    return await db.transaction(async (c) => {
      try {
        return await work(c);
      } catch (err) {
        if (err instanceof MigrationError) refusal = err;
        throw err;
      }
    });
  } catch (err) {
    throw refusal ?? err;
  }
}

async function hasTable(c: Queryable, name: string): Promise<boolean> {
  const { rows } = await c.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [name]);
  return Boolean(rows[0]?.t);
}

/** A config kept as YAML text, read as the node reads its file (relative data_dir: the file's dir). */
async function configFromText(text: string, where: string): Promise<KoiNetConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'koi-net-migrate-config-'));
  try {
    await writeFile(join(dir, 'koi-net.yaml'), text);
    return await loadConfig(join(dir, 'koi-net.yaml'), { env: {} });
  } catch (err) {
    throw new MigrationError(`${where}: ${errorText(err)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes the node into an empty store; everything or nothing. `beforeCommit` runs last inside the transaction. */
async function writeStore(db: PgDatabase, node: NodeContents, source: string, beforeCommit: () => Promise<void>): Promise<void> {
  await refusing(db, async (c) => {
    const held = await c.query<{ identity: string | null; bundles: string; queued: string; inbox: string; key: string }>(
      `SELECT (SELECT rid FROM koi_identity WHERE id = 1) AS identity, (SELECT count(*) FROM koi_bundles) AS bundles,
              (SELECT count(*) FROM koi_queue_events) AS queued, (SELECT count(*) FROM koi_inbox) AS inbox, (SELECT count(*) FROM koi_node_key) AS key`,
    );
    const h = held.rows[0]!;
    if (h.identity) throw new MigrationError(`the store ${db.where} already holds the node ${h.identity}; migrate into an empty database`);
    const counts = { bundles: Number(h.bundles), 'queued events': Number(h.queued), 'inbox entries': Number(h.inbox), keys: Number(h.key) };
    const nonEmpty = Object.entries(counts).filter(([, n]) => n > 0);
    if (nonEmpty.length > 0) throw new MigrationError(`the store ${db.where} is not empty (${nonEmpty.map(([k, n]) => `${n} ${k}`).join(', ')}); migrate into an empty database`);

    await c.query('INSERT INTO koi_identity (id, rid, profile) VALUES (1, $1, $2)', [node.rid, JSON.stringify(node.profile)]);
    if (node.pem !== undefined) await c.query('INSERT INTO koi_node_key (id, pem) VALUES (1, $1)', [node.pem]);
    for (let i = 0; i < node.bundles.length; i += 500) {
      const part = node.bundles.slice(i, i + 500);
      await c.query(
        `INSERT INTO koi_bundles (rid, rid_type, timestamp, sha256_hash, contents)
         SELECT r, t, ts, h, c::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(r, t, ts, h, c)`,
        [part.map((b) => b.rid), part.map((b) => b.ridType), part.map((b) => b.timestamp), part.map((b) => b.sha256Hash), part.map((b) => b.contentsJson)],
      );
    }
    // The table is empty: ids 1..n keep each queue's order; the sequence goes on from there.
    for (let i = 0; i < node.queued.length; i += 1000) {
      const part = node.queued.slice(i, i + 1000);
      await c.query(
        `INSERT INTO koi_queue_events (id, kind, peer, event)
         SELECT $1::bigint + n, k, p, e FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(k, p, e, n)`,
        [i, part.map((q) => q.kind), part.map((q) => q.peer), part.map((q) => q.event)],
      );
    }
    if (node.queued.length > 0) await c.query("SELECT setval('koi_queue_events_id', $1)", [node.queued.length]);
    if (node.config) {
      await c.query('INSERT INTO koi_config (id, yaml, source) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET yaml = EXCLUDED.yaml, source = EXCLUDED.source, migrated_at = now()', [
        renderConfig({ ...node.config, store: null, dataDir: '.' }),
        source,
      ]);
    }
    await beforeCommit();
  });
}

// --- the two directions ---------------------------------------------------------------------------

export interface ToStoreOptions {
  from: string;
  store: string;
  /** A new directory for koi-net.yaml (naming the store) and the node's lock; must not exist. */
  configDir?: string;
}

export async function migrateDataDirToStore(options: ToStoreOptions): Promise<StoreMigrationReport> {
  const from = resolve(options.from);
  const configDir = options.configDir === undefined ? undefined : resolve(options.configDir);
  if (!(await exists(from))) throw new MigrationError(`no data dir at ${from}`);
  if (configDir !== undefined && (await exists(configDir))) throw new MigrationError(`${configDir} already exists; name a new directory for the config`);
  const where = redactUrl(options.store);
  // The node's own lock: a running node is refused, and none can start while we copy.
  let lock: DataDirLock;
  try {
    lock = await DataDirLock.acquire(from);
  } catch (err) {
    if (err instanceof DataDirLockedError) throw new MigrationError(`the node in ${from} is running (pid ${err.pid}); stop it first`);
    throw err;
  }
  try {
    const node = await readDataDir(from);
    if (configDir !== undefined && !node.config) throw new MigrationError(`${from} has no koi-net.yaml to carry into ${configDir}; leave out --data-dir and start with the node's flags plus --store`);
    const db = await PgDatabase.open(options.store);
    try {
      await refuseWhileServed(db, `a koi-net node is running on ${where}; a migration needs an empty store nobody uses`);
      {
        let written: string | undefined;
        try {
          await writeStore(db, node, from, async () => {
            if (configDir === undefined || !node.config) return;
            await writeConfigDir(configDir, { ...node.config, store: options.store, dataDir: configDir });
            written = configDir;
          });
        } catch (err) {
          // The transaction did not commit: the config dir must not name a store without the node.
          if (written !== undefined) await rm(written, { recursive: true, force: true });
          throw err;
        }
      }
    } finally {
      await db.close();
    }
    const start = configDir !== undefined ? `koi-net start --data-dir ${configDir}` : node.config ? `koi-net start --data-dir ${from} --store ${where}` : `koi-net start --store ${where} (plus the node's usual flags)`;
    return report('files-to-postgres', node, from, where, configDir !== undefined ? join(configDir, 'koi-net.yaml') : node.config ? `${where} (koi_config)` : null, start);
  } finally {
    await lock.release();
  }
}

async function writeConfigDir(dir: string, config: KoiNetConfig): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const tmp = join(dirname(dir), `.${basename(dir)}.migrate-${process.pid}-${Date.now()}`);
  try {
    await mkdir(tmp);
    await writeFile(join(tmp, 'koi-net.yaml'), renderConfig(config, dir));
    if (await exists(dir)) throw new MigrationError(`${dir} appeared while migrating; nothing written there`);
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

export interface ToDataDirOptions {
  store: string;
  dataDir: string;
  /** The config to write (store and data dir replaced); default the one the store kept at migration. */
  config?: string;
}

export async function migrateStoreToDataDir(options: ToDataDirOptions): Promise<StoreMigrationReport> {
  const target = resolve(options.dataDir);
  if (await exists(target)) throw new MigrationError(`${target} already exists; migrate into a new directory`);
  const where = redactUrl(options.store);
  let given: KoiNetConfig | undefined;
  if (options.config !== undefined) {
    try {
      given = await loadConfig(resolve(options.config), { env: {} });
    } catch (err) {
      throw new MigrationError(errorText(err));
    }
  }
  let db: PgDatabase;
  try {
    db = await PgDatabase.open(options.store, { readOnly: true });
  } catch (err) {
    if (err instanceof KoiNetError && err.code === 'not_a_store') throw new MigrationError(err.message);
    throw err;
  }
  try {
    await refuseWhileServed(db, `the node on ${where} is running; stop it first`);
    const node = await readStore(db, `koi-net start --store ${where}`);
    const config = given ?? node.config;
    if (!config) throw new MigrationError(`the store ${where} keeps no config (its node was not migrated from files); pass --config with the node's koi-net.yaml`);
    await writeDataDir(target, node, config);
    return report('postgres-to-files', node, where, target, options.config !== undefined ? resolve(options.config) : `${where} (koi_config)`, `koi-net start --data-dir ${target}`);
  } finally {
    await db.close();
  }
}

/**
 * Refuses while any other koi-net process has a session on the database: every process of a node
 * names its sessions `koi-net:<owner>` (postgres/database.ts), this one included.
 */
async function refuseWhileServed(db: PgDatabase, message: string): Promise<void> {
  const others = await db.query<{ n: string }>(
    'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE $1 AND application_name <> $2',
    [`${SESSION_PREFIX}%`, db.applicationName],
  );
  if (Number(others.rows[0]?.n ?? 0) > 0) throw new MigrationError(message);
}

function report(direction: StoreMigrationReport['direction'], node: NodeContents, from: string, to: string, config: string | null, start: string): StoreMigrationReport {
  return {
    direction,
    rid: node.rid,
    protocol: node.pem !== undefined ? 'signed' : 'unsigned',
    from,
    to,
    bundles: node.bundles.length,
    edges: node.bundles.filter((b) => b.ridType === EDGE_TYPE).length,
    queued_events: node.queued.length,
    config,
    start,
  };
}
