import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cache } from '../../../src/cache/index.ts';
import { NetworkGraph } from '../../../src/graph/index.ts';
import { Bundle, type JsonObject } from '../../../src/knowledge/index.ts';
import { KoiNetNode, RID } from '../../../src/rid/index.ts';
import { EdgeType, NodeType } from '../../../src/protocol/index.ts';
import { proposedEdgeBundle } from '../../../src/behaviours/edge.ts';
import { backoffMs, exponentialDelay, DEFAULT_RETRY_POLICY } from '../../../src/delivery/retry-policy.ts';
import { chooseQueue, pollTargets, toNodeRid } from '../../../src/delivery/targets.ts';
import { UnreachableNodeError } from '../../../src/errors.ts';

describe('delivery: the backoff formula and the target rule (shared by delivery and the poller)', () => {
  describe('exponentialDelay / backoffMs', () => {
    it('doubles from the base, is capped, and stays finite for any failure count', () => {
      expect([1, 2, 3, 4, 5].map((f) => exponentialDelay(100, 1000, f))).to.deep.equal([100, 200, 400, 800, 1000]);
      expect(exponentialDelay(100, 1000, 0)).to.equal(0);
      expect(exponentialDelay(100, 1000, 10_000)).to.equal(1000);
    });

    it('jitter shortens the delay by at most its fraction', () => {
      const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1000, maxDelayMs: 1000, jitter: 0.5 };
      expect(backoffMs({ ...policy, random: () => 0 }, 3)).to.equal(1000);
      expect(backoffMs({ ...policy, random: () => 0.999999 }, 3)).to.equal(500);
      expect(backoffMs({ ...policy, jitter: 0, random: () => 0.7 }, 1)).to.equal(1000);
    });
  });

  describe('chooseQueue / pollTargets on a real graph', () => {
    const me = KoiNetNode.of('orn:koi-net.node:me+00000000-0000-4000-8000-000000000001');
    const full = KoiNetNode.of('orn:koi-net.node:full+00000000-0000-4000-8000-000000000002');
    const partial = KoiNetNode.of('orn:koi-net.node:partial+00000000-0000-4000-8000-000000000003');
    const stranger = KoiNetNode.of('orn:koi-net.node:stranger+00000000-0000-4000-8000-000000000004');
    let dir: string;
    let cache: Cache;
    let graph: NetworkGraph;

    async function write(bundle: Bundle): Promise<void> {
      await cache.write(bundle);
      graph.applyWrite(bundle);
    }
    const profileOf = (nodeType: NodeType, baseUrl?: string): JsonObject =>
      ({ node_type: nodeType, ...(baseUrl ? { base_url: baseUrl } : {}), provides: { event: [], state: [] } }) as unknown as JsonObject;

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'koi-targets-'));
      cache = await Cache.open(join(dir, 'cache'));
      graph = new NetworkGraph(cache, me);
      await write(Bundle.generate(full, profileOf(NodeType.FULL, 'http://127.0.0.1:9/koi-net')));
      await write(Bundle.generate(partial, profileOf(NodeType.PARTIAL)));
    });
    afterEach(async () => {
      await cache.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('without an edge: FULL -> webhook, PARTIAL -> poll, unknown -> undefined', () => {
      expect(chooseQueue(graph, me, full)).to.equal('webhook');
      expect(chooseQueue(graph, me, partial)).to.equal('poll');
      expect(chooseQueue(graph, me, stranger)).to.equal(undefined);
    });

    it('an edge from this node decides by its edge_type, whatever the node type', async () => {
      await write(proposedEdgeBundle(me, full, ['orn:koi-net.node'], EdgeType.POLL));
      expect(chooseQueue(graph, me, full)).to.equal('poll');
    });

    it('polls FULL neighbours with an edge to this node; the first contact only while there is none', async () => {
      expect(pollTargets(graph, me, 'http://127.0.0.1:9/koi-net')).to.deep.equal([
        { source: 'http://127.0.0.1:9/koi-net', target: { url: 'http://127.0.0.1:9/koi-net' } },
      ]);
      expect(pollTargets(graph, me, undefined)).to.deep.equal([]);
      await write(proposedEdgeBundle(full, me, ['orn:koi-net.node'], EdgeType.POLL));
      await write(proposedEdgeBundle(partial, me, ['orn:koi-net.node'], EdgeType.POLL));
      const targets = pollTargets(graph, me, 'http://127.0.0.1:9/koi-net');
      // The PARTIAL source has no base_url to poll; the first contact is no longer needed.
      expect(targets.map((t) => t.source)).to.deep.equal([String(full)]);
      expect(targets[0]!.sourceNode).to.equal(String(full));
    });

    it('toNodeRid refuses a RID that is not a node, and changes nothing', () => {
      expect(toNodeRid(String(full)).equals(full)).to.equal(true);
      expect(() => toNodeRid(RID.fromString('orn:koi-net.edge:abc'))).to.throw(UnreachableNodeError);
    });
  });
});
