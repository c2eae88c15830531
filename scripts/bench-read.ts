/**
 * The read paths alone, for before/after comparisons while working on them (the full harness is
 * `npm run bench`): `npx tsx scripts/bench-read.ts <data dir of a bench cache> [seconds]`, e.g.
 * the `state-100000` directory that `npm run bench -- --only state --keep-data` leaves behind.
 * Spawns a node on that data, then measures with the harness's client (fetch + JSON.parse) the p50
 * of fetch_rids of all, fetch_manifests by type and fetch_bundles of 100 random RIDs, and the
 * rate of small fetch_rids requests (`rid_types: [orn:koi-net.node]`) over 8 keep-alive
 * connections (node:http, bodies read but not parsed). Each figure comes with the node's CPU time
 * per request (user + system from /proc), which is steadier than wall time on a shared machine.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { ChildNode, BENCH_RID_TYPE, freePort, latencyStats, postJson, seededRandom, timeIt } from './bench/lib.ts';

const dataDir = process.argv[2];
if (!dataDir) {
  console.error('usage: tsx scripts/bench-read.ts <bench data dir, e.g. .../state-100000> [seconds]');
  process.exit(2);
}
const seconds = Number(process.argv[3] ?? 5);
const size = Number(/state-(\d+)/.exec(dataDir)?.[1] ?? 1000);

/** CPU time (user + system, ms) the node's process has used so far: wall time swings with the machine's load. */
function cpuMs(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

const port = await freePort();
const node = ChildNode.spawn({ name: 'read-bench', dataDir, port, providesEvent: [], providesState: [BENCH_RID_TYPE] });
await node.ready;
const base = node.url;
try {
  const r0 = cpuMs(node.child.pid);
  const rids = latencyStats(await timeIt(3, 30, () => postJson(base, '/rids/fetch', {})));
  const ridsCpuUs = Math.round(((cpuMs(node.child.pid) - r0) * 1000) / 33);
  const m0 = cpuMs(node.child.pid);
  const manifests = latencyStats(await timeIt(2, 15, () => postJson(base, '/manifests/fetch', { rid_types: [BENCH_RID_TYPE] })));
  const manifestsCpuUs = Math.round(((cpuMs(node.child.pid) - m0) * 1000) / 17);
  const rnd = seededRandom(1);
  const pick = (): string[] => Array.from({ length: 100 }, () => `${BENCH_RID_TYPE}:state-${rnd(size)}`);
  const b0 = cpuMs(node.child.pid);
  const bundles = latencyStats(await timeIt(20, 300, () => postJson(base, '/bundles/fetch', { rids: pick() })));
  const bundlesCpuUs = Math.round(((cpuMs(node.child.pid) - b0) * 1000) / 320);

  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const body = JSON.stringify({ rid_types: ['orn:koi-net.node'] });
  const url = new URL(`${base}/rids/fetch`);
  const small = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(
        { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  for (let i = 0; i < 500; i++) await small();
  let done = 0;
  const until = performance.now() + seconds * 1000;
  const cpu0 = cpuMs(node.child.pid);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (performance.now() < until) {
        await small();
        done++;
      }
    }),
  );
  const rate = Math.round(done / ((performance.now() - t0) / 1000));
  const cpuPerSmallUs = Math.round(((cpuMs(node.child.pid) - cpu0) * 1000) / done);
  agent.destroy();
  console.log(
    JSON.stringify({
      size,
      fetchRidsAllP50Ms: rids.medianMs,
      fetchRidsAllServerCpuUsPerReq: ridsCpuUs,
      fetchManifestsByTypeP50Ms: manifests.medianMs,
      fetchManifestsServerCpuUsPerReq: manifestsCpuUs,
      fetchBundles100P50Ms: bundles.medianMs,
      fetchBundles100P99Ms: bundles.p99Ms,
      fetchBundles100ServerCpuUsPerReq: bundlesCpuUs,
      smallFetchRids8ConnReqPerS: rate,
      smallFetchRidsServerCpuUsPerReq: cpuPerSmallUs,
      peakRssMb: Math.round((await node.stats()).peakRss / 2 ** 20),
    }),
  );
} finally {
  await node.stop();
}
