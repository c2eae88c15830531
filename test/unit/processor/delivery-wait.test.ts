import { expect } from 'chai';
import { KoiNetNode, RID } from '../../../src/rid/index.ts';
import { Bundle } from '../../../src/knowledge/index.ts';
import { HandlerType } from '../../../src/processor/index.ts';
import { makeHarness, sleep, type Harness } from './fixtures/harness.ts';

/**
 * Issue 10 item 3, processor side: waiting for a webhook delivery (which a hung peer can stretch to
 * the request timeout) must never hold up the next kobj or the next wake of the deliveries.
 */
describe('processor: a delivery that never ends does not hold up processing', () => {
  let h: Harness;
  let release!: () => void;

  beforeEach(async () => {
    h = await makeHarness();
    const hung = new Promise<void>((r) => (release = r));
    // A network whose delivery attempts hang until the test releases them.
    h.network.flushAllWebhookQueues = async () => {
      h.network.flushes++;
      await hung;
    };
    const peer = KoiNetNode.generate('peer');
    h.processor.registerHandler(HandlerType.Network, {}, (_c, k) => void k.networkTargets.add(String(peer)));
  });
  afterEach(async () => {
    release();
    await h.close();
  });

  it('a kobj queued while the drain waits for a hung delivery is processed and wakes the deliveries again', async () => {
    const thing = (n: number): Bundle => Bundle.generate(RID.fromString(`orn:test.thing:${n}`), { n });
    const first = h.processor.handle({ bundle: thing(1), flush: true });
    let firstDone = false;
    void first.then(() => (firstDone = true));
    while (h.network.pushed.length < 1) await sleep(2);
    await sleep(20);
    // The drain is now waiting for the delivery it asked for.
    await h.processor.handle({ bundle: thing(2) });
    const deadline = Date.now() + 2_000;
    while (h.network.pushed.length < 2 && Date.now() < deadline) await sleep(2);
    expect(h.network.pushed.map((p) => String(p.event.rid))).to.deep.equal(['orn:test.thing:1', 'orn:test.thing:2']);
    // Each fan-out woke the deliveries itself, though the first wake has not ended.
    expect(h.network.flushes).to.equal(2);
    // flush: true still means "and its delivery was attempted".
    expect(firstDone).to.equal(false);
    release();
    await first;
  });
});
