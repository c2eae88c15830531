/**
 * A/B of the outgoing client against another checkout of this repository, in one process against
 * one node, alternating blocks of calls so the machine's load drifts over both alike:
 * `npx tsx scripts/bench-peer-compare.ts <other checkout> [rounds=10] [calls per block=100]`.
 * Prints per implementation and call the median wall time and the CPU time per call, and per call
 * the median over rounds of the CPU ratio this/other (paired within a round, so load drift cancels).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RequestHandler } from '../src/network/index.ts';
import { BENCH_RID_TYPE, ChildNode, freePort, round, seededRandom, writeCacheFiles } from './bench/lib.ts';

const other = process.argv[2];
if (!other) {
  console.error('usage: tsx scripts/bench-peer-compare.ts <other checkout> [rounds] [calls per block]');
  process.exit(2);
}
const rounds = Number(process.argv[3] ?? 10);
const block = Number(process.argv[4] ?? 100);
const SIZE = 1000;
type Handler = Pick<RequestHandler, 'fetchRids' | 'fetchBundles'>;
const { RequestHandler: OtherHandler } = (await import(pathToFileURL(resolve(other, 'src/network/index.ts')).href)) as {
  RequestHandler: new (o: { graph: { getNodeProfile(): undefined } }) => Handler;
};

const dataDir = await mkdtemp(join(tmpdir(), 'koi-bench-peer-'));
writeCacheFiles(dataDir, SIZE);
const node = ChildNode.spawn({ name: 'peer-bench', dataDir, port: await freePort(), providesEvent: [], providesState: [BENCH_RID_TYPE] });
try {
  await node.ready;
  const target = { url: node.url };
  const graph = { getNodeProfile: (): undefined => undefined };
  const impls: Record<string, Handler> = { this: new RequestHandler({ graph }), other: new OtherHandler({ graph }) };
  const rnd = seededRandom(1);
  const calls: Record<string, (h: Handler) => Promise<unknown>> = {
    fetchRids: (h) => h.fetchRids(target, { rid_types: [BENCH_RID_TYPE] }),
    fetchBundles: (h) => h.fetchBundles(target, { rids: Array.from({ length: 10 }, () => `${BENCH_RID_TYPE}:state-${rnd(SIZE)}`) }),
  };
  const samples: Record<string, number[]> = {};
  const cpu: Record<string, number> = {};
  /** Per call name, the ratio of CPU per call this/other in each round: paired, so load drift cancels. */
  const ratios: Record<string, number[]> = {};
  for (const h of Object.values(impls)) for (const c of Object.values(calls)) for (let i = 0; i < 50; i++) await c(h);
  for (let r = 0; r < rounds; r++) {
    for (const [callName, call] of Object.entries(calls)) {
      const roundCpu: Record<string, number> = {};
      for (const [implName, h] of r % 2 === 0 ? Object.entries(impls) : Object.entries(impls).reverse()) {
        const key = `${implName} ${callName}`;
        const list = (samples[key] ??= []);
        const c0 = process.cpuUsage();
        for (let i = 0; i < block; i++) {
          const t0 = performance.now();
          await call(h);
          list.push(performance.now() - t0);
        }
        const used = process.cpuUsage(c0);
        cpu[key] = (cpu[key] ?? 0) + used.user + used.system;
        roundCpu[implName] = used.user + used.system;
      }
      (ratios[callName] ??= []).push(roundCpu['this']! / roundCpu['other']!);
    }
  }
  const out: Record<string, { medianMs: number; cpuUsPerCall: number } | number> = {};
  for (const [key, list] of Object.entries(samples)) {
    list.sort((x, y) => x - y);
    out[key] = { medianMs: round(list[Math.floor(list.length / 2)]!), cpuUsPerCall: Math.round(cpu[key]! / list.length) };
  }
  for (const [callName, list] of Object.entries(ratios)) {
    list.sort((x, y) => x - y);
    out[`${callName} cpu this/other (median of rounds)`] = round(list[Math.floor(list.length / 2)]!);
  }
  console.log(JSON.stringify({ calls: rounds * block, ...out }));
} finally {
  await node.stop();
  await rm(dataDir, { recursive: true, force: true });
}
