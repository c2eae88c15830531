import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { KoiNetEdge, KoiNetNode, RIDType, KOI_NET_EDGE_TYPE, KOI_NET_NODE_TYPE } from '../../../src/rid/index.ts';
import { Bundle } from '../../../src/knowledge/index.ts';
import { edgeContents, edgeRid, nodeContents, nodeRid } from './fixtures/graph-helpers.ts';
import { Cache } from '../../../src/cache/index.ts';
import { NetworkGraph } from '../../../src/graph/index.ts';
import { collectingLogger } from '../../helpers/logger.ts';


const strs = (xs: readonly { toString(): string }[]): string[] => xs.map(String);

describe('network/graph: NetworkGraph', () => {
  let dir: string;
  let cache: Cache;
  const me = nodeRid('me', 1);
  const b = nodeRid('b', 2);
  const c = nodeRid('c', 3);
  const d = nodeRid('d', 4); // never cached: a placeholder
  const e1 = edgeRid(1); // me -> b
  const e2 = edgeRid(2); // c -> me
  const e3 = edgeRid(3); // me -> d
  const e4 = edgeRid(4); // b -> c (not mine)

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-graph-'));
    cache = await Cache.open(dir, { logger: { warn: () => {} } });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function seed(): Promise<NetworkGraph> {
    const bundles = [
      Bundle.generate(me, nodeContents('FULL', ['orn:slack.message'])),
      Bundle.generate(b, nodeContents('FULL')),
      Bundle.generate(c, nodeContents('PARTIAL')),
      Bundle.generate(e1, edgeContents(me, b, { ridTypes: ['orn:slack.message', 'orn:koi-net.node'] })),
      Bundle.generate(e2, edgeContents(c, me, { status: 'PROPOSED', edgeType: 'POLL' })),
      Bundle.generate(e3, edgeContents(me, d, { ridTypes: ['orn:koi-net.edge'] })),
      Bundle.generate(e4, edgeContents(b, c)),
      Bundle.generate('https://example.com/not-a-node', { x: 1 }),
    ];
    for (const bundle of bundles) await cache.write(bundle);
    const graph = new NetworkGraph(cache, me);
    await graph.generate();
    return graph;
  }

  it('generate() builds nodes (with placeholders) and edges from the cache', async () => {
    const graph = await seed();
    expect(graph.nodeCount).to.equal(4); // me, b, c, d(placeholder)
    expect(graph.edgeCount).to.equal(4);
    expect(graph.hasNode(d)).to.equal(true);
    expect(graph.getNodeProfile(d)).to.equal(undefined);
    expect(graph.getNodeProfile(c)?.node_type).to.equal('PARTIAL');
  });

  it('getEdges by direction (out-edges first)', async () => {
    const graph = await seed();
    expect(strs(graph.getEdges())).to.deep.equal(strs([e1, e3, e2]));
    expect(strs(graph.getEdges('out'))).to.deep.equal(strs([e1, e3]));
    expect(strs(graph.getEdges('in'))).to.deep.equal(strs([e2]));
    expect(graph.getEdges()[0]).to.be.instanceOf(KoiNetEdge);
  });

  it('getNeighbors filters by direction, status and allowedType', async () => {
    const graph = await seed();
    expect(strs(graph.getNeighbors())).to.have.members(strs([b, d, c]));
    expect(strs(graph.getNeighbors({ direction: 'out' }))).to.deep.equal(strs([b, d]));
    expect(strs(graph.getNeighbors({ direction: 'in' }))).to.deep.equal(strs([c]));
    expect(strs(graph.getNeighbors({ status: 'APPROVED' }))).to.deep.equal(strs([b, d]));
    expect(strs(graph.getNeighbors({ status: 'PROPOSED' }))).to.deep.equal(strs([c]));
    expect(strs(graph.getNeighbors({ allowedType: 'orn:slack.message' }))).to.deep.equal(strs([b]));
    expect(strs(graph.getNeighbors({ allowedType: KOI_NET_NODE_TYPE }))).to.deep.equal(strs([b]));
    expect(strs(graph.getNeighbors({ allowedType: RIDType.fromString('orn:koi-net.edge'), direction: 'out' }))).to.deep.equal(
      strs([d]),
    );
    expect(graph.getNeighbors({ direction: 'in', status: 'APPROVED' })).to.deep.equal([]);
    expect(graph.getNeighbors({ allowedType: 'https' })).to.deep.equal([]);
    expect(graph.getNeighbors()[0]).to.be.instanceOf(KoiNetNode);
  });

  it('lists a neighbor once when edges run both ways', async () => {
    const graph = await seed();
    const back = Bundle.generate(edgeRid(9), edgeContents(b, me));
    await cache.write(back);
    graph.applyWrite(back);
    expect(strs(graph.getNeighbors({ direction: 'in' }))).to.have.members(strs([c, b]));
    expect(strs(graph.getNeighbors()).filter((x) => x === String(b))).to.have.length(1);
    expect(graph.getEdges()).to.have.length(4);
  });

  it('getEdgeProfile by rid and by source/target; getEdge', async () => {
    const graph = await seed();
    expect(graph.getEdgeProfile({ rid: e2 })).to.deep.include({ source: String(c), target: String(me), edge_type: 'POLL', status: 'PROPOSED' });
    expect(graph.getEdgeProfile({ rid: String(e1) })?.target).to.equal(String(b));
    expect(graph.getEdgeProfile({ source: me, target: b })?.rid_types).to.deep.equal(['orn:slack.message', 'orn:koi-net.node']);
    expect(graph.getEdgeProfile({ source: String(b), target: String(c) })?.source).to.equal(String(b));
    expect(graph.getEdgeProfile({ source: b, target: me })).to.equal(undefined);
    expect(graph.getEdgeProfile({ source: nodeRid('zz', 99), target: me })).to.equal(undefined);
    expect(graph.getEdgeProfile({ rid: edgeRid(77) })).to.equal(undefined);
    expect(String(graph.getEdge(me, d))).to.equal(String(e3));
    expect(graph.getEdge(d, me)).to.equal(undefined);
  });

  it('a node this graph has never heard of has no edges or neighbors', async () => {
    await seed();
    const stranger = new NetworkGraph(cache, nodeRid('stranger', 50));
    await stranger.generate();
    expect(stranger.getEdges()).to.deep.equal([]);
    expect(stranger.getNeighbors()).to.deep.equal([]);
  });

  it('forgetting a node keeps it as a placeholder while edges reference it', async () => {
    const graph = await seed();
    expect(graph.applyDelete(b)).to.equal(true);
    expect(graph.hasNode(b)).to.equal(true);
    expect(graph.getNodeProfile(b)).to.equal(undefined);
    expect(strs(graph.getNeighbors({ direction: 'out' }))).to.deep.equal(strs([b, d]));
    graph.applyDelete(e1);
    expect(graph.hasNode(b)).to.equal(true); // still b -> c
    graph.applyDelete(e4);
    expect(graph.hasNode(b)).to.equal(false);
    graph.applyDelete(e3);
    expect(graph.hasNode(d)).to.equal(false);
    expect(graph.hasNode(c)).to.equal(true); // has a profile
    expect(graph.edgeCount).to.equal(1);
  });

  it('an edge rewritten with other endpoints moves and prunes the old placeholder', async () => {
    const graph = await seed();
    const moved = Bundle.generate(e3, edgeContents(me, c, { status: 'PROPOSED' }));
    graph.applyWrite(moved);
    expect(graph.hasNode(d)).to.equal(false);
    expect(String(graph.getEdge(me, c))).to.equal(String(e3));
    expect(graph.getEdgeProfile({ rid: e3 })?.status).to.equal('PROPOSED');
  });

  it('two edge RIDs for one (source, target): newest manifest wins, the other comes back when it goes', async () => {
    const graph = await seed();
    const older = Bundle.generate(edgeRid(100), edgeContents(me, b, { status: 'PROPOSED' }), new Date('2020-01-01T00:00:00Z'));
    graph.applyWrite(older);
    expect(String(graph.getEdge(me, b))).to.equal(String(e1));
    expect(graph.toJSON().shadowedEdges).to.deep.equal([String(edgeRid(100))]);
    expect(graph.getEdgeProfile({ rid: edgeRid(100) })?.status).to.equal('PROPOSED');
    graph.applyDelete(e1);
    expect(String(graph.getEdge(me, b))).to.equal(String(edgeRid(100)));
    expect(graph.getEdgeProfile({ source: me, target: b })?.status).to.equal('PROPOSED');
    expect(graph.toJSON().shadowedEdges).to.deep.equal([]);
  });

  it('skips invalid profiles with a warning, as if not cached', async () => {
    const log = collectingLogger();
    await cache.write(Bundle.generate(b, { node_type: 'NOPE' }));
    await cache.write(Bundle.generate(e1, { source: String(me) }));
    await cache.write(Bundle.generate(e2, edgeContents('https://example.com/x', me)));
    const graph = new NetworkGraph(cache, me, { logger: log });
    await graph.generate();
    expect(graph.nodeCount).to.equal(0);
    expect(graph.edgeCount).to.equal(0);
    expect(log.messages().filter((l) => l.includes('invalid profile'))).to.have.length(3);

    // An invalid rewrite of a valid node drops its profile.
    graph.applyWrite(Bundle.generate(c, nodeContents()));
    expect(graph.getNodeProfile(c)).to.not.equal(undefined);
    graph.applyWrite(Bundle.generate(c, { provides: 3 }));
    expect(graph.hasNode(c)).to.equal(false);
  });

  it('ignores bundles and deletes of other RID types', async () => {
    const graph = await seed();
    const before = graph.toJSON();
    expect(graph.applyWrite(Bundle.generate('https://example.com/a', { a: 1 }))).to.equal(false);
    expect(graph.applyDelete('https://example.com/a')).to.equal(false);
    expect(graph.toJSON()).to.deep.equal(before);
  });

  it('accepts the identity RID as a string', async () => {
    await seed();
    const graph = new NetworkGraph(cache, String(me));
    await graph.generate();
    expect(strs(graph.getEdges('out'))).to.deep.equal(strs([e1, e3]));
  });

  // Its cost per change is a benchmark row (`npm run bench -- --only graph`), not a timed test.
  it('edge changes on 1,000 nodes and 5,000 edges: getNeighbors follows each one', async function () {
    this.timeout(60_000);
    const graph = new NetworkGraph(cache, nodeRid('n', 0));
    const nodes = Array.from({ length: 1000 }, (_, i) => nodeRid('n', i));
    for (const n of nodes) graph.applyWrite(Bundle.generate(n, nodeContents()));
    let k = 0;
    // Deterministic pseudo-random pairs; node 0 (me) gets a normal degree.
    let seedValue = 42;
    const rnd = (): number => (seedValue = (seedValue * 1103515245 + 12345) % 2 ** 31) % 1000;
    const pairs = new Set<string>();
    while (pairs.size < 5000) {
      const s = rnd();
      const t = rnd();
      if (s === t || pairs.has(`${s}>${t}`)) continue;
      pairs.add(`${s}>${t}`);
      graph.applyWrite(Bundle.generate(edgeRid(++k), edgeContents(nodes[s]!, nodes[t]!, { ridTypes: ['orn:koi-net.node'] })));
    }
    expect(graph.nodeCount).to.equal(1000);
    expect(graph.edgeCount).to.equal(5000);
    const rounds = 500;
    const changes = Array.from({ length: rounds }, (_, i) =>
      Bundle.generate(edgeRid(10_000 + i), edgeContents(nodes[0]!, nodes[1 + (i % 999)]!, { status: i % 2 ? 'APPROVED' : 'PROPOSED', ridTypes: ['orn:koi-net.node'] })),
    );
    for (let i = 0; i < rounds; i++) {
      graph.applyWrite(changes[i]!);
      const neighbors = graph.getNeighbors({ direction: 'out', status: 'APPROVED', allowedType: 'orn:koi-net.node' }).map(String);
      // Every neighbour listed holds an approved edge from node 0; the one just changed is listed exactly when approved.
      for (const n of neighbors) expect(graph.getEdgeProfile({ source: nodes[0]!, target: n })?.status).to.equal('APPROVED');
      const target = String(nodes[1 + (i % 999)]!);
      const current = graph.getEdgeProfile({ source: nodes[0]!, target });
      expect(current?.status, `round ${i}`).to.equal(i % 2 ? 'APPROVED' : 'PROPOSED');
      expect(neighbors.includes(target), `round ${i}`).to.equal(i % 2 === 1);
    }
  });

  it('exports the RID type constants it relies on', () => {
    expect(String(KOI_NET_EDGE_TYPE)).to.equal('orn:koi-net.edge');
  });
});
