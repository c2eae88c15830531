/**
 * Several processes serve one node from one PostgreSQL database: real `koi-net start` children on
 * 127.0.0.1, real SIGKILLs. (a) `--workers 2` on one port survives a killed worker; (b) two
 * separately started processes see each other's broadcasts within the 100 ms target (measured;
 * asserted at 1 s for a loaded machine); (c) webhook fan-out from two processes reaches a real
 * subscriber once each while nobody dies, at least once with a SIGKILL mid-delivery, duplicates
 * counted; (d) two processes polled at once never hand out one event twice.
 */
import { expect } from 'chai';
import pg from 'pg';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bundle, Event, EventType, type JsonObject } from '../../src/knowledge/index.ts';
import { KoiNetEdge, KoiNetNode, RID } from '../../src/rid/index.ts';
import { openPostgresStore } from '../../src/postgres/index.ts';
import { freshDatabase } from '../helpers/postgres.ts';
import { BroadcastPeer } from '../helpers/fake-peer.ts';
import { startCli, started, stopCli, type CliChild } from '../reliability/cli-child.ts';
import { sleep, waitFor } from './helpers/wait.ts';

const post = async (url: string, body: unknown): Promise<{ status: number; json: unknown }> => {
  // A request caught by a worker's death may never be answered: it times out and is sent again.
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
};
const bundleOf = (n: number): Bundle => Bundle.generate(RID.fromString(`orn:test.thing:${n}`), { n, title: `thing ${n}` });
const newEvent = (b: Bundle): unknown => Event.fromBundle(b, EventType.NEW).toJSON();
const thingRids = async (base: string): Promise<string[]> => ((await post(`${base}/rids/fetch`, { rid_types: ['orn:test.thing'] })).json as { rids: string[] }).rids;

/** Broadcasts `events` to `base` until one attempt is answered 200 (a killed worker drops its connections). */
async function broadcastAcked(base: string, events: unknown[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const ack = await post(`${base}/events/broadcast`, { events });
      if (ack.status === 200) return;
    } catch {
      // The connection died with a worker: nothing was acknowledged, so send again.
    }
    if (attempt > 50) throw new Error('broadcast never acknowledged');
    await sleep(100);
  }
}

function record(c: CliChild, msg: string, after = 0): Record<string, unknown> | undefined {
  return c.records().filter((r) => r.msg === msg)[after];
}

