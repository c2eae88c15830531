/**
 * The PostgreSQL rows (`--only pg`): the node started as users start it, `koi-net start --store
 * postgres://...` (a child process; with `--workers 2` for the second set of rows), on a throwaway
 * cluster this scenario starts and removes (test/helpers/postgres.ts: initdb in a temp dir, a free
 * port on 127.0.0.1, fsync off, as the file cache does not fsync either). Per worker count:
 * ingest (broadcasts until every bundle is a row), fetch_rids / fetch_manifests / fetch_bundles
 * at the ingested size, and fan-out to webhook and poll subscribers. The same cases as the file
 * rows of ingest, state and fanout, at the sizes given in each row.
 *
 * The 2-worker rows need `--workers` (issue 14, being built on another branch): when the CLI
 * refuses the flag, they are skipped with the CLI's reason printed, and the 1-worker rows stand.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { Bundle, Event, EventType, type EventJSON } from '../../src/knowledge/index.ts';
import { KoiNetEdge, KoiNetNode, RID } from '../../src/rid/index.ts';
import { EdgeStatus, EdgeType, NodeType, type EdgeProfile, type NodeProfile } from '../../src/protocol/index.ts';
import { destroySharedCluster, freshDatabase } from '../../test/helpers/postgres.ts';
import { BENCH_RID_TYPE, HttpClient, PACKAGE_ROOT, benchBundle, benchContents, freePort, latencyStats, procMemory, round, seededRandom, sleep, startedUrl, timeIt, writeBundleFiles } from './lib.ts';
import { startSubscriber, type Row, type ScenarioContext } from './scenarios.ts';

/** Fan-out events have their own type, so the ingest's events reach no subscriber. */
const FAN_TYPE = 'orn:bench.fan';
const CLI = ['--import', 'tsx', join(PACKAGE_ROOT, 'src', 'cli.ts')];

class WorkersUnsupported extends Error {}

interface PgNode {
  proc: ChildProcess;
  url: string;
  stderr: () => string;
  stop(): Promise<void>;
}

/** `koi-net start ... --store URL [--workers N]`; resolves when it logs "node started". */
function startPgNode(ctx: ScenarioContext, args: string[], workers: number): Promise<PgNode> {
  const all = [...args, ...(workers > 1 ? ['--workers', String(workers)] : [])];
  const proc = spawn(process.execPath, [...ctx.nodeFlags, ...CLI, 'start', ...all], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`koi-net start did not report "node started" in 60 s: ${err}`));
    }, 60_000);
    void startedUrl(proc.stdout!).then((url) => {
      clearTimeout(timer);
      resolve({ proc, url, stderr: () => err, stop });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      const why = err.trim().split('\n')[0] ?? '';
      if (workers > 1 && code === 2 && /workers/i.test(err)) reject(new WorkersUnsupported(why));
      else reject(new Error(`koi-net start exited with ${code}: ${err}`));
    });
  });
}

async function rowCount(url: string, ridType: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM koi_bundles WHERE rid_type = $1', [ridType]);
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 20): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Peak RSS of the started process (with --workers: the supervisor, not its workers). */
function peakRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const m = procMemory(pid);
  return m ? round(m.peakRss / 2 ** 20, 1) : undefined;
}

export async function postgres(ctx: ScenarioContext): Promise<Row[]> {
  const rows: Row[] = [];
  try {
    rows.push(...(await pgRun(ctx, 1)));
    if (ctx.quick) return rows;
    try {
      rows.push(...(await pgRun(ctx, 2)));
    } catch (err) {
      if (!(err instanceof WorkersUnsupported)) throw err;
      ctx.log(`  2-worker rows skipped: the CLI refuses --workers (${err.message}); they run once --workers exists`);
    }
    return rows;
  } finally {
    destroySharedCluster();
  }
}

