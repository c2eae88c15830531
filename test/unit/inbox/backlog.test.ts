import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Bundle, Event, EventType, NodeInterface, NodeType, ProcessorInterface } from '../../../src/index.ts';

const event = (n: number): Event => Event.fromBundle(Bundle.generate(`orn:backlog.test:e${n}`, { n }), EventType.NEW);

describe('inbox/InboxIntake: acknowledgement waits only when the processor queue is really full', () => {
  let dir: string;
  let node: NodeInterface;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-backlog-'));
    node = new NodeInterface({
      name: 'backlog',
      profile: { node_type: NodeType.FULL, base_url: 'http://127.0.0.1:9/koi-net', provides: { event: [], state: [] } },
      dataDir: dir,
      inboxOptions: { maxQueued: 6 },
      // Nothing is processed until the test flushes, so the queue depth is the test's to set.
      processor: (components, options) => new ProcessorInterface(components, { ...options, autoProcess: false }),
    });
    await node.initialize();
    await node.processor.flushKobjQueue();
  });
  afterEach(async () => {
    await node.finalize();
    await rm(dir, { recursive: true, force: true });
  });

  it('a batch is logged and acknowledged at once below the limit, waits (unlogged) at it, and goes on once processing catches up', async () => {
    const intake = node.inbox!;
    const first = [event(1), event(2), event(3), event(4), event(5)];
    // 5 events + the batch marker = 6 queued: at the limit after this one.
    await intake.accept(first, first.map((e) => e.toJSON()));
    expect(node.processor.queueDepth).to.equal(6);
    const second = [event(6)];
    let acknowledged = false;
    const pending = intake.accept(second, second.map((e) => e.toJSON())).then(() => {
      acknowledged = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(acknowledged).to.equal(false);
    // Not logged either: a sender that gives up meanwhile has nothing acknowledged or replayed.
    const logged = (await readFile(join(dir, 'inbox.log'), 'utf8')).trim().split('\n');
    expect(logged).to.have.length(1);
    await node.processor.flushKobjQueue();
    await pending;
    expect(acknowledged).to.equal(true);
    expect((await readFile(join(dir, 'inbox.log'), 'utf8')).trim().split('\n')).to.have.length(2);
    await node.processor.flushKobjQueue();
    for (let n = 1; n <= 6; n++) expect(node.cache.exists(`orn:backlog.test:e${n}`), `e${n}`).to.equal(true);
  });
});
