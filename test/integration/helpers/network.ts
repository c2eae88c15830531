/**
 * Waits phrased in protocol terms (an edge approved at a node, a node known to a node), shared by
 * the integration tests.
 */
import type { EdgeProfile } from '../../../src/protocol/index.ts';
import { cachedRids, fetchEdges, fetchRids, nodeStatus, NODE_TYPE, statusEdge } from './api.ts';
import type { NodeProcess } from './processes.ts';
import { waitFor } from './wait.ts';

/** The APPROVED edge source -> target as a running FULL node `at` holds it. */
export function waitApprovedEdgeAtFull(at: NodeProcess, source: NodeProcess, target: NodeProcess, timeoutMs = 30_000): Promise<EdgeProfile> {
  return waitFor(
    `${at.name} to hold an APPROVED edge ${source.name} -> ${target.name}`,
    async () => (await fetchEdges(at.url)).find((e) => e.source === source.rid && e.target === target.rid && e.status === 'APPROVED'),
    { timeoutMs, intervalMs: 150 },
  );
}

/** The APPROVED edge source -> target in a running node's directory (partial nodes have no API). */
export function waitApprovedEdgeOnDisk(at: NodeProcess, source: NodeProcess, target: NodeProcess, timeoutMs = 30_000): Promise<EdgeProfile> {
  return waitFor(
    `${at.name}'s directory to hold an APPROVED edge ${source.name} -> ${target.name}`,
    async () => {
      const edge = statusEdge(await nodeStatus(at.spec.dataDir), source.rid, target.rid);
      return edge?.status === 'APPROVED' ? (edge as EdgeProfile) : undefined;
    },
    { timeoutMs, intervalMs: 150 },
  );
}

/** Waits until `at` has cached the node bundles of every one of `others`. */
export async function waitKnowsNodes(at: NodeProcess, others: NodeProcess[], timeoutMs = 30_000): Promise<void> {
  const wanted = others.map((o) => o.rid);
  await waitFor(
    `${at.name} to know ${others.map((o) => o.name).join(', ')}`,
    async () => {
      const known = new Set(at.spec.type === 'full' && at.running ? await fetchRids(at.url, [NODE_TYPE]) : await cachedRids(at.spec.dataDir, [NODE_TYPE]));
      return wanted.every((r) => known.has(r));
    },
    { timeoutMs, intervalMs: 150 },
  );
}
