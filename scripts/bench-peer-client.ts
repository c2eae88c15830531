/**
 * The outgoing client alone (src/peer/, `RequestHandler`), for before/after comparisons of its
 * paths: `npx tsx scripts/bench-peer-client.ts [--against <other checkout>] [--rounds 10] [--block 100]`.
 *
 * Unsigned: a full node in its own process holds 1,000 bundles of ~1 kB; `fetchRids` asks for all
 * 1,000 RIDs of the type (~26 kB answers), `fetchBundles` for 10 random ones. Signed: an in-process
 * server answers the same pre-signed envelope every time (1,000 RIDs, or 10 bundles, from B to A),
 * so only the client's work (signing, verification) differs. Each call runs rounds × block times
 * through the whole client (typed call, middleware, JSON.parse, schema check, knowledge classes).
 *
 * With --against, the RequestHandler of that checkout (e.g. a `git archive` of the base commit with
 * node_modules linked) runs in the same process against the same servers, block by block in
 * alternating order, so the machine's load drifts over both alike. Prints one JSON line: per
 * implementation and call the median and p90 wall time and this process's CPU time per call (user +
 * system, steadier than wall time on a shared machine), and with --against per call the median
 * over rounds of the paired CPU ratio this/other.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { RequestHandler, type RequestHandlerOptions } from '../src/network/index.ts';
import { NodeKeyPair, signEnvelope } from '../src/secure/index.ts';
import type { KoiNetNode } from '../src/rid/index.ts';
import type { NodeProfile } from '../src/protocol/index.ts';
import { BENCH_RID_TYPE, ChildNode, benchBundle, freePort, round, seededRandom, writeCacheFiles } from './bench/lib.ts';

const { values: args } = parseArgs({ options: { against: { type: 'string' }, rounds: { type: 'string' }, block: { type: 'string' } } });
const rounds = Number(args.rounds ?? 10);
const block = Number(args.block ?? 100);
const SIZE = 1000;

type Handler = Pick<RequestHandler, 'fetchRids' | 'fetchBundles'>;
type HandlerClass = new (options: RequestHandlerOptions) => Handler;
const classes: Record<string, HandlerClass> = { this: RequestHandler };
if (args.against) {
  const other = (await import(pathToFileURL(resolve(args.against, 'src/network/index.ts')).href)) as { RequestHandler: HandlerClass };
  classes['other'] = other.RequestHandler;
}

const keyA = NodeKeyPair.generate();
const keyB = NodeKeyPair.generate();
// As strings: another checkout has its own RID classes.
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

const dataDir = await mkdtemp(join(tmpdir(), 'koi-bench-peer-'));
writeCacheFiles(dataDir, SIZE);
const node = ChildNode.spawn({ name: 'peer-bench', dataDir, port: await freePort(), providesEvent: [], providesState: [BENCH_RID_TYPE] });
try {
  await node.ready;
  const target = { url: node.url };
  const unsigned: RequestHandlerOptions = { graph: { getNodeProfile: () => undefined } };
  const signed: RequestHandlerOptions = {
    graph: { getNodeProfile: (rid) => (rid.toString() === b ? profileB : undefined) },
    signed: { keyPair: keyA, self: a },
  };
  const handlers = (options: RequestHandlerOptions): [string, Handler][] => Object.entries(classes).map(([name, C]) => [name, new C(options)]);
  const rnd = seededRandom(1);
  const check = await new RequestHandler(unsigned).fetchRids(target, { rid_types: [BENCH_RID_TYPE] });
  if (check.rids.length !== SIZE) throw new Error(`expected ${SIZE} RIDs, got ${check.rids.length}`);
  const calls: { name: string; impls: [string, Handler][]; call: (h: Handler) => Promise<unknown> }[] = [
    { name: 'fetchRids', impls: handlers(unsigned), call: (h) => h.fetchRids(target, { rid_types: [BENCH_RID_TYPE] }) },
    {
      name: 'fetchBundles',
      impls: handlers(unsigned),
      call: (h) => h.fetchBundles(target, { rids: Array.from({ length: 10 }, () => `${BENCH_RID_TYPE}:state-${rnd(SIZE)}`) }),
    },
    { name: 'signed fetchRids', impls: handlers(signed), call: (h) => h.fetchRids({ node: b }, { rid_types: [BENCH_RID_TYPE] }) },
    {
      name: 'signed fetchBundles',
      impls: handlers(signed),
      call: (h) => h.fetchBundles({ node: b }, { rids: Array.from({ length: 10 }, (_, i) => `${BENCH_RID_TYPE}:state-${i}`) }),
    },
  ];
  const samples: Record<string, number[]> = {};
  const cpu: Record<string, number> = {};
  const ratios: Record<string, number[]> = {};
  for (const { impls, call } of calls) for (const [, h] of impls) for (let i = 0; i < 50; i++) await call(h);
  for (let r = 0; r < rounds; r++) {
    for (const { name, impls, call } of calls) {
      const roundCpu: Record<string, number> = {};
      for (const [implName, h] of r % 2 === 0 ? impls : [...impls].reverse()) {
        const key = `${implName} ${name}`;
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
      if (roundCpu['other'] !== undefined) (ratios[name] ??= []).push(roundCpu['this']! / roundCpu['other']);
    }
  }
  const at = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const out: Record<string, unknown> = { callsEach: rounds * block };
  for (const [key, list] of Object.entries(samples)) {
    list.sort((x, y) => x - y);
    out[key] = { medianMs: round(at(list, 0.5)), p90Ms: round(at(list, 0.9)), cpuUsPerCall: Math.round(cpu[key]! / list.length) };
  }
  for (const [name, list] of Object.entries(ratios)) out[`${name} cpu this/other`] = round(at(list.sort((x, y) => x - y), 0.5));
  console.log(JSON.stringify(out));
} finally {
  await node.stop();
  signedServer.closeAllConnections();
  signedServer.close();
  await rm(dataDir, { recursive: true, force: true });
}
