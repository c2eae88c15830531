/**
 * Observing nodes from outside, the way a peer or an operator would: the KOI-net HTTP API of full
 * nodes, and the node directory (`koi-net status --json`, or the same reader in-process while the
 * node runs, which is cheaper than a process per check and changes nothing on disk).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { QueueKind } from '../../../src/queues/index.ts';
import type { NodeStatus } from '../../../src/cli/status.ts';
import { readNodeStatus } from '../../../src/cli/status.ts';
import { Cache } from '../../../src/cache/index.ts';
import { silentLogger } from '../../../src/logger.ts';
import { RID } from '../../../src/rid/index.ts';
import type { BundleJSON, BundlesPayload, EdgeProfile, EventJSON, RidsPayload } from '../../../src/protocol/index.ts';
import { CLI_ARGS, REPO_ROOT } from './processes.ts';

export const NODE_TYPE = 'orn:koi-net.node';
export const EDGE_TYPE = 'orn:koi-net.edge';

/**
 * POST JSON without keep-alive: a pooled socket would hold the test process (and a node being
 * stopped) open for seconds after the last request.
 */
export function postJson<T>(url: string, body: unknown): Promise<T> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }, timeout: 5_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300) return reject(new Error(`POST ${url} -> ${res.statusCode}: ${text.slice(0, 500)}`));
          try {
            resolve(JSON.parse(text) as T);
          } catch (err) {
            reject(new Error(`POST ${url}: not JSON: ${text.slice(0, 200)} (${String(err)})`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`POST ${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export async function fetchRids(baseUrl: string, ridTypes: string[]): Promise<string[]> {
  const { rids } = await postJson<RidsPayload>(`${baseUrl}/rids/fetch`, { rid_types: ridTypes });
  return rids.map(String);
}

export async function fetchBundles(baseUrl: string, rids: string[]): Promise<BundleJSON[]> {
  if (rids.length === 0) return [];
  const { bundles } = await postJson<BundlesPayload>(`${baseUrl}/bundles/fetch`, { rids });
  return bundles ?? [];
}

/** Every edge a full node holds, with its RID. */
export async function fetchEdges(baseUrl: string): Promise<(EdgeProfile & { rid: string })[]> {
  const bundles = await fetchBundles(baseUrl, await fetchRids(baseUrl, [EDGE_TYPE]));
  return bundles.map((b) => ({ ...(b.contents as unknown as EdgeProfile), rid: String(b.manifest.rid) }));
}

/** The node directory as `koi-net status --json` reports it, read in-process. */
export function nodeStatus(dataDir: string): Promise<NodeStatus> {
  return readNodeStatus(dataDir);
}

/** `koi-net status --json --data-dir DIR`, the real command (for nodes that are stopped). */
export async function cliStatus(dataDir: string): Promise<NodeStatus> {
  const { stdout } = await promisify(execFile)(process.execPath, [...CLI_ARGS, 'status', '--json', '--data-dir', dataDir], { cwd: REPO_ROOT });
  return JSON.parse(stdout) as NodeStatus;
}

/** RIDs (of the given types) in a node's cache directory. */
export async function cachedRids(dataDir: string, ridTypes?: string[]): Promise<string[]> {
  const cache = await Cache.open(join(dataDir, 'cache'), { logger: silentLogger });
  return (await cache.listRids(ridTypes)).map(String);
}

/** The cached contents of one RID, or undefined. */
export async function cachedContents(dataDir: string, rid: string): Promise<Record<string, unknown> | undefined> {
  const cache = await Cache.open(join(dataDir, 'cache'), { logger: silentLogger });
  const bundle = await cache.read(RID.fromString(rid));
  return bundle ? (bundle.contents as Record<string, unknown>) : undefined;
}

/** The edge source -> target in a status report, or undefined. */
export function statusEdge(status: NodeStatus, source: string, target: string): NodeStatus['edges'][number] | undefined {
  return status.edges.find((e) => e.source === source && e.target === target);
}

/**
 * Events a node holds for `peer` in its queue file (`event_queues.json`, the reference's format;
 * a webhook batch taken by a flush that has not been delivered yet counts as queued).
 */
export async function queuedEvents(dataDir: string, kind: QueueKind, peer: string): Promise<EventJSON[]> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'event_queues.json'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const data = JSON.parse(text) as Partial<Record<'webhook' | 'poll' | 'webhook_inflight', Record<string, EventJSON[]>>>;
  const inflight = kind === 'webhook' ? (data.webhook_inflight?.[peer] ?? []) : [];
  return [...inflight, ...(data[kind]?.[peer] ?? [])];
}
