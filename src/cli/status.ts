/**
 * `koi-net status`: a report on a node directory from its files, read through the modules the
 * node itself uses (identity, cache, event queues with their journals), without changing them.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { UsageError } from '../config/index.ts';
import { Cache } from '../cache/index.ts';
import { readNodeIdentity } from '../identity/index.ts';
import { silentLogger } from '../logger.ts';
import { NetworkGraph } from '../graph/index.ts';
import { EventQueues } from '../queues/index.ts';
import { parseNodeProfile, type NodeProfile } from '../protocol/index.ts';
import type { KnowledgeStore } from '../cache/index.ts';
import type { KoiNetNode } from '../rid/index.ts';
import { RID } from '../rid/index.ts';

export interface NodeStatus {
  data_dir: string;
  /** The PostgreSQL store the node keeps its data in (password hidden); absent for files. */
  store?: string;
  identity: { rid: string; profile: NodeProfile } | null;
  neighbors: { rid: string; node_type: string | null; base_url: string | null }[];
  edges: { rid: string; source: string; target: string; edge_type: string; status: string; rid_types: string[] }[];
  queues: { webhook: Record<string, number>; poll: Record<string, number>; webhook_inflight: Record<string, number> };
  cache: { total: number; by_type: Record<string, number> };
}

/** Reads a node directory without changing it (no lock, no writes). */
export async function readNodeStatus(dataDir: string): Promise<NodeStatus> {
  const dir = resolve(dataDir);
  if (!existsSync(dir)) throw new UsageError(`no node directory at ${dir}`);
  const status: NodeStatus = {
    data_dir: dir,
    identity: null,
    neighbors: [],
    edges: [],
    queues: { webhook: {}, poll: {}, webhook_inflight: {} },
    cache: { total: 0, by_type: {} },
  };
  const identity = await readNodeIdentity(join(dir, 'identity.json'));
  if (identity) status.identity = { rid: String(identity.rid), profile: identity.profile };

  const cacheDir = join(dir, 'cache');
  // Cache.open creates a missing directory; a status report must not.
  if (existsSync(cacheDir)) {
    const cache = await Cache.open(cacheDir, { logger: silentLogger });
    status.cache.total = cache.size;
    for (const rid of cache.listRids()) {
      const t = rid.type.toString();
      status.cache.by_type[t] = (status.cache.by_type[t] ?? 0) + 1;
    }
    if (identity) await addGraph(status, cache, identity.rid);
  }

  const depths = await readQueueDepths(join(dir, 'event_queues.json'));
  if (depths) {
    const nonEmpty = (m: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(m).filter(([, n]) => n > 0));
    status.queues = { webhook: nonEmpty(depths.webhook), poll: nonEmpty(depths.poll), webhook_inflight: nonEmpty(depths.webhookInflight) };
  }
  return status;
}

/** Neighbours and edges, as the node's graph sees them in its knowledge. */
async function addGraph(status: NodeStatus, knowledge: KnowledgeStore, rid: KoiNetNode): Promise<void> {
  const graph = new NetworkGraph(knowledge, rid, { logger: silentLogger });
  await graph.generate();
  for (const n of graph.getNeighbors()) {
    const p = graph.getNodeProfile(n);
    status.neighbors.push({ rid: String(n), node_type: p?.node_type ?? null, base_url: p?.base_url ?? null });
  }
  for (const e of graph.getEdges()) {
    const p = graph.getEdgeProfile({ rid: e });
    if (p) status.edges.push({ rid: String(e), source: p.source, target: p.target, edge_type: p.edge_type, status: p.status, rid_types: p.rid_types.map(String) });
  }
}

/**
 * The same report for a node on PostgreSQL, read from the database through read-only sessions
 * (nothing created, migrated or locked: the node may be running). `dataDir` is where its config
 * and lock live.
 */
