import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { collectingLogger, type CollectingLogger } from '../../helpers/logger.ts';
import { KoiNetEdge, RID, type KoiNetNode } from '../../../src/rid/index.ts';
import { Bundle, Event, EventType, type JsonObject } from '../../../src/knowledge/index.ts';
import { Cache } from '../../../src/cache/index.ts';
import type { NodeProfile } from '../../../src/protocol/index.ts';
import { NetworkGraph } from '../../../src/graph/index.ts';
import { EventQueues } from '../../../src/queues/index.ts';
import { NetworkInterface, type NetworkInterfaceOptions } from '../../../src/network/network-interface.ts';

const nodeRid = (name: string, n: number): KoiNetNode =>
  RID.fromString(`orn:koi-net.node:${name}+00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`) as KoiNetNode;
const profile = (nodeType: 'FULL' | 'PARTIAL', baseUrl: string | null, key?: string): JsonObject =>
  ({ base_url: baseUrl, node_type: nodeType, provides: { event: [], state: [] }, ...(key ? { public_key: key } : {}) }) satisfies NodeProfile as unknown as JsonObject;
const edge = (source: KoiNetNode, target: KoiNetNode, edgeType: 'WEBHOOK' | 'POLL'): Bundle =>
  Bundle.generate(KoiNetEdge.generate(source, target), { source: String(source), target: String(target), edge_type: edgeType, status: 'APPROVED', rid_types: [] });
const ridsOf = (events: readonly Event[]): string[] => events.map((e) => String(e.rid));

describe('network/network-interface: pushEventToMany, a fan-out in one call', () => {
  const me = nodeRid('me', 1);
  const a = nodeRid('a', 2); // FULL
  const p = nodeRid('p', 3); // PARTIAL
  const unknown = nodeRid('unknown', 9);
  const ev = (n: number): Event => Event.fromRid(`orn:test.thing:${n}`, EventType.NEW);

  let dir: string;
  let cache: Cache;
  let graph: NetworkGraph;
  let queues: EventQueues;
  let log: CollectingLogger;
  let options: NetworkInterfaceOptions;
  let net: NetworkInterface;

  const writeAll = async (bundles: Bundle[]): Promise<void> => {
    for (const bundle of bundles) {
      await cache.write(bundle);
      graph.applyWrite(bundle);
    }
  };
  const failures: [string, string][] = [];
  const failed = (node: string, err: unknown): void => void failures.push([node, String(err)]);

  beforeEach(async () => {
    failures.length = 0;
    dir = await mkdtemp(join(tmpdir(), 'koi-fanout-push-'));
    cache = await Cache.open(join(dir, 'cache'), { logger: { warn: () => {} } });
    graph = new NetworkGraph(cache, me);
    queues = await EventQueues.open(join(dir, 'event_queues.json'), { idleCompactMs: 0 });
    log = collectingLogger();
    await writeAll([
      Bundle.generate(me, profile('FULL', 'http://127.0.0.1:9/koi-net')),
      Bundle.generate(a, profile('FULL', 'http://127.0.0.1:9/koi-net')),
      Bundle.generate(p, profile('PARTIAL', null)),
    ]);
    options = { cache, identity: { rid: me, profile: profile('FULL', 'http://127.0.0.1:9/koi-net') as unknown as NodeProfile }, graph, queues, logger: log };
    net = new NetworkInterface(options);
  });

  afterEach(async () => {
    await queues.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('queues as pushEventTo would, in one write; unknown and invalid targets are reported or warned, the rest still queued', async () => {
    const writes = queues.writeCount;
    await net.pushEventToMany(ev(1), [String(a), String(p), String(unknown), 'orn:test.thing:not-a-node'], failed);
    expect(ridsOf(queues.peekWebhook(a))).to.deep.equal(['orn:test.thing:1']);
    expect(ridsOf(queues.peekPoll(p))).to.deep.equal(['orn:test.thing:1']);
    expect(queues.writeCount - writes).to.equal(1);
    expect(failures.map(([node]) => node)).to.deep.equal(['orn:test.thing:not-a-node']);
    expect(log.messages().join('\n')).to.match(/unknown node/);
  });

  it('follows the graph: a new edge, a changed profile and a forgotten node change the next fan-out', async () => {
    await net.pushEventToMany(ev(1), [String(a), String(p), String(unknown)], failed);
    // An edge from me decides the queue by its type.
    await writeAll([edge(me, a, 'POLL'), edge(me, p, 'WEBHOOK')]);
    await net.pushEventToMany(ev(2), [String(a), String(p)], failed);
    // A node that was unknown becomes known.
    await writeAll([Bundle.generate(unknown, profile('FULL', 'http://127.0.0.1:9/koi-net'))]);
    await net.pushEventToMany(ev(3), [String(unknown)], failed);
    // Its edge goes away again: its profile decides once more.
    const gone = KoiNetEdge.generate(me, a);
    await cache.delete(gone);
    graph.applyDelete(gone);
    await net.pushEventToMany(ev(4), [String(a)], failed);
    expect(ridsOf(queues.peekWebhook(a))).to.deep.equal(['orn:test.thing:1', 'orn:test.thing:4']);
    expect(ridsOf(queues.peekPoll(a))).to.deep.equal(['orn:test.thing:2']);
    expect(ridsOf(queues.peekPoll(p))).to.deep.equal(['orn:test.thing:1']);
    expect(ridsOf(queues.peekWebhook(p))).to.deep.equal(['orn:test.thing:2']);
    expect(ridsOf(queues.peekWebhook(unknown))).to.deep.equal(['orn:test.thing:3']);
    expect(failures).to.deep.equal([]);
  });

  it("withholds an unsigned node's profile from a signed peer, as pushEventTo does", async () => {
    const signed = nodeRid('signed', 4);
    await writeAll([Bundle.generate(signed, profile('FULL', 'http://127.0.0.1:9/koi-net', 'MFkw'))]);
    const unsignedProfile = Event.fromBundle(Bundle.generate(nodeRid('plain', 5), profile('FULL', 'http://127.0.0.1:9/koi-net')), EventType.NEW);
    await net.pushEventToMany(unsignedProfile, [String(signed), String(a)], failed);
    expect(queues.peekWebhook(signed)).to.deep.equal([]);
    expect(ridsOf(queues.peekWebhook(a))).to.deep.equal([String(unsignedProfile.rid)]);
  });

  it('a subclass that overrides pushEventTo still sees one call per target', async () => {
    const seen: string[] = [];
    class Counting extends NetworkInterface {
      override async pushEventTo(...args: Parameters<NetworkInterface['pushEventTo']>): ReturnType<NetworkInterface['pushEventTo']> {
        seen.push(String(args[1]));
        if (String(args[1]) === String(unknown)) throw new Error('refused here');
        return super.pushEventTo(...args);
      }
    }
    const counting = new Counting(options);
    await counting.pushEventToMany(ev(1), [String(a), String(unknown), String(p)], failed);
    expect(seen).to.deep.equal([String(a), String(unknown), String(p)]);
    expect(failures).to.deep.equal([[String(unknown), 'Error: refused here']]);
    expect(ridsOf(queues.peekPoll(p))).to.deep.equal(['orn:test.thing:1']);
  });
});