describe('PostgreSQL store: several processes serve one node', function () {
  this.timeout(180_000);
  let dir: string;
  const children: CliChild[] = [];
  const start = (args: string[]): CliChild => {
    const c = startCli(args);
    children.push(c);
    return c;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-pg-workers-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) await stopCli(c);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('(a) --workers 2 on one port: a SIGKILLed worker is forked again, the other keeps serving, and nothing acknowledged is lost', async () => {
    const url = await freshDatabase('koi_workers');
    const primary = start(['--name', 'pool', '--host', '127.0.0.1', '--port', '0', '--data-dir', join(dir, 'a'), '--store', url, '--workers', '2']);
    const ready = await waitFor('"workers started"', () => record(primary, 'workers started') ?? (primary.proc.exitCode !== null ? Promise.reject(new Error(primary.stderr)) : undefined), { timeoutMs: 60_000 });
    const base = String(ready.url);
    const pids = ready.workers as number[];
    expect(pids).to.have.length(2);
    // Both workers are the same node. A worker's server listens (which the supervisor announces)
    // before its own 'node started' line, and the processes share stdout: wait for both lines.
    const started = await waitFor('both workers\' "node started"', () => {
      const lines = primary.records().filter((r) => r.msg === 'node started');
      return lines.length >= 2 ? lines : undefined;
    }, { timeoutMs: 30_000 });
    const rids = new Set(started.map((r) => String(r.rid)));
    expect(rids.size).to.equal(1);

    const sent: string[] = [];
    let n = 0;
    const batch = async (): Promise<void> => {
      const bundles = Array.from({ length: 20 }, () => bundleOf(100 + n++));
      await broadcastAcked(base, bundles.map(newEvent));
      sent.push(...bundles.map((b) => String(b.rid)));
    };
    for (let i = 0; i < 10; i++) await batch();
    await waitFor('fetch through the port sees every broadcast', async () => ((await thingRids(base)).length === sent.length ? true : undefined), { timeoutMs: 30_000 });

    // Kill one worker mid-traffic; keep broadcasting through the port.
    const traffic = (async () => {
      for (let i = 0; i < 10; i++) await batch();
    })();
    await sleep(50);
    process.kill(pids[0]!, 'SIGKILL');
    await traffic;
    await waitFor('the primary forks a new worker', () => record(primary, 'worker started'), { timeoutMs: 30_000 });
    expect(record(primary, 'worker died; forking another')).to.include({ signal: 'SIGKILL', pid: pids[0] });
    await waitFor(
      'every acknowledged broadcast fetchable through the port',
      async () => {
        const got = new Set(await thingRids(base));
        return sent.every((r) => got.has(r)) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    await stopCli(primary);
    expect(primary.proc.exitCode).to.equal(0);
    expect(record(primary, 'all workers stopped')).to.not.equal(undefined);
  });

  it('(b) two processes on different ports are one node: a broadcast to A is listed by B within the 100 ms target (asserted at 1 s)', async () => {
    const url = await freshDatabase('koi_pair');
    const a = start(['--name', 'pair', '--host', '127.0.0.1', '--port', '0', '--data-dir', join(dir, 'b1'), '--store', url]);
    const b = start(['--name', 'pair', '--host', '127.0.0.1', '--port', '0', '--data-dir', join(dir, 'b2'), '--store', url]);
    const [ra, rb] = await Promise.all([started(a), started(b)]);
    expect(String(ra.rid)).to.equal(String(rb.rid));
    const [baseA, baseB] = [String(ra.url), String(rb.url)];
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const bundle = bundleOf(500 + i);
      const ack = await post(`${baseA}/events/broadcast`, { events: [newEvent(bundle)] });
      expect(ack.status).to.equal(200);
      const t0 = performance.now();
      for (;;) {
        if ((await thingRids(baseB)).includes(String(bundle.rid))) break;
        if (performance.now() - t0 > 5_000) throw new Error(`B never listed ${String(bundle.rid)}`);
      }
      times.push(performance.now() - t0);
    }
    const sorted = [...times].sort((x, y) => x - y);
    const pct = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
    console.log(`      visibility A(200) -> B(rids/fetch), 30 broadcasts: p50 ${pct(50).toFixed(1)} ms, p95 ${pct(95).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`);
    expect(sorted.at(-1)).to.be.below(1_000);
    // The bundle itself is read from the database by B at once.
    const fetched = (await post(`${baseB}/bundles/fetch`, { rids: [String(bundleOf(500).rid)] })).json as { bundles: unknown[] };
    expect(fetched.bundles).to.have.length(1);
  });

  describe('(c) webhook fan-out from two processes to one subscriber', () => {
    const subscribe = async (url: string, node: string, sub: BroadcastPeer, subRid: KoiNetNode): Promise<void> => {
      // Written by a third process (this test): both nodes' graphs follow it by NOTIFY.
      const store = await openPostgresStore(url);
      try {
        await store.knowledge.write(Bundle.generate(subRid, { base_url: sub.baseUrl, node_type: 'FULL', provides: { event: [], state: [] } }));
        const edge: JsonObject = { source: node, target: String(subRid), edge_type: 'WEBHOOK', status: 'APPROVED', rid_types: ['orn:test.thing'] };
        await store.knowledge.write(Bundle.generate(KoiNetEdge.generate(KoiNetNode.of(node), subRid), edge));
      } finally {
        await store.close();
      }
    };
    const startPair = async (url: string, name: string): Promise<[CliChild, CliChild, string, string, string]> => {
      const a = start(['--name', name, '--host', '127.0.0.1', '--port', '0', '--data-dir', join(dir, `${name}1`), '--store', url, '--provides-event', 'orn:test.thing']);
      const b = start(['--name', name, '--host', '127.0.0.1', '--port', '0', '--data-dir', join(dir, `${name}2`), '--store', url, '--provides-event', 'orn:test.thing']);
      const [ra, rb] = await Promise.all([started(a), started(b)]);
      return [a, b, String(ra.url), String(rb.url), String(ra.rid)];
    };
    const things = (sub: BroadcastPeer): string[] => sub.flat().filter((r) => r.startsWith('orn:test.thing'));

    it('each event arrives exactly once while nobody dies', async () => {
      const url = await freshDatabase('koi_fanout');
      const sub = new BroadcastPeer();
      await sub.start();
      try {
        const [, , baseA, baseB, node] = await startPair(url, 'fan');
        await subscribe(url, node, sub, KoiNetNode.generate('sub'));
        await sleep(500);
        const all: string[] = [];
        for (let i = 0; i < 40; i++) {
          const bundle = bundleOf(1_000 + i);
          all.push(String(bundle.rid));
          await broadcastAcked(i % 2 === 0 ? baseA : baseB, [newEvent(bundle)]);
        }
        await waitFor('every event delivered', () => (new Set(things(sub)).size === all.length ? true : undefined), { timeoutMs: 30_000 });
        await sleep(1_000);
        expect(things(sub).sort()).to.deep.equal([...all].sort());
      } finally {
        await sub.stop();
      }
    });

    it('with a SIGKILL mid-delivery every event arrives at least once, and the duplicates are counted', async () => {
      const url = await freshDatabase('koi_fankill');
      const sub = new BroadcastPeer();
      // Slow answers keep a batch in flight when the kill comes.
      sub.delayMs = 300;
      await sub.start();
      try {
        const [a, b, baseA, baseB, node] = await startPair(url, 'fk');
        await subscribe(url, node, sub, KoiNetNode.generate('sub'));
        await sleep(500);
        const all: string[] = [];
        for (let i = 0; i < 60; i++) {
          const bundle = bundleOf(2_000 + i);
          all.push(String(bundle.rid));
          await broadcastAcked(i % 2 === 0 ? baseA : baseB, [newEvent(bundle)]);
        }
        // Kill the process holding a claim right now (its request is at the subscriber).
        const db = new pg.Client({ connectionString: url });
        await db.connect();
        let owner: string;
        try {
          owner = await waitFor(
            'a delivery in flight',
            async () => (await db.query<{ by: string }>('SELECT claimed_by AS by FROM koi_queue_events WHERE inflight LIMIT 1')).rows[0]?.by,
            { timeoutMs: 30_000, intervalMs: 10 },
          );
        } finally {
          await db.end();
        }
        const ownerOf = (c: CliChild): unknown => record(c, 'PostgreSQL store opened')?.owner;
        const [victim, survivor] = ownerOf(a) === owner ? [a, b] : [b, a];
        expect(ownerOf(victim)).to.equal(owner);
        victim.proc.kill('SIGKILL');
        await victim.exit;
        await waitFor('every event delivered at least once', () => (all.every((r) => things(sub).includes(r)) ? true : undefined), { timeoutMs: 60_000, intervalMs: 100 });
        await sleep(1_000);
        const got = things(sub);
        const duplicates = got.length - new Set(got).size;
        const counted = survivor
          .records()
          .filter((r) => typeof r.duplicates === 'number')
          .reduce((sum, r) => sum + (r.duplicates as number), 0);
        console.log(`      SIGKILL mid-delivery: ${all.length} events, ${got.length} received, ${duplicates} duplicate(s) at the subscriber, ${counted} counted by the survivor`);
        expect(counted, 'the claim of the killed process was taken over and counted').to.be.above(0);
        expect(duplicates).to.be.at.most(counted);
      } finally {
        await sub.stop();
      }
    });
  });

  it('(d) a poll queue is drained once: two processes polled concurrently never hand out one event twice', async () => {
    const url = await freshDatabase('koi_polls');
    const [, , baseA, baseB] = await (async () => {
      const a = start(['--name', 'pq', '--host', '127.0.0.1', '--port', '0', '--data-dir', join(dir, 'd1'), '--store', url]);
      const b = start(['--name', 'pq', '--host', '127.0.0.1', '--port', '0', '--data-dir', join(dir, 'd2'), '--store', url]);
      const [ra, rb] = await Promise.all([started(a), started(b)]);
      return [a, b, String(ra.url), String(rb.url)] as const;
    })();
    const peer = String(KoiNetNode.generate('poller'));
    const store = await openPostgresStore(url);
    const queues = await store.openQueues({});
    const queued = Array.from({ length: 300 }, (_, i) => Event.fromBundle(bundleOf(3_000 + i), EventType.NEW));
    for (const e of queued) await queues.pushPoll(peer, e);
    await queues.close();
    await store.close();
    const handed: string[] = [];
    const poller = async (base: string): Promise<void> => {
      for (;;) {
        const { events } = (await post(`${base}/events/poll`, { rid: peer, limit: 7 })).json as { events: { rid: string }[] };
        if (events.length === 0) return;
        handed.push(...events.map((e) => e.rid));
      }
    };
    await Promise.all([poller(baseA), poller(baseB), poller(baseA), poller(baseB)]);
    expect(handed).to.have.length(queued.length);
    expect(new Set(handed).size).to.equal(queued.length);
  });
});
