/**
 * Coordinator and contact behaviours on one node: the coordinator's welcome is the one proposal of
 * a new node's edge, carrying the contact's extra RID types that node provides events of. Before,
 * both behaviours proposed the same edge RID with different terms; the new node approved the first
 * and the coordinator refused that approval as not matching the second, so the extra types never
 * flowed (found while bridging networks, test/integration/bridge).
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeInterface } from '../../../src/node.ts';
import { installBehaviours } from '../../../src/behaviours/index.ts';
import { Bundle, Event, EventType, KnowledgeSource } from '../../../src/knowledge/index.ts';
import { KoiNetEdge, KoiNetNode } from '../../../src/rid/index.ts';
import { EdgeStatus, NodeType, parseEdgeProfile } from '../../../src/protocol/index.ts';

const NOTE = 'orn:test.note';

describe('behaviours: coordinator welcome with the contact behaviour', function () {
  this.timeout(30_000);
  let dir: string;
  let node: NodeInterface;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-welcome-'));
    node = new NodeInterface({
      name: 'coord',
      dataDir: join(dir, 'coord'),
      profile: { node_type: NodeType.FULL, base_url: 'http://127.0.0.1:9/koi-net', provides: { event: ['orn:koi-net.node', 'orn:koi-net.edge', NOTE], state: [] } },
      retryTickMs: 0,
    });
    installBehaviours(node, { coordinator: true, contact: { extraRidTypes: [NOTE], catchUp: false } });
    await node.initialize();
  });
  afterEach(async () => {
    await node.finalize();
    await rm(dir, { recursive: true, force: true });
  });

  /** A new node announces itself; what the coordinator proposes to it (cached and queued). */
  async function welcome(name: string, provides: string[]): Promise<{ cached: string[]; queuedProposals: number }> {
    const peer = KoiNetNode.generate(name);
    const profile = { node_type: NodeType.FULL, base_url: `http://127.0.0.1:9/${name}`, provides: { event: provides, state: [] } };
    // As its handshake arrives: a NEW event carrying its bundle.
    await node.processor.handle({ event: Event.fromBundle(Bundle.generate(peer, profile), EventType.NEW), source: KnowledgeSource.EXTERNAL, sourceNode: peer, flush: true });
    await node.settle();
    const edgeRid = KoiNetEdge.generate(peer, node.identity.rid);
    const cached = parseEdgeProfile((await node.cache.read(edgeRid))!.contents);
    expect(cached.status).to.equal(EdgeStatus.PROPOSED);
    const queued = node.queues.peekWebhook(peer).filter((e) => String(e.rid) === String(edgeRid));
    return { cached: cached.rid_types.map(String).sort(), queuedProposals: queued.length };
  }

  it('offers node, edge and the extra types the new node provides, in one proposal', async () => {
    const w = await welcome('provider', ['orn:koi-net.node', 'orn:koi-net.edge', NOTE]);
    expect(w.cached).to.deep.equal(['orn:koi-net.edge', 'orn:koi-net.node', NOTE].sort());
    expect(w.queuedProposals).to.equal(1);
  });

  it('offers only node and edge to a node that provides nothing else (it would refuse the edge)', async () => {
    const w = await welcome('quiet', []);
    expect(w.cached).to.deep.equal(['orn:koi-net.edge', 'orn:koi-net.node']);
    expect(w.queuedProposals).to.equal(1);
  });
});
