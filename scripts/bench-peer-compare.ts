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
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestHandler, type RequestHandlerOptions } from '../src/network/index.ts';
import { NodeKeyPair, signEnvelope } from '../src/secure/index.ts';
import type { KoiNetNode } from '../src/rid/index.ts';
import type { NodeProfile } from '../src/protocol/index.ts';
import { BENCH_RID_TYPE, ChildNode, benchBundle, freePort, round, seededRandom, writeCacheFiles } from './bench/lib.ts';

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
  RequestHandler: new (o: RequestHandlerOptions) => Handler;
};

/**
 * The signed calls (`signed …`) go to an in-process server answering the same pre-signed envelope
 * every time (1,000 RIDs, or 10 bundles, from B to A), so only the client's work differs.
 */
const keyA = NodeKeyPair.generate();
const keyB = NodeKeyPair.generate();
// As strings: the other checkout has its own RID classes.
const a = keyA.nodeRid('a').toString() as unknown as KoiNetNode;
const b = keyB.nodeRid('b').toString();
const signedAnswers: Record<string, string> = {
  '/koi-net/rids/fetch': signEnvelope(
    { type: 'rids_payload', rids: Array.from({ length: SIZE }, (_, i) => `${BENCH_RID_TYPE}:state-${i}`) },
    { sourceNode: b, targetNode: a, keyPair: keyB },
  ),
  '/koi-net/bundles/fetch': signEnvelope(
    { type: 'bundles_payload', bundles: Array.from({ length: 10 }, (_, i) => benchBundle(i, 'state')), not_found: [], deferred: [] },
    { sourceNode: b, targetNode: a, keyPair: keyB },
  ),
};
const signedServer = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(signedAnswers[req.url ?? ''] ?? 'null'));
});
await new Promise<void>((r) => signedServer.listen(0, '127.0.0.1', r));
const signedUrl = `http://127.0.0.1:${(signedServer.address() as AddressInfo).port}/koi-net`;
const profileB = { node_type: 'FULL', base_url: signedUrl, provides: { event: [], state: [] }, public_key: keyB.publicKeyDerB64 } as unknown as NodeProfile;
const signedGraph = { getNodeProfile: (rid: KoiNetNode): NodeProfile | undefined => (rid.toString() === b ? profileB : undefined) };
const signedOptions: RequestHandlerOptions = { graph: signedGraph, signed: { keyPair: keyA, self: a } };

const dataDir = await mkdtemp(join(tmpdir(), 'koi-bench-peer-'));
writeCacheFiles(dataDir, SIZE);
const node = ChildNode.spawn({ name: 'peer-bench', dataDir, port: await freePort(), providesEvent: [], providesState: [BENCH_RID_TYPE] });
try {
  await node.ready;
  const target = { url: node.url };
  const graph = { getNodeProfile: (): undefined => undefined };
  const impls: Record<string, Handler> = { this: new RequestHandler({ graph }), other: new OtherHandler({ graph }) };
  const signedImpls: Record<string, Handler> = { this: new RequestHandler(signedOptions), other: new OtherHandler(signedOptions) };
  const rnd = seededRandom(1);
  const calls: Record<string, (h: Handler) => Promise<unknown>> = {
    fetchRids: (h) => h.fetchRids(target, { rid_types: [BENCH_RID_TYPE] }),
    fetchBundles: (h) => h.fetchBundles(target, { rids: Array.from({ length: 10 }, () => `${BENCH_RID_TYPE}:state-${rnd(SIZE)}`) }),
    'signed fetchRids': (h) => h.fetchRids({ node: b }, { rid_types: [BENCH_RID_TYPE] }),
    'signed fetchBundles': (h) => h.fetchBundles({ node: b }, { rids: Array.from({ length: 10 }, (_, i) => `${BENCH_RID_TYPE}:state-${i}`) }),
  };
  const implsOf = (callName: string): Record<string, Handler> => (callName.startsWith('signed') ? signedImpls : impls);
  const samples: Record<string, number[]> = {};
  const cpu: Record<string, number> = {};
  /** Per call name, the ratio of CPU per call this/other in each round: paired, so load drift cancels. */
  const ratios: Record<string, number[]> = {};
  for (const [callName, c] of Object.entries(calls)) for (const h of Object.values(implsOf(callName))) for (let i = 0; i < 50; i++) await c(h);
  for (let r = 0; r < rounds; r++) {
    for (const [callName, call] of Object.entries(calls)) {
      const roundCpu: Record<string, number> = {};
      for (const [implName, h] of r % 2 === 0 ? Object.entries(implsOf(callName)) : Object.entries(implsOf(callName)).reverse()) {
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
  signedServer.closeAllConnections();
  signedServer.close();
  await rm(dataDir, { recursive: true, force: true });
}
