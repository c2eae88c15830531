import { expect } from 'chai';
import fc from 'fast-check';
import { RID } from '../../../src/rid/index.ts';
import { Bundle, KnowledgeObject } from '../../../src/knowledge/index.ts';
import { HandlerType, STOP_CHAIN, type HandlerResult } from '../../../src/processor/index.ts';
import { makeHarness, sleep, type Harness } from './fixtures/harness.ts';

const thingBundle = (ref: string): Bundle => Bundle.generate(RID.fromString(`orn:test.thing:${ref}`), { v: ref });

describe('processor/queue: one worker, FIFO, failures contained', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('200 concurrent handle() calls with random async delays: processed in enqueue order, never two in flight', async () => {
    h = await makeHarness();
    const started: string[] = [];
    const finished: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    h.processor.registerHandler(HandlerType.RID, { name: 'enter' }, async (_c, k) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      started.push(k.rid.reference);
      await sleep(Math.random() * 3);
    });
    h.processor.registerHandler(HandlerType.Bundle, { name: 'middle' }, async () => {
      await sleep(Math.random() * 2);
    });
    h.processor.registerHandler(HandlerType.Final, { name: 'leave' }, async (_c, k) => {
      await sleep(Math.random() * 2);
      finished.push(k.rid.reference);
      inFlight--;
    });
    const refs = Array.from({ length: 200 }, (_, i) => `k${i}`);
    // Half flush, half do not: flushes must not reorder or overlap anything.
    await Promise.all(refs.map((ref, i) => h.processor.handle({ bundle: thingBundle(ref), flush: i % 2 === 0 })));
    await h.processor.flushKobjQueue();
    expect(started).to.deep.equal(refs);
    expect(finished).to.deep.equal(refs);
    expect(maxInFlight).to.equal(1);
    expect(h.processor.counters).to.deep.equal({ processed: 200, stopped: 0, failed: 0 });
    expect(h.processor.queueDepth).to.equal(0);
  });

  it('property: any mix of handle/flush/processKobj calls never overlaps two kobjs and keeps queue order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ kind: fc.constantFrom('queue', 'flush', 'direct'), delay: fc.integer({ min: 0, max: 2 }) }), {
          minLength: 1,
          maxLength: 25,
        }),
        async (ops) => {
          const local = await makeHarness({ defaultHandlers: [] });
          try {
            let inFlight = 0;
            let overlap = false;
            const queued: string[] = [];
            const seen: string[] = [];
            local.processor.registerHandler(HandlerType.RID, {}, async (_c, k): Promise<HandlerResult> => {
              if (++inFlight > 1) overlap = true;
              await sleep(Number(k.contents?.['d'] ?? 0));
              seen.push(k.rid.reference);
              inFlight--;
              return STOP_CHAIN;
            });
            const calls: Promise<unknown>[] = [];
            ops.forEach((op, i) => {
              const b = Bundle.generate(RID.fromString(`orn:test.thing:p${i}`), { d: op.delay });
              if (op.kind === 'direct') calls.push(local.processor.processKobj(KnowledgeObject.fromBundle(b)));
              else {
                queued.push(`p${i}`);
                calls.push(local.processor.handle({ bundle: b, flush: op.kind === 'flush' }));
              }
            });
            await Promise.all(calls);
            await local.processor.flushKobjQueue();
            expect(overlap).to.equal(false);
            expect(seen.filter((r) => queued.includes(r))).to.deep.equal(queued);
            expect(seen).to.have.length(ops.length);
          } finally {
            await local.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('flushKobjQueue() also waits for kobjs queued by handlers while it runs', async () => {
    h = await makeHarness();
    const order: string[] = [];
    h.processor.registerHandler(HandlerType.Final, {}, async (ctx, k) => {
      order.push(k.rid.reference);
      const n = Number(k.rid.reference.slice(1));
      if (n < 5) {
        // flush: true from inside a handler must neither deadlock nor process out of turn.
        await ctx.handle({ bundle: thingBundle(`c${n + 1}`), flush: true });
        await ctx.processor.flushKobjQueue();
        order.push(`after c${n + 1} queued`);
      }
    });
    await h.processor.handle({ bundle: thingBundle('c0'), flush: true });
    expect(order).to.deep.equal([
      'c0',
      'after c1 queued',
      'c1',
      'after c2 queued',
      'c2',
      'after c3 queued',
      'c3',
      'after c4 queued',
      'c4',
      'after c5 queued',
      'c5',
    ]);
    expect(h.processor.queueDepth).to.equal(0);
  });

  it('processKobj() from a handler runs nested instead of deadlocking', async () => {
    h = await makeHarness();
    const order: string[] = [];
    h.processor.registerHandler(HandlerType.Final, {}, async (_ctx, k) => {
      order.push(k.rid.reference);
      if (k.rid.reference === 'outer') {
        const r = await h.processor.processKobj(KnowledgeObject.fromBundle(thingBundle('inner')));
        order.push(`inner ${r.status}`);
      }
    });
    await h.processor.handle({ bundle: thingBundle('outer'), flush: true });
    expect(order).to.deep.equal(['outer', 'inner', 'inner completed']);
  });

  it('processes queued knowledge without an explicit flush (autoProcess)', async () => {
    h = await makeHarness();
    const seen: string[] = [];
    h.processor.registerHandler(HandlerType.Final, {}, (_c, k) => void seen.push(k.rid.reference));
    await h.processor.handle({ bundle: thingBundle('a') });
    await h.processor.handle({ bundle: thingBundle('b') });
    for (let i = 0; i < 50 && seen.length < 2; i++) await sleep(5);
    expect(seen).to.deep.equal(['a', 'b']);
  });

  it('autoProcess: false keeps knowledge queued until a flush, as in the seed', async () => {
    h = await makeHarness({ autoProcess: false });
    const seen: string[] = [];
    h.processor.registerHandler(HandlerType.Final, {}, (_c, k) => void seen.push(k.rid.reference));
    await h.processor.handle({ bundle: thingBundle('a') });
    await h.processor.handle({ bundle: thingBundle('b') });
    await sleep(20);
    expect(seen).to.deep.equal([]);
    expect(h.processor.queueDepth).to.equal(2);
    await h.processor.flushKobjQueue();
    expect(seen).to.deep.equal(['a', 'b']);
    expect(h.processor.queueDepth).to.equal(0);
  });

  it('flushKobjQueue() on an empty queue resolves', async () => {
    h = await makeHarness();
    await h.processor.flushKobjQueue();
    await h.processor.flushKobjQueue();
    expect(h.processor.counters).to.deep.equal({ processed: 0, stopped: 0, failed: 0 });
  });

  describe('a handler that throws', () => {
    it('ends that kobj only; it is logged with rid, source and event types but never contents; the next kobj runs', async () => {
      h = await makeHarness();
      const seen: string[] = [];
      h.processor.registerHandler(HandlerType.Bundle, { name: 'explode' }, (_c, k) => {
        if (k.rid.reference === 'bad') throw new Error('boom');
      });
      h.processor.registerHandler(HandlerType.Final, {}, (_c, k) => void seen.push(k.rid.reference));
      await h.processor.handle({ bundle: Bundle.generate('orn:test.thing:bad', { secret: 'hunter2' }) });
      await h.processor.handle({ bundle: thingBundle('good'), flush: true });
      expect(seen).to.deep.equal(['good']);
      expect(h.cache.exists('orn:test.thing:bad')).to.equal(false);
      expect(h.processor.counters).to.deep.equal({ processed: 1, stopped: 0, failed: 1 });
      const errors = h.logger.at('error');
      expect(errors).to.have.length(1);
      const fields = errors[0]!.obj;
      expect(fields).to.include({
        rid: 'orn:test.thing:bad',
        source: 'INTERNAL',
        normalizedEventType: 'NEW',
        handler: 'explode',
        handlerType: 'Bundle',
      });
      expect((fields['err'] as { message: string }).message).to.equal('boom');
      expect(JSON.stringify(h.logger.lines)).to.not.include('hunter2');
    });

    it('async rejections and failures outside handlers (cache, network) are contained too', async () => {
      h = await makeHarness();
      h.processor.registerHandler(HandlerType.RID, { name: 'reject' }, async (_c, k) => {
        if (k.rid.reference === 'r') throw new TypeError('async boom');
      });
      h.network.fetchRemoteManifest = async () => {
        throw new Error('peer down');
      };
      const r1 = await h.processor.processKobj(KnowledgeObject.fromBundle(thingBundle('r')));
      const r2 = await h.processor.processKobj(KnowledgeObject.fromRid('orn:test.thing:x', undefined, 'EXTERNAL'));
      expect(r1.status).to.equal('failed');
      expect(r1.status === 'failed' && (r1.error as Error).message).to.equal('async boom');
      expect(r2.status).to.equal('failed');
      const r3 = await h.processor.processKobj(KnowledgeObject.fromBundle(thingBundle('ok')));
      expect(r3.status).to.equal('completed');
      expect(h.processor.counters).to.deep.equal({ processed: 1, stopped: 0, failed: 2 });
    });
  });
});
