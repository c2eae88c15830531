import { expect } from 'chai';
import { KoiNetNode, RID, RIDType } from '../../../src/rid/index.ts';
import { Bundle, Event, EventType, KnowledgeObject, KnowledgeSource, Manifest } from '../../../src/knowledge/index.ts';
import { KoiNetError } from '../../../src/errors.ts';
import {
  HandlerType,
  ProcessorInterface,
  STOP_CHAIN,
  createHandler,
  type HandlerContext,
  type HandlerResult,
  type KnowledgeHandler,
} from '../../../src/processor/index.ts';
import { edgeBundle, edgeProfile, makeHarness, nodeBundle, nodeProfile, type Harness } from './fixtures/harness.ts';

const ALL = [HandlerType.RID, HandlerType.Manifest, HandlerType.Bundle, HandlerType.Network, HandlerType.Final] as const;

/** One handler per phase recording `phase rid`; `stopAt` makes that phase return STOP_CHAIN. */
function tracers(trace: string[], stopAt?: HandlerType): KnowledgeHandler[] {
  return ALL.map((type) =>
    createHandler(type, { name: `trace${type}` }, (_ctx, kobj): HandlerResult => {
      trace.push(`${type} ${kobj.rid.reference}`);
      return type === stopAt ? STOP_CHAIN : undefined;
    }),
  );
}

const thing = (ref: string): RID => RID.fromString(`orn:test.thing:${ref}`);
const thingBundle = (ref: string, contents: Record<string, string> = { v: ref }, at?: Date): Bundle =>
  Bundle.generate(thing(ref), contents, at);

