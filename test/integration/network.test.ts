/**
 * Multi-node integration: real node processes on 127.0.0.1 talking real HTTP, observed through the
 * KOI-net API of full nodes and the directories of partial nodes. Each test builds its own network
 * in its own temp directory. Set KOI_NET_IT_VERBOSE=1 (and KOI_NET_IT_LOG_LEVEL=debug) to see the
 * nodes' output even when a test passes.
 */
import { expect } from 'chai';
import { cachedContents, cachedRids, cliStatus, fetchEdges, fetchRids, NODE_TYPE, statusEdge } from './helpers/api.ts';
import { waitApprovedEdgeAtFull, waitApprovedEdgeOnDisk, waitKnowsNodes } from './helpers/network.ts';
import { Cluster, type NodeProcess, type OutputRecord } from './helpers/processes.ts';
import { sleep, waitFor } from './helpers/wait.ts';

const ITEM_TYPE = 'orn:test.item';

describe('integration: a network of node processes', function () {
  this.timeout(120_000);
  let cluster: Cluster;

  beforeEach(async () => {
    cluster = await Cluster.create();
  });
  afterEach(async function () {
    await cluster.dispose(this.currentTest?.state === 'failed');
  });

  function startCoordinator(): Promise<NodeProcess> {
    return cluster.start({ name: 'coord', type: 'full', role: 'coordinator' });
  }

  it('coordinator, two partial nodes and a full node: handshake, edges by node type, node events reach subscribers', async () => {
    const coord = await startCoordinator();
    const [a, f] = await Promise.all([
      cluster.start({ name: 'a', type: 'partial', firstContact: coord.url }),
      cluster.start({ name: 'f', type: 'full', firstContact: coord.url }),
    ]);

    // The coordinator's welcome proposes newcomer -> coordinator (WEBHOOK: the coordinator is full);
    // the newcomer's contact behaviour proposes coordinator -> newcomer, POLL to a partial node and
    // WEBHOOK to a full one. Each is approved by its source, so both directions end APPROVED.
    const [aToC, cToA, fToC, cToF] = await Promise.all([
      waitApprovedEdgeAtFull(coord, a, coord),
      waitApprovedEdgeAtFull(coord, coord, a),
      waitApprovedEdgeAtFull(coord, f, coord),
      waitApprovedEdgeAtFull(coord, coord, f),
    ]);
    expect(aToC.edge_type).to.equal('WEBHOOK');
    expect(cToA.edge_type).to.equal('POLL');
    expect(fToC.edge_type).to.equal('WEBHOOK');
    expect(cToF.edge_type).to.equal('WEBHOOK');
    for (const e of [aToC, cToA, fToC, cToF]) expect(e.rid_types).to.include.members([NODE_TYPE, 'orn:koi-net.edge']);

    // Both ends agree: the full node serves its copies, the partial node has them on disk.
    expect((await waitApprovedEdgeAtFull(f, coord, f)).edge_type).to.equal('WEBHOOK');
    expect((await waitApprovedEdgeAtFull(f, f, coord)).edge_type).to.equal('WEBHOOK');
    expect((await waitApprovedEdgeOnDisk(a, coord, a)).edge_type).to.equal('POLL');
    expect((await waitApprovedEdgeOnDisk(a, a, coord)).edge_type).to.equal('WEBHOOK');

    // Only now does b join, so a and f can hear of it solely through node events from the
    // coordinator (their catch-up ran before b existed); b itself learns of them by catch-up.
    await waitKnowsNodes(a, [coord, f]);
    await waitKnowsNodes(f, [coord, a]);
    const b = await cluster.start({ name: 'b', type: 'partial', firstContact: coord.url });
    const [bToC, cToB] = await Promise.all([waitApprovedEdgeAtFull(coord, b, coord), waitApprovedEdgeAtFull(coord, coord, b)]);
    expect(bToC.edge_type).to.equal('WEBHOOK');
    expect(cToB.edge_type).to.equal('POLL');
    await Promise.all([waitKnowsNodes(coord, [a, b, f]), waitKnowsNodes(f, [a, b]), waitKnowsNodes(a, [b]), waitKnowsNodes(b, [a, f, coord])]);
    // b hears of the approval of coord -> b on its next poll; wait for that before stopping it.
    await Promise.all([waitApprovedEdgeOnDisk(b, coord, b), waitApprovedEdgeOnDisk(b, b, coord)]);

    // The same picture from `koi-net status` once the partial nodes have stopped cleanly.
    await Promise.all([a.stop(), b.stop()]);
    const [sa, sb] = await Promise.all([cliStatus(a.spec.dataDir), cliStatus(b.spec.dataDir)]);
    for (const [s, me] of [
      [sa, a],
      [sb, b],
    ] as const) {
      expect(s.identity?.rid).to.equal(me.rid);
      expect(statusEdge(s, coord.rid, me.rid)).to.include({ edge_type: 'POLL', status: 'APPROVED' });
      expect(statusEdge(s, me.rid, coord.rid)).to.include({ edge_type: 'WEBHOOK', status: 'APPROVED' });
      expect(s.cache.by_type[NODE_TYPE]).to.equal(4);
    }
  });

  it("a custom RID type's NEW, UPDATE and FORGET reach its subscriber and only it", async () => {
    const coord = await startCoordinator();
    // Started together: a may hear of the sensor before the sensor hears of a, which is why the
    // fixture introduces itself before proposing.
    const [sensor, a, b] = await Promise.all([
      cluster.start({ name: 'sensor', type: 'full', fixture: true, firstContact: coord.url, providesEvent: [ITEM_TYPE], providesState: [ITEM_TYPE] }),
      cluster.start({ name: 'a', type: 'partial', fixture: true, firstContact: coord.url, propose: [`sensor:POLL:${ITEM_TYPE}`] }),
      cluster.start({ name: 'b', type: 'partial', firstContact: coord.url }),
    ]);

    const edge = await waitApprovedEdgeAtFull(sensor, sensor, a);
    expect(edge).to.include({ edge_type: 'POLL' });
    expect(edge.rid_types).to.deep.equal([ITEM_TYPE]);
    await waitApprovedEdgeOnDisk(a, sensor, a);
    // b must be a live member of the network for "never reaches b" to mean anything.
    await waitApprovedEdgeOnDisk(b, coord, b);
    await waitKnowsNodes(b, [sensor, a]);

    const item = `${ITEM_TYPE}:thermo-1`;
    // The cache is write-behind: the file lands shortly after the kobj line, so wait for it.
    const cachedAs = (dataDir: string, rid: string, contents: Record<string, unknown>) =>
      waitFor(`${rid} cached as ${JSON.stringify(contents)}`, async () => JSON.stringify(await cachedContents(dataDir, rid)) === JSON.stringify(contents), { timeoutMs: 15_000 });
    const aGot = (eventType: string, pred: (r: OutputRecord) => boolean = () => true) =>
      a.waitForRecord(`${eventType} of ${item}`, (r) => r.msg === 'kobj' && r.rid === item && r.event_type === eventType && pred(r));

    await sensor.command({ op: 'upsert', rid: item, contents: { celsius: 20 } });
    expect((await aGot('NEW')).contents).to.deep.equal({ celsius: 20 });
    await cachedAs(a.spec.dataDir, item, { celsius: 20 });

    await sensor.command({ op: 'upsert', rid: item, contents: { celsius: 21.5 } });
    await aGot('UPDATE', (r) => JSON.stringify(r.contents) === JSON.stringify({ celsius: 21.5 }));
    await cachedAs(a.spec.dataDir, item, { celsius: 21.5 });

    await sensor.command({ op: 'forget', rid: item });
    await aGot('FORGET');
    // Write-behind: the file goes shortly after the kobj line.
    await waitFor(`${item} gone from a's cache directory`, async () => (await cachedRids(a.spec.dataDir, [ITEM_TYPE])).length === 0, { timeoutMs: 15_000 });
    // The provider itself forgot it too (it serves state for the type).
    expect(await fetchRids(sensor.url, [ITEM_TYPE])).to.deep.equal([]);

    // b polls every 200 ms; give it several rounds to (wrongly) receive anything, then look.
    await sleep(1_000);
    await b.stop();
    const sb = await cliStatus(b.spec.dataDir);
    expect(sb.cache.by_type[ITEM_TYPE] ?? 0).to.equal(0);
    expect(b.output(4_000)).to.not.include(item);
    expect(statusEdge(sb, sensor.rid, b.rid)).to.equal(undefined);
  });

  it('refuses a WEBHOOK edge to a partial node and an edge for an RID type not provided, answering FORGET', async () => {
    const coord = await startCoordinator();
    const [f, p1, p2] = await Promise.all([
      cluster.start({ name: 'f', type: 'full', firstContact: coord.url }),
      // A partial node has no server, so it cannot take webhooks.
      cluster.start({ name: 'p1', type: 'partial', fixture: true, firstContact: coord.url, propose: [`f:WEBHOOK:${NODE_TYPE}`] }),
      // f provides no events of this type.
      cluster.start({ name: 'p2', type: 'partial', fixture: true, firstContact: coord.url, propose: ['f:POLL:orn:test.unprovided'] }),
    ]);

    for (const p of [p1, p2]) {
      // The proposer caches its own proposal first; the refusal (FORGET of that edge RID, polled
      // from f) deletes it again.
      const proposed = await p.waitForRecord('its own PROPOSED edge f -> me', (r) => isEdgeRecord(r, f.rid, p.rid, 'PROPOSED'));
      const forget = await p.waitForRecord('FORGET of the proposed edge', (r) => r.msg === 'kobj' && r.rid === proposed.rid && r.event_type === 'FORGET');
      expect(forget.source).to.equal('EXTERNAL');
      expect(p.findRecord((r) => isEdgeRecord(r, f.rid, p.rid, 'APPROVED'))).to.equal(undefined);
      await waitFor(`${p.name}'s directory to hold no edge from f`, async () => !(await cachedRids(p.spec.dataDir, ['orn:koi-net.edge'])).includes(String(proposed.rid)));
    }
    // The refuser never cached the proposals.
    const fEdges = await fetchEdges(f.url);
    expect(fEdges.filter((e) => e.source === f.rid && (e.target === p1.rid || e.target === p2.rid))).to.deep.equal([]);
  });
});

function isEdgeRecord(r: OutputRecord, source: string, target: string, status: string): boolean {
  if (r.msg !== 'kobj' || typeof r.rid !== 'string' || !r.rid.startsWith('orn:koi-net.edge:')) return false;
  const c = r.contents as { source?: unknown; target?: unknown; status?: unknown } | null;
  return c?.source === source && c.target === target && c.status === status;
}
