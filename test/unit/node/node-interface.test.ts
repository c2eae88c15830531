import { expect } from 'chai';
import { holdRefusingPort, onFreePort } from '../../helpers/ports.ts';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Bundle,
  EdgeStatus,
  EdgeType,
  HandlerType,
  KoiNetError,
  NodeInterface,
  NodeType,
  NetworkInterface,
  Poller,
  ProcessorInterface,
  RID,
  installBehaviours,
  parseEdgeProfile,
  startFullNode,
  type KnowledgeObject,
  type RunningFullNode,
} from '../../../src/index.ts';


async function until(what: string, pred: () => boolean | Promise<boolean>, timeoutMs = 15000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('NodeInterface lifecycle (real full node on 127.0.0.1)', function () {
  this.timeout(60000);
  let dir: string;
  let coordinator: NodeInterface;
  let server: RunningFullNode;
  let coordinatorUrl: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-node-'));
    // The profile carries the URL: pick a port, and try another if someone took it before the bind.
    server = await onFreePort(async (port) => {
      coordinatorUrl = `http://127.0.0.1:${port}/koi-net`;
      coordinator = new NodeInterface({
        name: 'coordinator',
        profile: {
          base_url: coordinatorUrl,
          node_type: NodeType.FULL,
          provides: { event: ['orn:koi-net.node', 'orn:koi-net.edge'], state: ['orn:koi-net.node', 'orn:koi-net.edge'] },
        },
        dataDir: join(dir, 'coordinator'),
      });
      installBehaviours(coordinator, { coordinator: true, contact: false });
      const srv = await startFullNode(coordinator, { host: '127.0.0.1', port });
      return srv;
    });
  });

  after(async () => {
    await server?.close();
    await coordinator?.finalize();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses access to its parts before initialize() with a typed error, but takes handlers', async () => {
    const node = new NodeInterface({
      name: 'early',
      profile: { node_type: NodeType.PARTIAL, provides: { event: [], state: [] } },
      dataDir: join(dir, 'early'),
    });
    const seen: string[] = [];
    node.processor.registerHandler(HandlerType.Final, {}, (_ctx, kobj: KnowledgeObject) => {
      seen.push(String(kobj.rid));
    });
    expect(() => node.cache).to.throw(KoiNetError, /not initialized/);
    await node.initialize();
    // The node's own bundle went through the pipeline, so the early handler saw it.
    expect(seen).to.include(String(node.identity.rid));
    expect(node.cache.exists(node.identity.rid)).to.equal(true);
    await node.finalize();
  });

  it('introduces itself to its first contact, is welcomed, and learns the coordinator by polling', async () => {
    const partial = new NodeInterface({
      name: 'partial',
      profile: { node_type: NodeType.PARTIAL, provides: { event: [], state: [] } },
      dataDir: join(dir, 'partial'),
      firstContact: coordinatorUrl,
    });
    installBehaviours(partial, { contact: true });
    await partial.initialize();
    // Handshake: the coordinator cached our node bundle from the NEW event.
    await until('the coordinator to cache the partial node', () => coordinator.cache.exists(partial.identity.rid));

    const poller = new Poller({ node: partial, intervalMs: 50 });
    poller.start();
    try {
      await until('the partial node to learn the coordinator', () => partial.cache.exists(coordinator.identity.rid));
      // Both edges of the reference's examples end APPROVED on the partial node.
      await until('both edges approved at the partial node', () => {
        const edges = partial.graph.getEdges().map((e) => partial.graph.getEdgeProfile({ rid: e }));
        return edges.length === 2 && edges.every((e) => e?.status === EdgeStatus.APPROVED);
      });
      const poll = partial.graph.getEdgeProfile({ source: coordinator.identity.rid, target: partial.identity.rid });
      expect(poll?.edge_type).to.equal(EdgeType.POLL);
      const webhook = partial.graph.getEdgeProfile({ source: partial.identity.rid, target: coordinator.identity.rid });
      expect(webhook?.edge_type).to.equal(EdgeType.WEBHOOK);
      expect(poller.peerStates().every((p) => p.reachable)).to.equal(true);
    } finally {
      await poller.stop();
      await partial.finalize();
    }
    // Queues were saved to the node's data directory.
    const queues = await readFile(join(dir, 'partial', 'event_queues.json'), 'utf8').catch(() => '');
    expect(queues.length).to.be.greaterThan(0);
  });

  it('generateEdgeBundle makes a PROPOSED edge whose RID is derived from source and target', async () => {
    const a = RID.fromString('orn:koi-net.node:a+1');
    const b = RID.fromString('orn:koi-net.node:b+2');
    const bundle: Bundle = coordinator.generateEdgeBundle(a, b, ['orn:koi-net.node'], EdgeType.POLL);
    const profile = parseEdgeProfile(bundle.contents);
    expect(profile).to.deep.include({ source: String(a), target: String(b), edge_type: 'POLL', status: 'PROPOSED' });
    expect(profile.rid_types).to.deep.equal(['orn:koi-net.node']);
    expect(String(bundle.rid)).to.match(/^orn:koi-net\.edge:[0-9a-f]{64}$/);
    expect(String(coordinator.generateEdgeBundle(a, b, [], EdgeType.POLL).rid)).to.equal(String(bundle.rid));
  });

  it('a poller backs off from an unreachable first contact instead of hammering it', async () => {
    // A port held by the test that refuses connections: nobody can start listening on it meanwhile.
    const dead = await holdRefusingPort();
    const deadPort = dead.port;
    const lonely = new NodeInterface({
      name: 'lonely',
      profile: { node_type: NodeType.PARTIAL, provides: { event: [], state: [] } },
      dataDir: join(dir, 'lonely'),
      firstContact: `http://127.0.0.1:${deadPort}/koi-net`,
      requestTimeoutMs: 2000,
    });
    await lonely.initialize();
    const poller = new Poller({ node: lonely, intervalMs: 1000, maxBackoffMs: 8000 });
    try {
      await poller.pollOnce();
      const [state] = poller.peerStates();
      expect(state?.reachable).to.equal(false);
      expect(state?.consecutiveFailures).to.equal(1);
      expect(state!.nextAttemptAt).to.be.greaterThan(Date.now());
      // Still backing off: a second round right away does not try the peer again.
      await poller.pollOnce();
      expect(poller.peerStates()[0]?.consecutiveFailures).to.equal(1);
    } finally {
      await poller.stop();
      await lonely.finalize();
      await dead.close();
    }
  });

  it('takes a custom network interface and processor (the seed\'s network= and processor= arguments)', async () => {
    class CountingNetwork extends NetworkInterface {
      pushes = 0;
      override async pushEventTo(...args: Parameters<NetworkInterface['pushEventTo']>): ReturnType<NetworkInterface['pushEventTo']> {
        this.pushes++;
        return super.pushEventTo(...args);
      }
    }
    class CountingProcessor extends ProcessorInterface {
      handled = 0;
      override handle(...args: Parameters<ProcessorInterface['handle']>): ReturnType<ProcessorInterface['handle']> {
        this.handled++;
        return super.handle(...args);
      }
    }
    let network: CountingNetwork | undefined;
    const node = new NodeInterface({
      name: 'custom',
      profile: { node_type: NodeType.PARTIAL, provides: { event: [], state: [] } },
      dataDir: join(dir, 'custom'),
      firstContact: coordinatorUrl,
      network: (options) => (network = new CountingNetwork(options)),
      processor: (components, options) => new CountingProcessor(components, options),
    });
    expect(node.processor).to.be.instanceOf(CountingProcessor);
    await node.initialize();
    try {
      expect(node.network).to.equal(network);
      // Our own bundle went through the custom processor at start-up.
      expect((node.processor as CountingProcessor).handled).to.be.greaterThan(0);
      // Edge negotiation with the coordinator pushes through the custom network.
      const poller = new Poller({ node, intervalMs: 50 });
      poller.start();
      try {
        await until('the custom network to push an event', () => (network?.pushes ?? 0) > 0);
      } finally {
        await poller.stop();
      }
    } finally {
      await node.finalize();
    }
  });
});
