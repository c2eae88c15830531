/**
 * Issue 10, item 7, between real signed nodes in this process over real HTTP on 127.0.0.1: the
 * koi-net 2.x secure-profile and forget-node handlers as defaults.
 *  - A joined neighbour relays a forged node bundle (another node's RID with its own key and URL,
 *    which would redirect that node's webhooks to it) and one of a well-keyed node claiming the
 *    coordinator's own base_url: neither is cached; a genuine bundle relayed alongside is.
 *  - A node's FORGET removes its edges from the coordinator's cache and graph.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeInterface } from '../../src/node.ts';
import { startFullNode, type RunningFullNode } from '../../src/full-node.ts';
import { installBehaviours } from '../../src/behaviours/index.ts';
import { Bundle, Event, EventType } from '../../src/knowledge/index.ts';
import { EdgeStatus, NodeType, parseEdgeProfile, type NodeProfile } from '../../src/protocol/index.ts';
import { KoiNetNode } from '../../src/rid/index.ts';
import { NodeKeyPair } from '../../src/secure/index.ts';
import { onFreePort } from '../helpers/ports.ts';
import { sleep, waitFor } from './helpers/wait.ts';

interface Running {
  node: NodeInterface;
  server: RunningFullNode;
  url: string;
}

describe('integration: 2.x secure-profile and forget-node handlers between signed nodes', function () {
  this.timeout(90_000);
  let dir: string;
  const running: Running[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-secure-h-'));
  });
  afterEach(async () => {
    for (const r of running.splice(0).reverse()) {
      await r.server.close();
      await r.node.finalize();
    }
    await rm(dir, { recursive: true, force: true });
  });

  async function startSigned(name: string, opts: { coordinator?: boolean; first?: Running } = {}): Promise<Running> {
    // The profile carries the URL before the server listens: start again on another port if the
    // candidate was taken meanwhile (no test assumes a port stays free).
    return onFreePort(async (port) => {
      const url = `http://127.0.0.1:${port}/koi-net`;
      const provides = opts.coordinator ? ['orn:koi-net.node', 'orn:koi-net.edge'] : [];
      const node = new NodeInterface({
        name,
        protocol: 'signed',
        dataDir: join(dir, `${name}-${port}`),
        profile: { node_type: NodeType.FULL, base_url: url, provides: { event: provides, state: provides } },
        ...(opts.first ? { firstContact: opts.first.url, firstContactRid: String(opts.first.node.identity.rid) } : {}),
        retryTickMs: 50,
      });
      installBehaviours(node, { coordinator: opts.coordinator === true, contact: !opts.coordinator });
      try {
        const server = await startFullNode(node, { host: '127.0.0.1', port });
        const r = { node, server, url };
        running.push(r);
        return r;
      } catch (err) {
        await node.finalize().catch(() => undefined);
        throw err;
      }
    });
  }

  const edgeOf = (at: Running, s: Running, t: Running): string | undefined => at.node.graph.getEdgeProfile({ source: s.node.identity.rid, target: t.node.identity.rid })?.status;

  async function joined(coord: Running, n: Running): Promise<void> {
    await waitFor(`${String(n.node.identity.rid)} joined`, () =>
      edgeOf(coord, n, coord) === EdgeStatus.APPROVED && edgeOf(coord, coord, n) === EdgeStatus.APPROVED ? true : undefined,
    { timeoutMs: 30_000 });
  }

  it('a neighbour relaying a forged node bundle gets nothing cached; a genuine one relayed with it is', async () => {
    const coord = await startSigned('coord', { coordinator: true });
    const victim = await startSigned('victim', { first: coord });
    const relay = await startSigned('relay', { first: coord });
    await joined(coord, victim);
    await joined(coord, relay);
    const victimRid = victim.node.identity.rid;
    const genuineBefore = coord.node.graph.getNodeProfile(victimRid);
    expect(genuineBefore?.base_url).to.equal(victim.url);

    const relayKey = relay.node.keyPair!.publicKeyDerB64;
    const attackerUrl = 'http://127.0.0.1:9/koi-net';
    const profile = (baseUrl: string, key: string): NodeProfile =>
      ({ node_type: NodeType.FULL, base_url: baseUrl, provides: { event: [], state: [] }, public_key: key }) as NodeProfile;
    // 1. The victim's RID with the relay's key and an address of the relay's choosing (newer timestamp).
    const forged = Bundle.generate(victimRid, profile(attackerUrl, relayKey) as unknown as Record<string, unknown>, new Date(Date.now() + 60_000));
    // 2. A node with a correct key whose profile claims the coordinator's own address.
    const impostorKey = NodeKeyPair.generate();
    const impostorRid = impostorKey.nodeRid('impostor');
    const impostor = Bundle.generate(impostorRid, profile(coord.url, impostorKey.publicKeyDerB64) as unknown as Record<string, unknown>);
    // 3. A control: a well-keyed node at its own address, relayed last; once it is cached, the others were processed.
    const honestKey = NodeKeyPair.generate();
    const honestRid = honestKey.nodeRid('honest');
    const honest = Bundle.generate(honestRid, profile('http://127.0.0.1:8/koi-net', honestKey.publicKeyDerB64) as unknown as Record<string, unknown>);

    const coordRid = coord.node.identity.rid;
    for (const b of [forged, impostor, honest]) await relay.node.network.pushEventTo(Event.fromBundle(b, EventType.NEW), coordRid, true);
    await waitFor('the coordinator to cache the genuine relayed bundle', () => (coord.node.cache.exists(honestRid) ? true : undefined), { timeoutMs: 30_000 });

    const victimAtCoord = await coord.node.cache.read(victimRid);
    expect(victimAtCoord?.contents['base_url'], 'victim profile at the coordinator').to.equal(victim.url);
    expect(victimAtCoord?.contents['public_key']).to.equal(victim.node.keyPair!.publicKeyDerB64);
    expect(coord.node.graph.getNodeProfile(victimRid)?.base_url).to.equal(victim.url);
    expect(coord.node.cache.exists(impostorRid), 'impostor claiming the coordinator URL').to.equal(false);
    expect(coord.node.graph.getNodeProfile(impostorRid)).to.equal(undefined);
  });

  it("a node's FORGET removes its edges from the coordinator's cache and graph", async () => {
    const coord = await startSigned('coord', { coordinator: true });
    const leaver = await startSigned('leaver', { first: coord });
    const stayer = await startSigned('stayer', { first: coord });
    await joined(coord, leaver);
    await joined(coord, stayer);
    const leaverRid = String(leaver.node.identity.rid);
    const edgesWith = async (at: Running, rid: string): Promise<string[]> => {
      const out: string[] = [];
      for (const e of at.node.cache.listRids(['orn:koi-net.edge'])) {
        const b = await at.node.cache.read(e);
        const p = b ? parseEdgeProfile(b.contents) : undefined;
        if (p && (p.source === rid || p.target === rid)) out.push(String(e));
      }
      return out;
    };
    expect((await edgesWith(coord, leaverRid)).length).to.be.at.least(2);

    await leaver.node.network.pushEventTo(Event.fromRid(KoiNetNode.of(leaverRid), EventType.FORGET), coord.node.identity.rid, true);
    await waitFor('the coordinator to forget the node', () => (coord.node.cache.exists(leaverRid) ? undefined : true), { timeoutMs: 30_000 });
    // The edge FORGETs run right after the node's; give them a moment on a loaded machine.
    await waitFor('its edges to go', async () => ((await edgesWith(coord, leaverRid)).length === 0 ? true : undefined), { timeoutMs: 15_000 }).catch(() => undefined);
    expect(await edgesWith(coord, leaverRid), 'edges with the forgotten node in the cache').to.deep.equal([]);
    expect(edgeOf(coord, leaver, coord)).to.equal(undefined);
    expect(edgeOf(coord, coord, leaver)).to.equal(undefined);
    expect(coord.node.graph.hasNode(leaverRid), 'forgotten node in the graph').to.equal(false);
    // The other node keeps its edges.
    expect(edgeOf(coord, stayer, coord)).to.equal(EdgeStatus.APPROVED);
    expect(edgeOf(coord, coord, stayer)).to.equal(EdgeStatus.APPROVED);
    await sleep(0);
  });
});
