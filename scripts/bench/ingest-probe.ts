/**
 * `npx tsx scripts/bench/ingest-probe.ts [--events N] [--rounds R] [--rate R] [--client raw|fetch]`:
 * the bench's ingest load (NEW events of ~1 KB, batches of 100, 4 clients) against a child node,
 * reporting separately when every POST was answered, when every event was visible (in the cache
 * index) and when every file was on disk, with the CPU per event of the node (all threads, and
 * its main thread alone) and of this load generator. `--client fetch` sends with fetch() and
 * serializes each batch as it goes (the generator before ingest-client.ts), `raw` (default)
 * pre-serialized bodies over raw keep-alive sockets. BENCH_NODE_FLAGS passes flags (e.g.
 * --cpu-prof) to the child, as for the bench.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Event, EventType, type EventJSON } from '../../src/knowledge/index.ts';
import { BENCH_RID_TYPE, ChildNode, benchBundle, postJson, round, sleep } from './lib.ts';
import { HttpClient } from './http-client.ts';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '40000' }, rounds: { type: 'string', default: '1' }, rate: { type: 'string', default: '0' }, client: { type: 'string', default: 'raw' } },
});
/** Offered load in events/s (0 = as fast as answers come): a fixed rate below capacity compares CPU per event fairly. */
const offered = Number(values.rate);
const total = Number(values.events);
const rounds = Number(values.rounds);
const client = values.client;
if (client !== 'raw' && client !== 'fetch') throw new Error(`--client raw|fetch, not ${client}`);
const batchSize = 100;
const clients = 4;
const dir = mkdtempSync(join(tmpdir(), 'koi-ingest-probe-'));
const events = (prefix: string, n: number): EventJSON[] => Array.from({ length: n }, (_, i) => Event.fromBundle(benchBundle(i, prefix), EventType.NEW).toJSON());

/** CPU time (user + system, ms) the child used so far; Linux /proc only. */
const statMs = (path: string): number => {
  const fields = readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
};
/** All threads (file writes of the writer thread included: their system time swings with the disk). */
const cpuMs = (pid: number): number => statMs(`/proc/${pid}/stat`);
/** The main (JavaScript) thread alone: what the request path and the processor cost. */
const mainCpuMs = (pid: number): number => statMs(`/proc/${pid}/task/${pid}/stat`);

const node = ChildNode.spawn({ name: 'ingest-probe', dataDir: dir, port: 0, providesEvent: [], providesState: [BENCH_RID_TYPE] });
await node.ready;
try {
  /** The batches' bodies, serialized before the clock starts (raw) or as each is sent (fetch). */
  const bodiesOf = (all: EventJSON[]): Buffer[] =>
    client === 'raw' ? Array.from({ length: Math.ceil(all.length / batchSize) }, (_, b) => Buffer.from(JSON.stringify({ events: all.slice(b * batchSize, (b + 1) * batchSize) }))) : [];
  const send = async (all: EventJSON[], rate = 0, bodies = bodiesOf(all)): Promise<void> => {
    let next = 0;
    // One per run: the node closes connections left idle past its keep-alive timeout.
    const raw = client === 'raw' ? new HttpClient(node.url, clients) : undefined;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (;;) {
          const i = next;
          next += batchSize;
          if (i >= all.length) return;
          if (rate > 0) {
            const due = start + (i / rate) * 1000 - performance.now();
            if (due > 0) await sleep(due);
          }
          if (raw !== undefined) await raw.post('/events/broadcast', bodies[i / batchSize]!);
          else await postJson(node.url, '/events/broadcast', { events: all.slice(i, i + batchSize) });
        }
      }),
    );
    raw?.close();
  };
  await send(events('warm', 2000));
  for (;;) {
    const s = await node.stats();
    if (s.cacheSize >= 2001 && s.cachePendingWrites === 0) break;
    await sleep(10);
  }
  for (let r = 0; r < rounds; r++) {
    const timed = events(`ingest${r}`, total);
    const bodies = bodiesOf(timed);
    const base = (await node.stats()).cacheSize;
    const cpu0 = cpuMs(node.child.pid!);
    const main0 = mainCpuMs(node.child.pid!);
    const gen0 = process.cpuUsage();
    const t0 = performance.now();
    let visibleAt = 0;
    let generatorUs = 0;
    const sent = send(timed, offered, bodies).then(() => {
      const g = process.cpuUsage(gen0);
      generatorUs = g.user + g.system;
      return performance.now() - t0;
    });
    const watch = (async () => {
      for (;;) {
        const s = await node.stats();
        if (visibleAt === 0 && s.cacheSize >= base + total) visibleAt = performance.now() - t0;
        if (visibleAt > 0 && s.cachePendingWrites === 0) return performance.now() - t0;
        await sleep(20);
      }
    })();
    const postsMs = await sent;
    const diskMs = await watch;
    const cpu = cpuMs(node.child.pid!) - cpu0;
    const mainCpu = mainCpuMs(node.child.pid!) - main0;
    const rate = (ms: number): number => round(total / (ms / 1000), 0);
    console.log(
      JSON.stringify({ round: r, events: total, postsMs: round(postsMs, 0), visibleMs: round(visibleAt, 0), diskMs: round(diskMs, 0), ackRate: rate(postsMs), visibleRate: rate(visibleAt), diskRate: rate(diskMs), childCpuUsPerEvent: round((cpu * 1000) / total, 1), mainThreadCpuUsPerEvent: round((mainCpu * 1000) / total, 1), generatorCpuUsPerEvent: round(generatorUs / total, 1), peakRssMb: round((await node.stats()).peakRss / 2 ** 20, 1) }),
    );
  }
} finally {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
}
