import { expect } from 'chai';
import { RID } from '../../../src/rid/index.ts';
import { Bundle } from '../../../src/knowledge/index.ts';
import { HandlerType } from '../../../src/processor/index.ts';
import { makeHarness, sleep, type Harness } from './fixtures/harness.ts';

const thingBundle = (ref: string): Bundle => Bundle.generate(RID.fromString(`orn:test.thing:${ref}`), { v: ref });

describe('processor/afterHandled: how a producer learns its knowledge went through the pipeline', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('runs after every kobj queued before it and before any queued after it, even while the queue never empties', async () => {
    h = await makeHarness();
    const log: string[] = [];
    h.processor.registerHandler(HandlerType.Final, { name: 'record' }, async (_c, k) => {
      await sleep(1);
      log.push(k.rid.reference);
    });
    // Three batches, each followed by its callback; the next batch is queued before the previous
    // one is processed, so the queue stays non-empty until the very end.
    for (let batch = 0; batch < 3; batch++) {
      for (let i = 0; i < 5; i++) void h.processor.handle({ bundle: thingBundle(`b${batch}-${i}`) });
      h.processor.afterHandled(() => log.push(`done ${batch}`));
    }
    await h.processor.flushKobjQueue();
    const expected: string[] = [];
    for (let batch = 0; batch < 3; batch++) {
      for (let i = 0; i < 5; i++) expected.push(`b${batch}-${i}`);
      expected.push(`done ${batch}`);
    }
    expect(log).to.deep.equal(expected);
    // No knowledge object went through the handlers for the callbacks.
    expect(h.processor.counters).to.deep.equal({ processed: 15, stopped: 0, failed: 0 });
  });

  it('a callback that throws is contained: later kobjs and callbacks still run', async () => {
    h = await makeHarness();
    const seen: string[] = [];
    h.processor.afterHandled(() => {
      throw new Error('boom');
    });
    void h.processor.handle({ bundle: thingBundle('after') });
    h.processor.afterHandled(() => seen.push('second'));
    await h.processor.flushKobjQueue();
    expect(seen).to.deep.equal(['second']);
    expect(h.processor.counters.processed).to.equal(1);
  });
});
