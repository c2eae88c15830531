import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Bundle, Event, EventType } from '../../src/knowledge/index.ts';
import { percentile, sleep, startChild, type Child } from './children.ts';
import type { DeliveryChildConfig } from './delivery-child.ts';

const RID_TYPE = 'orn:hung.thing';
const subscriberRid = (n: number): string => `orn:koi-net.node:sub${n}+00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/**
 * Issue 10 item 3: one webhook subscriber that accepts connections and never answers (SIGSTOP)
 * must not delay another. The node runs with its default 10 s request timeout; before per-peer
 * delivery loops, the live subscriber got events up to that long after their acknowledgement.
 */
describe('reliability: a hung webhook subscriber never delays a live one', function () {
  this.timeout(90_000);
  const children: Child[] = [];
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-hung-'));
  });
  after(async () => {
    // Always: the stopped one is continued and ended too, even when the test failed.
    await Promise.all(children.map((c) => c.kill()));
    await rm(dir, { recursive: true, force: true });
  });

  it('with one subscriber stopped, every acknowledged event reaches the live one within 1 s', async () => {
    const receivedAt = new Map<string, number>();
    const live = await startChild('subscriber-child.ts', {}, (line) => {
      const rids = line['rids'];
      const t = line['t'];
      if (!Array.isArray(rids) || typeof t !== 'number') return;
      for (const rid of rids) if (!receivedAt.has(String(rid))) receivedAt.set(String(rid), t);
    });
    children.push(live);
    const hung = await startChild('subscriber-child.ts', {});
    children.push(hung);
    const config: DeliveryChildConfig = {
      dataDir: join(dir, 'node'),
      ridType: RID_TYPE,
      subscribers: [
        { rid: subscriberRid(1), url: String(hung.ready['url']) },
        { rid: subscriberRid(2), url: String(live.ready['url']) },
      ],
    };
    const node = await startChild('delivery-child.ts', config);
    children.push(node);
    const url = String(node.ready['url']);

    hung.process.kill('SIGSTOP');
    const ackedAt = new Map<string, number>();
    const until = Date.now() + 5_000;
    for (let batch = 0; Date.now() < until; batch++) {
      const rids = Array.from({ length: 5 }, (_, i) => `${RID_TYPE}:b${batch}-e${i}`);
      const body = JSON.stringify({ events: rids.map((rid) => Event.fromBundle(Bundle.generate(rid, { batch }), EventType.NEW).toJSON()) });
      const res = await fetch(`${url}/events/broadcast`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      expect(res.status).to.equal(200);
      const t = Date.now();
      for (const rid of rids) ackedAt.set(rid, t);
      await sleep(50);
    }
    // Generous wait for stragglers: the assertion is on the delays, not on this deadline.
    const deadline = Date.now() + 20_000;
    while ([...ackedAt.keys()].some((rid) => !receivedAt.has(rid)) && Date.now() < deadline) await sleep(50);

    const missing = [...ackedAt.keys()].filter((rid) => !receivedAt.has(rid));
    const delays = [...ackedAt].filter(([rid]) => receivedAt.has(rid)).map(([rid, t]) => Math.max(0, receivedAt.get(rid)! - t));
    const max = Math.max(...delays);
    console.log(`      hung-peer: ${ackedAt.size} events acknowledged, delay to the live subscriber p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms, max ${max} ms, missing ${missing.length}`);
    expect(missing).to.deep.equal([]);
    expect(max).to.be.lessThan(1_000);
  });
});
