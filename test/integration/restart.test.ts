/**
 * Restarts with real node processes: a node that stops and starts again keeps its identity, its
 * cache and its event queues, and events queued for a peer that was down reach it when it returns.
 */
import { expect } from 'chai';
import type { QueueKind } from '../../src/queues/index.ts';
import { cachedRids, cliStatus, EDGE_TYPE, fetchRids, NODE_TYPE, nodeStatus, queuedEvents } from './helpers/api.ts';
import { waitApprovedEdgeAtFull, waitKnowsNodes } from './helpers/network.ts';
import { Cluster, type NodeProcess } from './helpers/processes.ts';
import { waitFor } from './helpers/wait.ts';

describe('integration: restarting node processes', function () {
  this.timeout(180_000);
  let cluster: Cluster;

  beforeEach(async () => {
    cluster = await Cluster.create();
  });
  afterEach(async function () {
    await cluster.dispose(this.currentTest?.state === 'failed');
  });

  /** Waits until `holder`'s queue file has a NEW event about `about` queued for `peer`. */
  function waitQueuedNew(holder: NodeProcess, kind: QueueKind, peer: NodeProcess, about: NodeProcess): Promise<true> {
    return waitFor(`${holder.name} to queue NEW ${about.name} for ${peer.name} (${kind})`, async () =>
      (await queuedEvents(holder.spec.dataDir, kind, peer.rid)).some((e) => String(e.rid) === about.rid && e.event_type === 'NEW'),
    );
  }

  it('partial, coordinator and full node restarts keep identity, cache and queued poll events', async () => {
    const coord = await cluster.start({ name: 'coord', type: 'full', role: 'coordinator' });
    const [a, f] = await Promise.all([
      cluster.start({ name: 'a', type: 'partial', firstContact: coord.url }),
      cluster.start({ name: 'f', type: 'full', firstContact: coord.url }),
    ]);
    await Promise.all([waitApprovedEdgeAtFull(coord, coord, a), waitApprovedEdgeAtFull(coord, coord, f), waitApprovedEdgeAtFull(coord, a, coord)]);
    await Promise.all([waitKnowsNodes(a, [coord, f]), waitKnowsNodes(f, [coord, a])]);

    // --- the partial node goes down; the coordinator queues node events for it meanwhile.
    await a.stop();
    const aCache = await cachedRids(a.spec.dataDir);
    const n = await cluster.start({ name: 'n', type: 'partial', firstContact: coord.url });
    await waitQueuedNew(coord, 'poll', a, n);

    // --- the coordinator restarts too: the queue for a must survive it.
    await coord.stop();
    const coordOnDisk = await cliStatus(coord.spec.dataDir);
    expect(coordOnDisk.identity?.rid).to.equal(coord.rid);
    expect(coordOnDisk.queues.poll[a.rid] ?? 0).to.be.greaterThan(0);
    const coordCache = await cachedRids(coord.spec.dataDir);
    const coord2 = await cluster.start(coord.spec);
    expect(coord2.rid).to.equal(coord.rid);
    expect(coord2.url).to.equal(coord.url);
    expect(await fetchRids(coord2.url, [NODE_TYPE, EDGE_TYPE])).to.include.members(coordCache);

    // --- a comes back: same RID, its cache as it left it, and it drains what was queued for it.
    // Meanwhile (in parallel, to save time) the full node goes down and comes back.
    const fState = await fetchRids(f.url, [NODE_TYPE, EDGE_TYPE]);
    const [a2, f2] = await Promise.all([cluster.start(a.spec), f.stop().then(() => cluster.start(f.spec))]);
    expect(a2.rid).to.equal(a.rid);
    expect(await cachedRids(a2.spec.dataDir)).to.include.members(aCache);
    await waitKnowsNodes(a2, [n]);
    await waitFor("the coordinator's poll queue for a to drain", async () => ((await nodeStatus(coord2.spec.dataDir)).queues.poll[a.rid] ?? 0) === 0);
    // It knew its neighbors, so it polled them instead of introducing itself again.
    expect(a2.findRecord((r) => r.msg === 'introduced this node to its first contact')).to.equal(undefined);

    // --- the full node came back at the same address with the same RID and state.
    expect(f2.rid).to.equal(f.rid);
    expect(f2.url).to.equal(f.url);
    expect(await fetchRids(f2.url, [NODE_TYPE, EDGE_TYPE])).to.include.members(fState);
    // And it is still subscribed: n's node event reached it before or after the restart.
    await waitKnowsNodes(f2, [n]);
  });

  it('a full node that was down receives its queued webhook events when it returns', async () => {
    // Relies on the periodic webhook retry (NodeInterface's retry timer with backoff, base 500 ms,
    // max 30 s): once the coordinator has processed n's arrival, nothing else makes it flush
    // again, so without that timer the queued events would wait for unrelated traffic.
    const coord = await cluster.start({ name: 'coord', type: 'full', role: 'coordinator' });
    const f = await cluster.start({ name: 'f', type: 'full', firstContact: coord.url });
    const cToF = await waitApprovedEdgeAtFull(coord, coord, f);
    expect(cToF.edge_type).to.equal('WEBHOOK');

    await f.stop();
    const n = await cluster.start({ name: 'n', type: 'partial', firstContact: coord.url });
    await waitQueuedNew(coord, 'webhook', f, n);
    expect(await cachedRids(f.spec.dataDir, [NODE_TYPE])).to.not.include(n.rid);

    const f2 = await cluster.start(f.spec);
    expect(f2.rid).to.equal(f.rid);
    // Up to the retry backoff reached while f was down (about 16 s at most here) plus delivery.
    await waitKnowsNodes(f2, [n], 40_000);
    await waitFor("the coordinator's webhook queue for f to empty", async () => (await queuedEvents(coord.spec.dataDir, 'webhook', f.rid)).length === 0);
  });
});
