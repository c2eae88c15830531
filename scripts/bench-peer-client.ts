/**
 * The outgoing client alone (src/peer/, `RequestHandler`), for before/after comparisons of its
 * fast path: `npx tsx scripts/bench-peer-client.ts [iterations=1000] [bundles per fetch=10]`.
 * Seeds a full node in its own process with 1,000 bundles of ~1 kB, then times `iterations`
 * fetchRids (all 1,000 RIDs of the type, ~40 kB answers) and `iterations` fetchBundles of random
 * RIDs, one call at a time, each through the whole client (typed call, middleware, JSON.parse,
 * schema check, knowledge classes). Prints one JSON line: per call the median and p90 wall time
 * and this process's CPU time per call (user + system), which is steadier on a shared machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RequestHandler } from '../src/network/index.ts';
import { BENCH_RID_TYPE, ChildNode, freePort, round, seededRandom, writeCacheFiles } from './bench/lib.ts';

const iterations = Number(process.argv[2] ?? 1000);
const perFetch = Number(process.argv[3] ?? 10);
const SIZE = 1000;

interface Figures {
  medianMs: number;
  p90Ms: number;
  cpuUsPerCall: number;
}

async function measure(n: number, call: () => Promise<unknown>): Promise<Figures> {
  for (let i = 0; i < Math.min(100, n); i++) await call();
  const samples: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call();
    samples.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)]!;
  return { medianMs: round(at(0.5)), p90Ms: round(at(0.9)), cpuUsPerCall: Math.round((cpu.user + cpu.system) / n) };
}

const dataDir = await mkdtemp(join(tmpdir(), 'koi-bench-peer-'));
writeCacheFiles(dataDir, SIZE);
const node = ChildNode.spawn({ name: 'peer-bench', dataDir, port: await freePort(), providesEvent: [], providesState: [BENCH_RID_TYPE] });
try {
  await node.ready;
  const target = { url: node.url };
  // No graph needed: every call names the URL.
  const handler = new RequestHandler({ graph: { getNodeProfile: () => undefined } });
  const rnd = seededRandom(1);
  const check = await handler.fetchRids(target, { rid_types: [BENCH_RID_TYPE] });
  if (check.rids.length !== SIZE) throw new Error(`expected ${SIZE} RIDs, got ${check.rids.length}`);
  const fetchRids = await measure(iterations, () => handler.fetchRids(target, { rid_types: [BENCH_RID_TYPE] }));
  const fetchBundles = await measure(iterations, async () => {
    const rids = Array.from({ length: perFetch }, () => `${BENCH_RID_TYPE}:state-${rnd(SIZE)}`);
    const { bundles } = await handler.fetchBundles(target, { rids });
    if (bundles.length === 0) throw new Error('no bundles');
  });
  console.log(JSON.stringify({ iterations, ridsPerAnswer: SIZE, bundlesPerFetch: perFetch, fetchRids, fetchBundles }));
} finally {
  await node.stop();
  await rm(dataDir, { recursive: true, force: true });
}