describe('processor/pipeline', () => {
  let h: Harness;
  let trace: string[];
  afterEach(async () => h?.close());

  describe('happy paths', () => {
    beforeEach(async () => {
      trace = [];
      h = await makeHarness({ handlers: tracers(trace) });
    });

    it('runs the five chains in order for a new internal bundle and caches it', async () => {
      const b = thingBundle('a');
      await h.processor.handle({ bundle: b, flush: true });
      expect(trace).to.deep.equal(['RID a', 'Manifest a', 'Bundle a', 'Network a', 'Final a']);
      expect((await h.cache.read(b.rid))?.manifest.sha256Hash).to.equal(b.manifest.sha256Hash);
      expect(h.processor.counters).to.deep.equal({ processed: 1, stopped: 0, failed: 0 });
    });

    it('internal RID: reads manifest and bundle from the cache', async () => {
      const b = thingBundle('a');
      await h.cache.write(b);
      const result = await h.processor.processKobj(KnowledgeObject.fromRid(b.rid));
      // Same hash as cached: the default Manifest handler stops it, after the manifest was read.
      expect(result.status).to.equal('stopped');
      expect(trace).to.deep.equal(['RID a']);
      expect(h.network.manifestFetches).to.deep.equal([]);
    });

    it('external RID: fetches the manifest and the bundle from the network', async () => {
      const b = thingBundle('a');
      h.network.remoteManifests.set(String(b.rid), b.manifest);
      h.network.remoteBundles.set(String(b.rid), b);
      const result = await h.processor.processKobj(KnowledgeObject.fromRid(b.rid, undefined, KnowledgeSource.EXTERNAL));
      expect(result.status).to.equal('completed');
      expect(h.network.manifestFetches).to.deep.equal([String(b.rid)]);
      expect(h.network.bundleFetches).to.deep.equal([String(b.rid)]);
      expect(trace).to.deep.equal(['RID a', 'Manifest a', 'Bundle a', 'Network a', 'Final a']);
      expect(h.cache.exists(b.rid)).to.equal(true);
    });

    it('external manifest: fetches only the bundle', async () => {
      const b = thingBundle('a');
      h.network.remoteBundles.set(String(b.rid), b);
      await h.processor.handle({ manifest: b.manifest, source: KnowledgeSource.EXTERNAL, flush: true });
      expect(h.network.manifestFetches).to.deep.equal([]);
      expect(h.network.bundleFetches).to.deep.equal([String(b.rid)]);
      expect(h.cache.exists(b.rid)).to.equal(true);
    });

    it('a fetched bundle with a different manifest wins, with a warning', async () => {
      const announced = thingBundle('a', { v: 'old' }, new Date(Date.now() - 1000));
      const actual = thingBundle('a', { v: 'new' });
      h.network.remoteBundles.set(String(actual.rid), actual);
      await h.processor.handle({ manifest: announced.manifest, source: KnowledgeSource.EXTERNAL, flush: true });
      expect((await h.cache.read(actual.rid))?.contents).to.deep.equal({ v: 'new' });
      expect(h.logger.at('warn').map((l) => l.msg)).to.include('fetched bundle carries a different manifest than the one handled');
    });

    it('UPDATE of a newer bundle overwrites the cache', async () => {
      const old = thingBundle('a', { v: '1' }, new Date(Date.now() - 5000));
      await h.cache.write(old);
      const newer = thingBundle('a', { v: '2' });
      await h.processor.handle({ bundle: newer, flush: true });
      expect((await h.cache.read(newer.rid))?.contents).to.deep.equal({ v: '2' });
    });

    it('FORGET of a known RID skips the Manifest and Bundle chains and deletes it', async () => {
      const b = thingBundle('a');
      await h.cache.write(b);
      let seenContents: unknown;
      h.processor.registerHandler(HandlerType.Network, { name: 'peek' }, (_ctx, kobj) => {
        seenContents = kobj.contents;
      });
      await h.processor.handle({ rid: b.rid, eventType: EventType.FORGET, flush: true });
      expect(trace).to.deep.equal(['RID a', 'Network a', 'Final a']);
      expect(h.cache.exists(b.rid)).to.equal(false);
      // The Network chain sees the last known state.
      expect(seenContents).to.deep.equal({ v: 'a' });
    });

    it('FORGET of an unknown RID stops in the RID chain (at the default handler)', async () => {
      const result = await h.processor.processKobj(KnowledgeObject.fromRid(thing('nope'), EventType.FORGET));
      expect(result).to.include({ status: 'stopped', at: 'RID' });
      // The default RID handler runs first and stops it, so the tracer never sees it.
      expect(trace).to.deep.equal([]);
      expect(h.processor.counters).to.deep.equal({ processed: 0, stopped: 1, failed: 0 });
    });
  });

  describe('stop points', () => {
    async function run(stopAt: HandlerType | undefined, kobj: KnowledgeObject, defaults = true) {
      trace = [];
      h = await makeHarness({ handlers: tracers(trace, stopAt), ...(defaults ? {} : { defaultHandlers: [] }) });
      return h.processor.processKobj(kobj);
    }

    for (const [i, type] of ALL.entries()) {
      it(`STOP_CHAIN from the ${type} chain ends the pipeline there`, async () => {
        const b = thingBundle('s');
        const result = await run(type, KnowledgeObject.fromBundle(b));
        expect(result.status).to.equal('stopped');
        expect(result.status === 'stopped' && result.at).to.equal(type);
        expect(trace).to.deep.equal(ALL.slice(0, i + 1).map((t) => `${t} s`));
        // Cached from step 4 on, never before.
        expect(h.cache.exists(b.rid)).to.equal(i >= 3);
      });
    }

    it('FORGET of an uncached RID stops even without the default RID handler', async () => {
      const result = await run(undefined, KnowledgeObject.fromRid(thing('x'), EventType.FORGET), false);
      expect(result).to.include({ status: 'stopped', at: 'forget_not_cached' });
      expect(trace).to.deep.equal(['RID x']);
    });

    it('no manifest (internal, not cached) stops before the Manifest chain', async () => {
      const result = await run(undefined, KnowledgeObject.fromRid(thing('x')));
      expect(result).to.include({ status: 'stopped', at: 'no_manifest' });
      expect(trace).to.deep.equal(['RID x']);
    });

    it('no manifest (external, no provider has it) stops before the Manifest chain', async () => {
      const result = await run(undefined, KnowledgeObject.fromRid(thing('x'), undefined, KnowledgeSource.EXTERNAL));
      expect(result).to.include({ status: 'stopped', at: 'no_manifest' });
      expect(h.network.manifestFetches).to.deep.equal(['orn:test.thing:x']);
    });

    it('a fetched manifest for another RID counts as none', async () => {
      trace = [];
      h = await makeHarness({ handlers: tracers(trace) });
      h.network.remoteManifests.set('orn:test.thing:x', thingBundle('y').manifest);
      const result = await h.processor.processKobj(KnowledgeObject.fromRid(thing('x'), undefined, KnowledgeSource.EXTERNAL));
      expect(result).to.include({ status: 'stopped', at: 'no_manifest' });
    });

    it('no bundle (external) stops after the Manifest chain', async () => {
      const b = thingBundle('x');
      const result = await run(undefined, KnowledgeObject.fromManifest(b.manifest, undefined, KnowledgeSource.EXTERNAL));
      expect(result).to.include({ status: 'stopped', at: 'no_bundle' });
      expect(trace).to.deep.equal(['RID x', 'Manifest x']);
    });

    it('no bundle (internal manifest, not cached) stops after the Manifest chain', async () => {
      const result = await run(undefined, KnowledgeObject.fromManifest(thingBundle('x').manifest));
      expect(result).to.include({ status: 'stopped', at: 'no_bundle' });
      expect(trace).to.deep.equal(['RID x', 'Manifest x']);
    });

    it('an unset normalized event type stops after the Bundle chain, caching nothing', async () => {
      const b = thingBundle('x');
      const result = await run(undefined, KnowledgeObject.fromBundle(b), false);
      expect(result).to.include({ status: 'stopped', at: 'no_normalized_event_type' });
      expect(trace).to.deep.equal(['RID x', 'Manifest x', 'Bundle x']);
      expect(h.cache.exists(b.rid)).to.equal(false);
    });
  });

  describe('handler chains', () => {
    beforeEach(async () => {
      h = await makeHarness();
    });

    it('calls handlers in registration order and passes a returned kobj on', async () => {
      const seen: string[] = [];
      h.processor.registerHandler(HandlerType.Bundle, { name: 'first' }, (_ctx, kobj) => {
        seen.push(`first ${JSON.stringify(kobj.contents)}`);
        return kobj.with({ contents: { replaced: true } });
      });
      h.processor.registerHandler(HandlerType.Bundle, { name: 'second' }, (_ctx, kobj) => {
        seen.push(`second ${JSON.stringify(kobj.contents)}`);
      });
      const b = thingBundle('r', { v: 'orig' });
      await h.processor.handle({ bundle: b, flush: true });
      expect(seen).to.deep.equal(['first {"v":"orig"}', 'second {"replaced":true}']);
      // The replacement is what gets cached.
      expect((await h.cache.read(b.rid))?.contents).to.deep.equal({ replaced: true });
    });

    it('async handlers are awaited', async () => {
      const seen: string[] = [];
      h.processor.registerHandler(HandlerType.RID, {}, async () => {
        await new Promise((r) => setTimeout(r, 5));
        seen.push('rid');
      });
      h.processor.registerHandler(HandlerType.Final, {}, () => void seen.push('final'));
      await h.processor.handle({ bundle: thingBundle('x'), flush: true });
      expect(seen).to.deep.equal(['rid', 'final']);
    });

    it('ridTypes filter: called only for listed RID types', async () => {
      const seen: string[] = [];
      h.processor.registerHandler(HandlerType.Bundle, { ridTypes: ['orn:test.thing'] }, (_c, k) => void seen.push(String(k.rid)));
      h.processor.registerHandler(HandlerType.Bundle, { ridTypes: [RIDType.fromString('orn:test.other')] }, (_c, k) =>
        void seen.push(`other ${String(k.rid)}`),
      );
      await h.processor.handle({ bundle: thingBundle('x') });
      await h.processor.handle({ bundle: Bundle.generate('orn:test.other:y', { v: 1 }), flush: true });
      expect(seen).to.deep.equal(['orn:test.thing:x', 'other orn:test.other:y']);
    });

    it('eventTypes filter: matches the incoming event type; no event type never matches a filter', async () => {
      const seen: string[] = [];
      h.processor.registerHandler(HandlerType.RID, { eventTypes: [EventType.NEW] }, (_c, k) => void seen.push(`new ${k.rid.reference}`));
      h.processor.registerHandler(HandlerType.RID, { eventTypes: [EventType.UPDATE, EventType.FORGET] }, (_c, k) =>
        void seen.push(`upd/forget ${k.rid.reference}`),
      );
      await h.processor.handle({ bundle: thingBundle('a'), eventType: EventType.NEW });
      await h.processor.handle({ event: Event.fromBundle(thingBundle('b'), EventType.UPDATE) });
      await h.processor.handle({ bundle: thingBundle('c') });
      await h.cache.write(thingBundle('d'));
      await h.processor.handle({ rid: thing('d'), eventType: EventType.FORGET, flush: true });
      expect(seen).to.deep.equal(['new a', 'upd/forget b', 'upd/forget d']);
    });

    it('a handler returning something else fails the kobj', async () => {
      h.processor.addHandler({ handlerType: HandlerType.RID, fn: () => 42 as unknown as HandlerResult });
      const result = await h.processor.processKobj(KnowledgeObject.fromBundle(thingBundle('x')));
      expect(result.status).to.equal('failed');
    });

    it('handlers see the node parts and the source node through the context', async () => {
      let ctx: HandlerContext | undefined;
      h.processor.registerHandler(HandlerType.Final, {}, (c) => void (ctx = c));
      const peer = KoiNetNode.generate('peer');
      await h.processor.handle({ bundle: thingBundle('x'), sourceNode: peer, flush: true });
      expect(ctx?.cache).to.equal(h.cache);
      expect(ctx?.graph).to.equal(h.graph);
      expect(ctx?.network).to.equal(h.network);
      expect(ctx?.identity).to.equal(h.identity);
      expect(ctx?.processor).to.equal(h.processor);
      expect(ctx?.sourceNode).to.equal(String(peer));
    });
  });

  describe('cache, graph and network steps', () => {
    beforeEach(async () => {
      h = await makeHarness();
    });

    it('node and edge RIDs update the graph on write and delete', async () => {
      const peer = KoiNetNode.generate('peer');
      // Its own address: a profile claiming ours would be dropped (secureProfileHandler).
      await h.processor.handle({ bundle: nodeBundle(peer, nodeProfile({ baseUrl: 'http://127.0.0.1:10/koi-net' })), flush: true });
      expect(h.graph.getNodeProfile(peer)).to.not.equal(undefined);
      const edge = edgeBundle(edgeProfile(peer, h.me, { status: 'APPROVED' }));
      await h.processor.handle({ bundle: edge, flush: true });
      expect(h.graph.getEdgeProfile({ rid: String(edge.rid) })?.status).to.equal('APPROVED');
      await h.processor.handle({ rid: edge.rid, eventType: EventType.FORGET, flush: true });
      expect(h.graph.getEdgeProfile({ rid: String(edge.rid) })).to.equal(undefined);
      await h.processor.handle({ rid: peer, eventType: EventType.FORGET, flush: true });
      expect(h.graph.getNodeProfile(peer) ?? undefined).to.equal(undefined);
    });

    it('pushes the normalized event to every target, then flushes webhook queues once', async () => {
      const a = KoiNetNode.generate('a');
      const b = KoiNetNode.generate('b');
      h.processor.registerHandler(HandlerType.Network, {}, (_c, k) => {
        k.networkTargets.add(String(a));
        k.networkTargets.add(String(b));
      });
      const bundle = thingBundle('x');
      await h.processor.handle({ bundle, eventType: EventType.UPDATE, flush: true });
      expect(h.network.pushedSummary()).to.deep.equal([`NEW ${String(bundle.rid)} -> ${String(a)}`, `NEW ${String(bundle.rid)} -> ${String(b)}`]);
      expect(h.network.pushed[0]?.event.contents).to.deep.equal({ v: 'x' });
      expect(h.network.flushes).to.equal(1);
    });

    it('a FORGET event goes out without manifest or contents', async () => {
      const a = KoiNetNode.generate('a');
      h.processor.registerHandler(HandlerType.Network, {}, (_c, k) => void k.networkTargets.add(String(a)));
      const bundle = thingBundle('x');
      await h.cache.write(bundle);
      await h.processor.handle({ rid: bundle.rid, eventType: EventType.FORGET, flush: true });
      expect(h.network.pushed).to.have.length(1);
      expect(h.network.pushed[0]?.event.toJSON()).to.deep.equal({ rid: String(bundle.rid), event_type: 'FORGET' });
    });

    it('no targets: nothing pushed, no flush', async () => {
      await h.processor.handle({ bundle: thingBundle('x'), flush: true });
      expect(h.network.pushed).to.deep.equal([]);
      expect(h.network.flushes).to.equal(0);
    });

    it('never sends the event back to the node it came from', async () => {
      const a = KoiNetNode.generate('a');
      const b = KoiNetNode.generate('b');
      h.processor.registerHandler(HandlerType.Network, {}, (_c, k) => {
        k.networkTargets.add(String(a));
        k.networkTargets.add(String(b));
      });
      await h.processor.handle({ bundle: thingBundle('x'), sourceNode: a, flush: true });
      expect(h.network.pushed.map((p) => p.node)).to.deep.equal([String(b)]);
    });

    it('a failing target or flush is logged; the other targets and the Final chain still run', async () => {
      const a = KoiNetNode.generate('a');
      const b = KoiNetNode.generate('b');
      h.network.failPushTo.add(String(a));
      h.network.failFlush = true;
      let final = false;
      h.processor.registerHandler(HandlerType.Network, {}, (_c, k) => {
        k.networkTargets.add(String(a));
        k.networkTargets.add(String(b));
      });
      h.processor.registerHandler(HandlerType.Final, {}, () => void (final = true));
      await h.processor.handle({ bundle: thingBundle('x'), flush: true });
      expect(h.network.pushed.map((p) => p.node)).to.deep.equal([String(b)]);
      expect(final).to.equal(true);
      expect(h.logger.at('warn')).to.have.length(2);
      expect(h.processor.counters.processed).to.equal(1);
    });
  });

  describe('handle() normalization', () => {
    beforeEach(async () => {
      h = await makeHarness({ defaultHandlers: [] });
    });

    async function capture(input: Parameters<ProcessorInterface['handle']>[0]): Promise<KnowledgeObject> {
      let seen: KnowledgeObject | undefined;
      h.processor.registerHandler(HandlerType.RID, {}, (_c, k) => {
        seen = k;
        return STOP_CHAIN;
      });
      await h.processor.handle({ ...input, flush: true });
      if (!seen) throw new Error('not seen');
      return seen;
    }

    it('rid', async () => {
      const k = await capture({ rid: 'orn:test.thing:x', eventType: EventType.NEW });
      expect(String(k.rid)).to.equal('orn:test.thing:x');
      expect(k.eventType).to.equal('NEW');
      expect(k.source).to.equal(KnowledgeSource.INTERNAL);
      expect(k.manifest).to.equal(undefined);
    });

    it('manifest', async () => {
      const m: Manifest = thingBundle('x').manifest;
      const k = await capture({ manifest: m, source: KnowledgeSource.EXTERNAL });
      expect(k.manifest).to.equal(m);
      expect(k.contents).to.equal(undefined);
      expect(k.source).to.equal('EXTERNAL');
    });

    it('bundle', async () => {
      const b = thingBundle('x');
      const k = await capture({ bundle: b, eventType: EventType.UPDATE });
      expect(k.bundle?.manifest).to.equal(b.manifest);
      expect(k.eventType).to.equal('UPDATE');
    });

    it('event, with sourceNode defaulting the source to EXTERNAL', async () => {
      const e = Event.fromBundle(thingBundle('x'), EventType.NEW);
      const k = await capture({ event: e, sourceNode: KoiNetNode.generate('p') });
      expect(k.eventType).to.equal('NEW');
      expect(k.contents).to.deep.equal({ v: 'x' });
      expect(k.source).to.equal('EXTERNAL');
    });

    it('kobj, as given', async () => {
      const given = KnowledgeObject.fromRid(thing('x'), EventType.FORGET, KnowledgeSource.EXTERNAL);
      expect(await capture({ kobj: given })).to.equal(given);
    });

    it('nothing: throws', async () => {
      let err: unknown;
      try {
        await h.processor.handle({ eventType: EventType.NEW });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(KoiNetError);
      expect((err as KoiNetError).code).to.equal('invalid_handle_input');
    });
  });

  describe('write-behind backpressure', () => {
    it('never lets more than maxPendingWrites cache writes wait for the disk', async () => {
      const seen: number[] = [];
      h = await makeHarness({
        maxPendingWrites: 3,
        handlers: [createHandler(HandlerType.Final, { name: 'backlogProbe' }, () => void seen.push(h.cache.pendingWrites))],
      });
      for (let i = 0; i < 200; i++) void h.processor.handle({ bundle: thingBundle(`b${i}`) });
      await h.processor.flushKobjQueue();
      expect(seen).to.have.length(200);
      expect(Math.max(...seen)).to.be.at.most(3);
      await h.cache.sync();
      expect(h.cache.listRids([RIDType.fromString('orn:test.thing')])).to.have.length(200);
    });
  });
});
