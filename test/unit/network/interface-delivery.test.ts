import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { RID, type KoiNetNode } from '../../../src/rid/index.ts';
import { Bundle, Event, EventType, type JsonObject } from '../../../src/knowledge/index.ts';
import { Cache } from '../../../src/cache/index.ts';
import type { NodeProfile } from '../../../src/protocol/index.ts';
import { NetworkGraph } from '../../../src/graph/index.ts';
import { EventQueues } from '../../../src/queues/index.ts';
import { RequestHandler } from '../../../src/peer/index.ts';
import { NetworkInterface, type RetryPolicy } from '../../../src/network/network-interface.ts';
import { NodeInterface } from '../../../src/node.ts';
import { BroadcastPeer as FlakyPeer } from '../../helpers/fake-peer.ts';

function nodeRid(name: string, n: number): KoiNetNode {
  return RID.fromString(`orn:koi-net.node:${name}+00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`) as KoiNetNode;
}
const profile = (baseUrl: string): NodeProfile => ({ base_url: baseUrl, node_type: 'FULL', provides: { event: [], state: [] } });
const ev = (n: number): Event => Event.fromRid(`orn:test.thing:${n}`, EventType.NEW);
const rids = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `orn:test.thing:${from + i}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

const FAST_RETRY: Partial<RetryPolicy> = { baseDelayMs: 20, maxDelayMs: 200, jitter: 0 };

describe('network/network-interface: webhook retries with backoff (real flaky peers)', () => {
  const me = nodeRid('me', 1);
  const a = nodeRid('a', 2);
  const b = nodeRid('b', 3);
  let dir: string;
  let cache: Cache;
  let graph: NetworkGraph;
  let queues: EventQueues;
  let peerA: FlakyPeer;
  let peerB: FlakyPeer;

  async function known(node: KoiNetNode, url: string): Promise<void> {
    const bundle = Bundle.generate(node, profile(url) as unknown as JsonObject);
    await cache.write(bundle);
    graph.applyWrite(bundle);
  }

  // Closed after each test: a backoff timer left armed would write the queue file while the
  // directory is being removed.
  let nets: NetworkInterface[] = [];
  function makeNet(retry: Partial<RetryPolicy> = FAST_RETRY, timeoutMs = 2_000): NetworkInterface {
    return track(new NetworkInterface({ cache, identity: { rid: me, profile: profile('http://127.0.0.1:9/koi-net') }, graph, queues, requestHandler: new RequestHandler({ graph, timeoutMs }), retry }));
  }
  function track(net: NetworkInterface): NetworkInterface {
    nets.push(net);
    return net;
  }

  /** What the node's retry timer does, until `cond` holds. */
  async function retryUntil(net: NetworkInterface, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > end) throw new Error('not delivered in time');
      await net.flushDueWebhookQueues();
      await sleep(5);
    }
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-delivery-'));
    cache = await Cache.open(join(dir, 'cache'), { logger: { warn: () => {} } });
    graph = new NetworkGraph(cache, me);
    queues = await EventQueues.open(join(dir, 'event_queues.json'));
    [peerA, peerB] = [new FlakyPeer(), new FlakyPeer()];
    await Promise.all([peerA.start(), peerB.start()]);
    await known(a, peerA.baseUrl);
    await known(b, peerB.baseUrl);
  });

  afterEach(async () => {
    await Promise.all(nets.map((n) => n.close()));
    nets = [];
    await queues.flushed();
    await Promise.all([peerA.stop(), peerB.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('503 twice then 200: delivered on the third attempt, after growing backoff; retries counted', async () => {
    peerA.answer = (call) => (call <= 2 ? 503 : 200);
    const net = makeNet();
    await net.pushEventTo(ev(1), a);
    const started = Date.now();
    await net.flushAllWebhookQueues();
    expect(net.deliveryStats()[String(a)]).to.include({ failures: 1, consecutiveFailures: 1 });
    // In backoff: a flush now does not even call the peer.
    await net.flushAllWebhookQueues();
    expect(peerA.calls).to.equal(1);
    await retryUntil(net, () => peerA.received.length > 0);
    // The peer's own retry timer may have made that attempt: wait for it to take the answer in.
    await net.deliveriesIdle();
    // 20 ms then 40 ms of backoff (no jitter) before the third call.
    expect(Date.now() - started).to.be.at.least(55);
    expect(peerA.calls).to.equal(3);
    expect(peerA.flat()).to.deep.equal(rids(1, 1));
    expect(net.deliveryStats()[String(a)]).to.include({ failures: 2, retries: 2, deliveries: 1, consecutiveFailures: 0, retryInMs: 0, queued: 0 });
  });

  it('the backoff is capped and jittered', async () => {
    peerA.answer = () => 503;
    const net = makeNet({ baseDelayMs: 10, maxDelayMs: 40, jitter: 0.5, random: () => 0.999 });
    await net.pushEventTo(ev(1), a);
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      await net.flushWebhookQueue(a);
      seen.push(net.deliveryStats()[String(a)]!.retryInMs);
    }
    // ~half of 10, 20, 40, 40, 40 (jitter at its largest), never above the cap.
    expect(seen.every((ms) => ms <= 40)).to.equal(true);
    expect(seen[4]).to.be.within(15, 21);
    expect(seen[0]).to.be.lessThan(seen[2]!);
  });

  it('a peer that drops every connection and comes back gets the queue, in order', async () => {
    // Down while keeping its port: a port given back to the OS may be taken by anyone meanwhile.
    peerA.goDown();
    const net = makeNet();
    for (let i = 1; i <= 3; i++) await net.pushEventTo(ev(i), a);
    await net.flushAllWebhookQueues();
    for (let i = 4; i <= 6; i++) await net.pushEventTo(ev(i), a);
    await net.flushAllWebhookQueues();
    await sleep(50);
    await net.flushDueWebhookQueues();
    expect(net.deliveryStats()[String(a)]!.failures).to.be.at.least(2);
    expect(net.deliveryStats()[String(a)]!.lastError).to.be.a('string');
    peerA.comeBack();
    await retryUntil(net, () => peerA.flat().length >= 6);
    expect(peerA.flat()).to.deep.equal(rids(1, 6));
  });

  it('order is kept under retries while new events keep arriving', async () => {
    peerA.answer = (call) => (call % 3 === 0 ? 200 : 503);
    const net = makeNet({ baseDelayMs: 5, maxDelayMs: 20, jitter: 0.5 });
    for (let i = 1; i <= 40; i++) {
      await net.pushEventTo(ev(i), a);
      void net.flushAllWebhookQueues();
      if (i % 5 === 0) await sleep(3);
    }
    await retryUntil(net, () => peerA.flat().length >= 40 && queues.peekWebhookLength(a) === 0);
    await net.deliveriesIdle();
    expect(peerA.flat()).to.deep.equal(rids(1, 40));
    expect(net.deliveryStats()[String(a)]!.retries).to.be.greaterThan(0);
  });

  it('a dead peer never delays a live one, and flushAllWebhookQueues does not wait for its backoff', async () => {
    // A peer that hangs until our timeout, then is in backoff for long.
    peerA.delayMs = 10_000;
    const net = makeNet({ baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0 }, 300);
    await net.pushEventTo(ev(1), a);
    await net.pushEventTo(ev(2), b);
    const first = net.flushAllWebhookQueues();
    // The live peer is delivered while the dead one is still hanging.
    await until(() => peerB.received.length === 1, 250);
    await first;
    expect(net.deliveryStats()[String(a)]!.consecutiveFailures).to.equal(1);
    // Now a is in a 60 s backoff: a flush costs nothing for it and b still gets its events.
    const started = Date.now();
    for (let i = 3; i <= 10; i++) {
      await net.pushEventTo(ev(i), a);
      await net.pushEventTo(ev(i), b);
      await net.flushAllWebhookQueues();
    }
    expect(Date.now() - started).to.be.lessThan(1_000);
    expect(peerB.flat()).to.deep.equal(['orn:test.thing:2', ...rids(3, 10)]);
    expect(peerA.received).to.deep.equal([]);
    expect(queues.peekWebhookLength(a)).to.equal(9);
  });
});

describe('node: the retry timer delivers to a peer that comes back', () => {
  let dir: string;
  let node: NodeInterface | undefined;
  let peer: FlakyPeer;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-retry-timer-'));
    peer = new FlakyPeer();
    await peer.start();
  });
  afterEach(async () => {
    await node?.finalize();
    await peer.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('with nothing else happening, queued events reach the peer once it answers again', async () => {
    const target = nodeRid('target', 7);
    node = new NodeInterface({
      name: 'timer',
      profile: { base_url: 'http://127.0.0.1:9/koi-net', node_type: 'FULL', provides: { event: [], state: [] } },
      dataDir: dir,
      retry: FAST_RETRY,
      retryTickMs: 10,
    });
    await node.initialize();
    await node.processor.handle({ bundle: Bundle.generate(target, profile(peer.baseUrl) as unknown as JsonObject), flush: true });
    peer.answer = (call) => (call <= 3 ? 503 : 200);
    for (let i = 1; i <= 3; i++) await node.network.pushEventTo(ev(i), target);
    await node.network.flushAllWebhookQueues();
    await until(() => peer.flat().length === 3);
    await node.network.deliveriesIdle();
    expect(peer.flat()).to.deep.equal(rids(1, 3));
    expect(node.network.deliveryStats()[String(target)]).to.include({ retries: 3, failures: 3, consecutiveFailures: 0 });
  });
});
