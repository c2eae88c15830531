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
import { MAX_EVENTS_PER_DELIVERY, NetworkInterface } from '../../../src/network/network-interface.ts';
import { BroadcastPeer } from '../../helpers/fake-peer.ts';

/** A real peer on 127.0.0.1 answering each broadcast with `answer(call, rids)`; `hang` = never answer. */
async function startPeer(answer: BroadcastPeer['answer']): Promise<{ url: string; received: string[][]; calls: () => number; stop: () => Promise<void> }> {
  const peer = new BroadcastPeer();
  peer.answer = answer;
  await peer.start();
  return { url: peer.baseUrl, received: peer.received, calls: () => peer.calls, stop: () => peer.stop() };
}

const nodeRid = (name: string, n: number): KoiNetNode =>
  RID.fromString(`orn:koi-net.node:${name}+00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`) as KoiNetNode;
const ev = (n: number): Event => Event.fromRid(`orn:test.thing:${n}`, EventType.NEW);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('network/network-interface: one delivery loop per webhook peer', () => {
  const me = nodeRid('me', 1);
  const a = nodeRid('a', 2);
  const b = nodeRid('b', 3);
  let dir: string;
  let cache: Cache;
  let graph: NetworkGraph;
  let queues: EventQueues;
  const stops: (() => Promise<void>)[] = [];

  async function known(node: KoiNetNode, url: string): Promise<void> {
    const bundle = Bundle.generate(node, { base_url: url, node_type: 'FULL', provides: { event: [], state: [] } } as JsonObject);
    await cache.write(bundle);
    graph.applyWrite(bundle);
  }
  const makeNet = (timeoutMs = 2_000): NetworkInterface =>
    new NetworkInterface({
      cache,
      identity: { rid: me, profile: { base_url: 'http://127.0.0.1:9/koi-net', node_type: 'FULL', provides: { event: [], state: [] } } },
      graph,
      queues,
      requestHandler: new RequestHandler({ graph, timeoutMs }),
      retry: { baseDelayMs: 30, maxDelayMs: 100, jitter: 0 },
    });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-loops-'));
    cache = await Cache.open(join(dir, 'cache'), { logger: { warn: () => {} } });
    graph = new NetworkGraph(cache, me);
    queues = await EventQueues.open(join(dir, 'event_queues.json'));
  });
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((s) => s()));
    await queues.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a hung peer holds only its own loop: a live peer gets every later event while it hangs', async () => {
    const hung = await startPeer(() => 'hang');
    const live = await startPeer(() => 200);
    stops.push(hung.stop, live.stop);
    await known(a, hung.url);
    await known(b, live.url);
    const net = makeNet(5_000);
    const started = Date.now();
    for (let i = 1; i <= 5; i++) {
      await net.pushEventTo(ev(i), a);
      await net.pushEventTo(ev(i), b);
      void net.flushAllWebhookQueues();
      const sent = Date.now();
      while (live.received.flat().length < i) {
        if (Date.now() - sent > 1_000) throw new Error(`event ${i} not at the live peer within 1 s`);
        await sleep(2);
      }
    }
    // All of that happened while the first request to the hung peer was still open.
    expect(Date.now() - started).to.be.lessThan(5_000);
    expect(hung.calls()).to.equal(1);
    // Cut the hung connection so close() need not wait for the request timeout.
    await hung.stop();
    await net.close();
  });

  it('a failed peer is retried by its own timer, with nobody calling flush again', async () => {
    const peer = await startPeer((call) => (call <= 2 ? 503 : 200));
    stops.push(peer.stop);
    await known(a, peer.url);
    const net = makeNet();
    await net.pushEventTo(ev(1), a);
    await net.flushAllWebhookQueues();
    const deadline = Date.now() + 3_000;
    while (peer.received.length === 0 && Date.now() < deadline) await sleep(5);
    await net.deliveriesIdle();
    expect(peer.received).to.deep.equal([['orn:test.thing:1']]);
    expect(net.deliveryStats()[String(a)]).to.include({ failures: 2, deliveries: 1, consecutiveFailures: 0, queued: 0 });
    await net.close();
  });

  it('a refused batch is dropped and the rest of the queue still goes out in the same attempt', async () => {
    const peer = await startPeer((call) => (call === 1 ? 422 : 200));
    stops.push(peer.stop);
    await known(a, peer.url);
    const net = makeNet();
    for (let i = 1; i <= MAX_EVENTS_PER_DELIVERY + 2; i++) await net.pushEventTo(ev(i), a);
    expect(await net.flushWebhookQueue(a)).to.equal(false);
    expect(peer.received).to.deep.equal([[`orn:test.thing:${MAX_EVENTS_PER_DELIVERY + 1}`, `orn:test.thing:${MAX_EVENTS_PER_DELIVERY + 2}`]]);
    expect(queues.peekWebhookLength(a)).to.equal(0);
    await net.close();
  });

  it('close() stops the loops: retry timers are cleared, no attempt starts after it, events stay queued', async () => {
    const peer = await startPeer(() => 503);
    stops.push(peer.stop);
    await known(a, peer.url);
    const net = makeNet();
    await net.pushEventTo(ev(1), a);
    await net.flushAllWebhookQueues();
    expect(peer.calls()).to.equal(1);
    await net.close();
    await sleep(250);
    // Backoff is 30 ms: without close() the timer would have retried several times by now.
    expect(peer.calls()).to.equal(1);
    await net.flushAllWebhookQueues();
    expect(await net.flushWebhookQueue(a)).to.equal(false);
    expect(peer.calls()).to.equal(1);
    expect(queues.peekWebhookLength(a)).to.equal(1);
  });
});
