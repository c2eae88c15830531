/**
 * A peer refuses a broadcast whole (422) but names the events it cannot take; the sender drops only
 * those and delivers the rest at once. Real receiver: one of our full nodes over HTTP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { RID, type KoiNetNode } from '../../../src/rid/index.ts';
import { Bundle, Event, EventType, type JsonObject } from '../../../src/knowledge/index.ts';
import { Cache } from '../../../src/cache/index.ts';
import { NetworkGraph } from '../../../src/graph/index.ts';
import { EventQueues } from '../../../src/queues/index.ts';
import { RequestHandler } from '../../../src/peer/index.ts';
import { NetworkInterface, refusedEventIndexes } from '../../../src/network/network-interface.ts';
import { MAX_CONTENTS_DEPTH } from '../../../src/server/nesting.ts';
import { TestNetwork } from '../../pages/nodes.ts';
import { waitFor } from '../../integration/helpers/wait.ts';

function nested(depth: number): JsonObject {
  let v: JsonObject = { leaf: true };
  for (let i = 1; i < depth; i++) v = { n: v };
  return v;
}

describe('network/network-interface: a peer that names the events it refuses', () => {
  const net = new TestNetwork();
  let dir: string;
  afterEach(async () => {
    await net.stopAll();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refusedEventIndexes reads unsigned and signed 422 locations and nothing else', () => {
    expect([...refusedEventIndexes({ detail: [{ loc: ['body', 'events', 1, 'contents'] }] }, 3)!]).to.deep.equal([1]);
    expect([...refusedEventIndexes({ detail: [{ loc: ['body', 'payload', 'events', 0] }, { loc: ['body', 'payload', 'events', 2, 'rid'] }] }, 3)!]).to.deep.equal([0, 2]);
    expect(refusedEventIndexes({ detail: [{ loc: ['body'] }] }, 3)).to.equal(undefined);
    expect(refusedEventIndexes({ detail: [{ loc: ['body', 'events', 7] }] }, 3)).to.equal(undefined);
    expect(refusedEventIndexes({ detail: 'Not Found' }, 3)).to.equal(undefined);
    expect(refusedEventIndexes(null, 3)).to.equal(undefined);
  });

  it('drops only the event nested too deep and delivers the others to a real full node', async () => {
    const receiver = await net.start('receiver');
    dir = await mkdtemp(join(tmpdir(), 'koi-partial-refusal-'));
    const me = RID.fromString('orn:koi-net.node:sender+00000000-0000-4000-8000-000000000001') as KoiNetNode;
    const cache = await Cache.open(join(dir, 'cache'), { logger: { warn: () => {} } });
    const graph = new NetworkGraph(cache, me);
    const queues = await EventQueues.open(join(dir, 'event_queues.json'));
    const peerBundle = Bundle.generate(RID.fromString(receiver.rid), { base_url: receiver.url, node_type: 'FULL', provides: { event: [], state: [] } } as JsonObject);
    await cache.write(peerBundle);
    graph.applyWrite(peerBundle);
    const network = new NetworkInterface({
      cache,
      identity: { rid: me, profile: { base_url: 'http://127.0.0.1:9/koi-net', node_type: 'FULL', provides: { event: [], state: [] } } },
      graph,
      queues,
      requestHandler: new RequestHandler({ graph, timeoutMs: 5_000 }),
      retry: { baseDelayMs: 30, maxDelayMs: 100, jitter: 0 },
    });
    try {
      const good1 = Bundle.generate(RID.fromString('orn:test.thing:good-1'), { title: 'one' });
      const deep = Bundle.generate(RID.fromString('orn:test.thing:deep'), nested(MAX_CONTENTS_DEPTH + 20));
      const good2 = Bundle.generate(RID.fromString('orn:test.thing:good-2'), { title: 'two' });
      const target = RID.fromString(receiver.rid) as KoiNetNode;
      for (const b of [good1, deep, good2]) await network.pushEventTo(Event.fromBundle(b, EventType.NEW), target);
      await network.flushWebhookQueue(target);
      await waitFor('the good events cached by the receiver', () => receiver.node.cache.exists(good1.rid) && receiver.node.cache.exists(good2.rid), { timeoutMs: 15_000 });
      expect(receiver.node.cache.exists(deep.rid)).to.equal(false);
      const stats = network.deliveryStats()[receiver.rid];
      expect(stats?.refusedBatches).to.equal(1);
      expect(stats?.deliveredEvents).to.equal(2);
      expect(queues.peekWebhookLength(target)).to.equal(0);
      expect(queues.depths().webhookInflight[receiver.rid] ?? 0).to.equal(0);
    } finally {
      await network.close();
      await queues.close();
    }
  });
});