async function pgRun(ctx: ScenarioContext, workers: number): Promise<Row[]> {
  const total = ctx.quick ? 300 : 20_000;
  const warm = ctx.quick ? 100 : 2_000;
  const fanTotal = ctx.quick ? 20 : 2_000;
  const nWebhook = ctx.quick ? 5 : 50;
  const nPoll = ctx.quick ? 2 : 20;
  const w = `${workers} worker${workers > 1 ? 's' : ''}`;
  const url = await freshDatabase(`koi_bench_w${workers}`);
  const dir = join(ctx.workDir, `pg-w${workers}`);
  rmSync(dir, { recursive: true, force: true });

  // The node's graph before it starts: a file data dir (identity + subscribers' bundles and
  // approved edges) moved into the database with `koi-net migrate`, as an operator would.
  const port = await freePort();
  const self = KoiNetNode.generate('pg-bench');
  const profile: NodeProfile = { node_type: NodeType.FULL, base_url: `http://127.0.0.1:${port}/koi-net`, provides: { event: [BENCH_RID_TYPE, FAN_TYPE], state: [BENCH_RID_TYPE] } };
  const seed = join(dir, 'seed');
  mkdirSync(seed, { recursive: true });
  writeFileSync(join(seed, 'identity.json'), JSON.stringify({ rid: String(self), profile }, null, 2));
  const subscribers = await Promise.all(Array.from({ length: nWebhook }, () => startSubscriber(FAN_TYPE)));
  const pollers = Array.from({ length: nPoll }, (_, i) => ({ rid: KoiNetNode.generate(`poller${i}`), received: new Map<string, number>() }));
  const edge = (target: KoiNetNode, edgeType: EdgeType): Bundle => {
    const p: EdgeProfile = { source: String(self), target: String(target), edge_type: edgeType, status: EdgeStatus.APPROVED, rid_types: [FAN_TYPE] };
    return Bundle.generate(KoiNetEdge.generate(self, target), p as unknown as Bundle['contents']);
  };
  const graph: Bundle[] = [];
  subscribers.forEach((s, i) => {
    const rid = KoiNetNode.generate(`subscriber${i}`);
    const p: NodeProfile = { node_type: NodeType.FULL, base_url: `http://127.0.0.1:${s.port}/koi-net`, provides: { event: [], state: [] } };
    graph.push(Bundle.generate(rid, p as unknown as Bundle['contents']), edge(rid, EdgeType.WEBHOOK));
  });
  for (const p of pollers) {
    graph.push(Bundle.generate(p.rid, { node_type: NodeType.PARTIAL, provides: { event: [], state: [] } } as unknown as Bundle['contents']), edge(p.rid, EdgeType.POLL));
  }
  writeBundleFiles(seed, graph);
  const { runMigrate } = await import('../../src/cli/migrate.ts');
  const writeOut = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  let code: number;
  try {
    code = await runMigrate(['--from', seed, '--store', url]);
  } finally {
    process.stdout.write = writeOut;
  }
  if (code !== 0) throw new Error(`koi-net migrate of the bench graph failed (${code})`);

  const args = ['--name', 'pg-bench', '--host', '127.0.0.1', '--port', String(port), '--data-dir', join(dir, 'node'), '--store', url, '--log-level', 'info', '--provides-event', BENCH_RID_TYPE, '--provides-event', FAN_TYPE, '--provides-state', BENCH_RID_TYPE];
  const node = await startPgNode(ctx, args, workers);
  ctx.log(`  pg node (${w}) up at ${node.url}`);
  const client = new HttpClient(node.url, 8);
  let polling = true;
  let pollLoops: Promise<void>[] = [];
  try {
    // --- ingest
    const events = (prefix: string, n: number): EventJSON[] => Array.from({ length: n }, (_, i) => Event.fromBundle(benchBundle(i, prefix), EventType.NEW).toJSON());
    const send = async (all: EventJSON[]): Promise<number[]> => {
      const batches: string[] = [];
      for (let i = 0; i < all.length; i += 100) batches.push(JSON.stringify({ events: all.slice(i, i + 100) }));
      const latencies: number[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < batches.length) {
            const body = batches[next++]!;
            const t0 = performance.now();
            await client.post('/events/broadcast', body);
            latencies.push(performance.now() - t0);
          }
        }),
      );
      return latencies;
    };
    await send(events('pgwarm', warm));
    await waitUntil(async () => (await rowCount(url, BENCH_RID_TYPE)) >= warm, 300_000, 'warm-up events stored');
    const t0 = performance.now();
    const latencies = await send(events('pg', total));
    await waitUntil(async () => (await rowCount(url, BENCH_RID_TYPE)) >= warm + total, 900_000, 'ingested events stored', 10);
    const elapsed = performance.now() - t0;
    const rate = round(total / (elapsed / 1000), 0);
    ctx.log(`  ${total} events stored in ${round(elapsed, 0)} ms`);
    const size = warm + total;
    const rowsOut: Row[] = [
      {
        scenario: 'pg',
        case: `${w}: ingest ${total} events, 4 clients x batches of 100`,
        latency: latencyStats(latencies),
        throughput: rate,
        throughputUnit: 'events/s',
        peakRssMb: peakRssMb(node.proc.pid),
      },
    ];

    // --- fetches at the ingested size
    const typed = JSON.stringify({ rid_types: [BENCH_RID_TYPE] });
    // Rows are committed; every process's index follows by NOTIFY (the 100 ms target): wait until
    // several answers in a row through the port (round robin over the workers) list them all.
    let rids: string[] = [];
    let full = 0;
    const seenBy = performance.now();
    await waitUntil(async () => {
      ({ rids } = await client.postJson<{ rids: string[] }>('/rids/fetch', { rid_types: [BENCH_RID_TYPE] }));
      full = rids.length >= size ? full + 1 : 0;
      return full >= 4;
    }, 10_000, `fetch_rids to list all ${size} stored`, 5);
    ctx.log(`  all ${size} listed through the port ${round(performance.now() - seenBy, 0)} ms after the last row was stored`);
    const rnd = seededRandom(1);
    const pick = (): string => JSON.stringify({ rids: Array.from({ length: 100 }, () => rids[rnd(rids.length)]!) });
    const check = await client.postJson<{ bundles: unknown[] }>('/bundles/fetch', JSON.parse(pick()));
    if (check.bundles.length !== 100) throw new Error(`fetch_bundles returned ${check.bundles.length} of 100`);
    const n = ctx.quick ? 10 : 100;
    const ridsMs = latencyStats(await timeIt(3, n, () => client.post('/rids/fetch', typed)));
    const manifestsMs = latencyStats(await timeIt(3, n, () => client.post('/manifests/fetch', typed)));
    const bodies = Array.from({ length: n * 5 + 20 }, pick);
    let k = 0;
    const bundlesMs = latencyStats(await timeIt(20, n * 5, () => client.post('/bundles/fetch', bodies[k++]!)));
    rowsOut.push(
      { scenario: 'pg', case: `${w}: fetch_rids by type, ${size} stored`, latency: ridsMs, throughput: round(1000 / ridsMs.medianMs, 1), throughputUnit: 'req/s' },
      { scenario: 'pg', case: `${w}: fetch_manifests by type, ${size} stored`, latency: manifestsMs },
      { scenario: 'pg', case: `${w}: fetch_bundles of 100, ${size} stored`, latency: bundlesMs, throughput: round(1000 / bundlesMs.medianMs, 1), throughputUnit: 'req/s' },
    );

    // --- fan-out
    pollLoops = pollers.map(async (p) => {
      const poller = new HttpClient(node.url);
      try {
        while (polling) {
          try {
            const { events: got } = await poller.postJson<{ events: { rid: string }[] }>('/events/poll', { rid: String(p.rid) });
            const now = performance.now();
            for (const e of got) if (e.rid.startsWith(FAN_TYPE)) p.received.set(e.rid, now);
            if (got.length > 0) continue;
          } catch (err) {
            ctx.log(`  poll failed: ${String(err)}`);
          }
          await sleep(100);
        }
      } finally {
        poller.close();
      }
    });
    const receivers = [...subscribers.map((s) => s.received), ...pollers.map((p) => p.received)];
    const fan = Array.from({ length: fanTotal }, (_, i) => Bundle.generate(RID.fromString(`${FAN_TYPE}:e-${i}`), benchContents(i, 500) as Bundle['contents']));
    const f0 = performance.now();
    for (let i = 0; i < fan.length; i += 100) {
      await client.post('/events/broadcast', JSON.stringify({ events: fan.slice(i, i + 100).map((b) => Event.fromBundle(b, EventType.NEW).toJSON()) }));
    }
    await waitUntil(async () => receivers.every((r) => r.size >= fanTotal), 900_000, 'fan-out delivery', 10);
    const fanMs = performance.now() - f0;
    const spreads = fan.map((b) => {
      const times = receivers.map((r) => r.get(String(b.rid)) ?? NaN);
      return Math.max(...times) - Math.min(...times);
    });
    ctx.log(`  ${fanTotal} events to ${receivers.length} receivers in ${round(fanMs, 0)} ms`);
    rowsOut.push({
      scenario: 'pg',
      case: `${w}: fan-out ${fanTotal} events (broadcast in) -> ${nWebhook} webhook + ${nPoll} poll subscribers`,
      latency: latencyStats(spreads),
      throughput: round(fanTotal / (fanMs / 1000), 0),
      throughputUnit: 'events/s',
      peakRssMb: peakRssMb(node.proc.pid),
    });
    return rowsOut;
  } finally {
    polling = false;
    await Promise.all(pollLoops);
    client.close();
    await node.stop();
    await Promise.all(subscribers.map((s) => new Promise<void>((r) => s.server.close(() => r()))));
  }
}
