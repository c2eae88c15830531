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
import type { NodeProfile } from '../protocol/index.ts';

export interface NodeStatus {
  data_dir: string;
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
    if (identity) {
      const graph = new NetworkGraph(cache, identity.rid, { logger: silentLogger });
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
  }

  const depths = await readQueueDepths(join(dir, 'event_queues.json'));
  if (depths) {
    const nonEmpty = (m: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(m).filter(([, n]) => n > 0));
    status.queues = { webhook: nonEmpty(depths.webhook), poll: nonEmpty(depths.poll), webhook_inflight: nonEmpty(depths.webhookInflight) };
  }
  return status;
}

/**
 * Queue depths as the node would load them: snapshot plus journals. Opening the store folds the
 * journals into a new snapshot and tidies the directory, so it opens a copy of the queue files
 * (the node may be running and owns the originals).
 */
async function readQueueDepths(filePath: string): Promise<ReturnType<EventQueues['depths']> | undefined> {
  const dir = resolve(filePath, '..');
  const base = basename(filePath);
  const files = (await readdir(dir)).filter((n) => n === base || /^\.journal-\d+$/.test(n.slice(base.length)) && n.startsWith(base));
  if (files.length === 0) return undefined;
  const copyDir = await mkdtemp(join(tmpdir(), 'koi-net-status-'));
  try {
    for (const name of files) await copyFile(join(dir, name), join(copyDir, name)).catch(ignoreMissing);
    const queues = await EventQueues.open(join(copyDir, base), { idleCompactMs: 0, logger: silentLogger });
    const depths = queues.depths();
    await queues.close();
    return depths;
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
