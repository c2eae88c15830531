/**
 * Issue 13 item 5: the start-up catch-up (koi-net 2.x's sync of `rid_types_of_interest`). Real
 * nodes in this process over real HTTP on 127.0.0.1, unsigned and signed: a subscriber that was
 * stopped while its provider's state changed, with no event left to tell it (the provider's cache
 * was written directly, as after a restore or a dropped queue), learns that state when it starts
 * again, and only what is new or newer; switched off or narrowed, it does not.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeInterface, type NodeInterfaceOptions } from '../../src/node.ts';
import { startFullNode, type RunningFullNode } from '../../src/full-node.ts';
import { installBehaviours } from '../../src/behaviours/index.ts';
import { Bundle } from '../../src/knowledge/index.ts';
import { EdgeStatus, NodeType } from '../../src/protocol/index.ts';
import { onFreePort } from '../helpers/ports.ts';
import { waitFor } from './helpers/wait.ts';

const DOC = 'orn:test.doc';

interface Running {
  node: NodeInterface;
  server: RunningFullNode;
  url: string;
  port: number;
}

for (const protocol of ['unsigned', 'signed'] as const) {
  describe(`integration: start-up catch-up from providers (${protocol})`, function () {
    this.timeout(120_000);
    let dir: string;
    const running: Running[] = [];

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `koi-catch-up-${protocol}-`));
    });
    after(async () => {
      for (const r of running.splice(0).reverse()) await stop(r);
      await rm(dir, { recursive: true, force: true });
    });

    async function stop(r: Running): Promise<void> {
      const i = running.indexOf(r);
      if (i >= 0) running.splice(i, 1);
      await r.server.close();
      await r.node.finalize();
    }

    async function startOn(port: number, name: string, extra: Partial<NodeInterfaceOptions> & { coordinator?: boolean; first?: Running }): Promise<Running> {
      const url = `http://127.0.0.1:${port}/koi-net`;
      const provides = extra.coordinator ? ['orn:koi-net.node', 'orn:koi-net.edge', DOC] : [];
      const { coordinator, first, ...options } = extra;
      const node = new NodeInterface({
        name,
        protocol,
        dataDir: join(dir, name),
        profile: { node_type: NodeType.FULL, base_url: url, provides: { event: provides, state: provides } },
        ...(first ? { firstContact: first.url, ...(protocol === 'signed' ? { firstContactRid: String(first.node.identity.rid) } : {}) } : {}),
        retryTickMs: 50,
        ...options,
      });
      installBehaviours(node, { coordinator: coordinator === true, contact: coordinator ? false : { extraRidTypes: [DOC] } });
      const server = await startFullNode(node, { host: '127.0.0.1', port });
      const r = { node, server, url, port };
      running.push(r);
      return r;
    }

    let provider: Running;
    let subscriber: Running;
    const kept = Bundle.generate(`${DOC}:kept`, { text: 'unchanged' });
    const changed = Bundle.generate(`${DOC}:changed`, { text: 'first version' });

    it('joins: the subscriber holds an approved edge from the provider for the doc type', async () => {
      provider = await onFreePort((port) => startOn(port, 'provider', { coordinator: true }));
      await provider.node.processor.handle({ bundle: kept, flush: true });
      await provider.node.processor.handle({ bundle: changed, flush: true });
      subscriber = await onFreePort((port) => startOn(port, 'subscriber', { first: provider }));
      const edge = await waitFor('an approved edge provider -> subscriber at the subscriber', () => {
        const e = subscriber.node.graph.getEdgeProfile({ source: provider.node.identity.rid, target: subscriber.node.identity.rid });
        return e?.status === EdgeStatus.APPROVED ? e : undefined;
      }, { timeoutMs: 60_000 });
      expect(edge.rid_types.map(String)).to.include(DOC);
      await waitFor('the docs at the subscriber', () => (subscriber.node.cache.exists(kept.rid) && subscriber.node.cache.exists(changed.rid)) || undefined, { timeoutMs: 60_000 });
    });

    // While the subscriber is stopped the provider's state moves on, and no event will say so.
    const added = Bundle.generate(`${DOC}:added`, { text: 'made while the subscriber was down' });
    let newer: Bundle;
    async function changeProviderState(): Promise<void> {
      await provider.node.cache.write(added);
      newer = Bundle.generate(changed.rid, { text: 'second version' });
      await provider.node.cache.write(newer);
      await provider.node.cache.sync?.();
    }

    it('switched off (catchUp: false), a restarted subscriber does not learn what it missed', async () => {
      const port = subscriber.port;
      await stop(subscriber);
      await changeProviderState();
      subscriber = await startOn(port, 'subscriber', { catchUp: false });
      expect(await subscriber.node.caughtUp()).to.deep.equal([]);
      // Nothing else would bring it (the provider queued no event), so absent now means absent.
      await new Promise((r) => setTimeout(r, 500));
      expect(subscriber.node.cache.exists(added.rid)).to.equal(false);
      expect(subscriber.node.cache.readManifest(changed.rid)?.sha256Hash).to.equal(changed.manifest.sha256Hash);
    });

    it('narrowed to the node type, it asks for node manifests only and takes in no doc', async () => {
      const port = subscriber.port;
      await stop(subscriber);
      subscriber = await startOn(port, 'subscriber', { catchUp: { ridTypes: ['orn:koi-net.node'] } });
      const results = await subscriber.node.caughtUp();
      expect(results.map((r) => [r.node, r.ridTypes, r.error])).to.deep.equal([[String(provider.node.identity.rid), ['orn:koi-net.node'], undefined]]);
      expect(results[0]!.taken).to.equal(0);
      expect(subscriber.node.cache.exists(added.rid)).to.equal(false);
    });

    it('on by default: the restarted subscriber takes in the new and the newer doc, and nothing it already had', async () => {
      const port = subscriber.port;
      await stop(subscriber);
      subscriber = await startOn(port, 'subscriber', {});
      const results = await subscriber.node.caughtUp();
      expect(results).to.have.length(1);
      const [r] = results;
      expect(r!.node).to.equal(String(provider.node.identity.rid));
      expect(r!.ridTypes).to.include(DOC);
      expect(r!.error).to.equal(undefined);
      // Every doc (and the node and edge bundles) was listed; only the two states it lacked came in.
      expect(r!.listed).to.be.at.least(3);
      expect(r!.taken).to.equal(2);
      await subscriber.node.settle();
      expect((await subscriber.node.cache.read(added.rid))?.contents).to.deep.equal({ text: 'made while the subscriber was down' });
      expect(subscriber.node.cache.readManifest(changed.rid)?.sha256Hash).to.equal(newer.manifest.sha256Hash);
      expect(subscriber.node.cache.readManifest(kept.rid)?.sha256Hash).to.equal(kept.manifest.sha256Hash);
    });

    it('a provider that is down is logged and skipped; the node starts all the same', async () => {
      const port = subscriber.port;
      await stop(subscriber);
      await stop(provider);
      subscriber = await startOn(port, 'subscriber', { requestTimeoutMs: 2000 });
      const results = await subscriber.node.caughtUp();
      expect(results).to.have.length(1);
      expect(results[0]!.error).to.be.a('string');
      expect(results[0]!.taken).to.equal(0);
    });
  });
}