export async function readStoreStatus(url: string, dataDir: string): Promise<NodeStatus> {
  const { PgDatabase, PgKnowledgeStore, redactUrl } = await import('../postgres/index.ts');
  const db = await PgDatabase.open(url, { readOnly: true, max: 2 });
  try {
    const status: NodeStatus = {
      data_dir: resolve(dataDir),
      store: redactUrl(url),
      identity: null,
      neighbors: [],
      edges: [],
      queues: { webhook: {}, poll: {}, webhook_inflight: {} },
      cache: { total: 0, by_type: {} },
    };
    const id = await db.query<{ rid: string; profile: unknown }>('SELECT rid, profile FROM koi_identity WHERE id = 1');
    const row = id.rows[0];
    const rid = row ? RID.fromString(row.rid) : undefined;
    if (row) status.identity = { rid: row.rid, profile: parseNodeProfile(row.profile) };
    const types = await db.query<{ rid_type: string; n: string }>('SELECT rid_type, count(*) AS n FROM koi_bundles GROUP BY rid_type ORDER BY rid_type');
    for (const t of types.rows) {
      status.cache.by_type[t.rid_type] = Number(t.n);
      status.cache.total += Number(t.n);
    }
    if (rid && status.cache.total > 0) await addGraph(status, await PgKnowledgeStore.open(db), rid as KoiNetNode);
    const depths = await db.query<{ kind: 'webhook' | 'poll'; peer: string; inflight: boolean; n: string }>(
      'SELECT kind, peer, inflight, count(*) AS n FROM koi_queue_events GROUP BY kind, peer, inflight ORDER BY kind, peer',
    );
    for (const d of depths.rows) {
      const m = status.queues[d.kind];
      m[d.peer] = (m[d.peer] ?? 0) + Number(d.n);
      if (d.inflight) status.queues.webhook_inflight[d.peer] = (status.queues.webhook_inflight[d.peer] ?? 0) + Number(d.n);
    }
    return status;
  } finally {
    await db.close();
  }
}

/**
 * Queue depths as the node would load them: snapshot plus journals. Opening the store folds the
 * journals into a new snapshot and tidies the directory, so it opens a copy of the queue files
 * (the node may be running and owns the originals).
 */
async function readQueueDepths(filePath: string): Promise<ReturnType<EventQueues['depths']> | undefined> {
  return withQueueCopy(filePath, (queues) => queues.depths());
}

/**
 * Runs `read` on the event queues at `filePath` as the node would load them, opened from a copy
 * (see readQueueDepths); undefined when there are no queue files. `koi-net migrate` reads the
 * queued events this way too.
 */
export async function withQueueCopy<T>(filePath: string, read: (queues: EventQueues) => T): Promise<T | undefined> {
  const dir = resolve(filePath, '..');
  const base = basename(filePath);
  const files = (await readdir(dir)).filter((n) => n === base || /^\.journal-\d+$/.test(n.slice(base.length)) && n.startsWith(base));
  if (files.length === 0) return undefined;
  const copyDir = await mkdtemp(join(tmpdir(), 'koi-net-status-'));
  try {
    for (const name of files) await copyFile(join(dir, name), join(copyDir, name)).catch(ignoreMissing);
    const queues = await EventQueues.open(join(copyDir, base), { idleCompactMs: 0, logger: silentLogger });
    try {
      return read(queues);
    } finally {
      await queues.close();
    }
  } finally {
    await rm(copyDir, { recursive: true, force: true });
  }
}

/** A journal the running node folded away between the listing and the copy. */
function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

export function formatStatus(s: NodeStatus): string {
  const lines: string[] = [];
  lines.push(`data dir:  ${s.data_dir}`);
  if (s.store) lines.push(`store:     ${s.store}`);
  if (s.identity) {
    lines.push(`node:      ${s.identity.rid}`);
    lines.push(`type:      ${s.identity.profile.node_type}${s.identity.profile.base_url ? `  ${s.identity.profile.base_url}` : ''}`);
    lines.push(`provides:  event [${s.identity.profile.provides.event.join(', ')}]  state [${(s.identity.profile.provides.state ?? []).join(', ')}]`);
  } else {
    lines.push('node:      (no identity yet: the node has never started)');
  }
  lines.push(`neighbors: ${s.neighbors.length}`);
  for (const n of s.neighbors) lines.push(`  ${n.rid}  ${n.node_type ?? '?'}${n.base_url ? `  ${n.base_url}` : ''}`);
  lines.push(`edges:     ${s.edges.length}`);
  for (const e of s.edges) lines.push(`  ${e.source} -> ${e.target}  ${e.edge_type} ${e.status}  [${e.rid_types.join(', ')}]`);
  const sum = (m: Record<string, number>): number => Object.values(m).reduce((a, b) => a + b, 0);
  lines.push(`queues:    webhook ${sum(s.queues.webhook)} (in flight ${sum(s.queues.webhook_inflight)}), poll ${sum(s.queues.poll)}`);
  for (const [k, v] of Object.entries(s.queues.webhook)) lines.push(`  webhook ${k}: ${v}`);
  for (const [k, v] of Object.entries(s.queues.poll)) lines.push(`  poll    ${k}: ${v}`);
  lines.push(`cache:     ${s.cache.total} bundle(s)`);
  for (const [t, n] of Object.entries(s.cache.by_type).sort()) lines.push(`  ${t}: ${n}`);
  return lines.join('\n') + '\n';
}
