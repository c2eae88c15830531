import { expect } from 'chai';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { holdRefusingPort } from '../../helpers/ports.ts';
import { KoiNetError, NodeInterface, NodeType, type NodeInterfaceOptions } from '../../../src/index.ts';

/** The node's running parts as Startables: started in order, stopped in reverse, nothing left behind. */
describe('node: parts started with startAll and stopped with stopAll', function () {
  this.timeout(60000);
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-parts-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const options = (overrides: Partial<NodeInterfaceOptions> = {}): NodeInterfaceOptions => ({
    name: 'parts',
    profile: { node_type: NodeType.PARTIAL, provides: { event: [], state: [] } },
    dataDir: dir,
    ...overrides,
  });

  it('a start that fails half-way stops what had started: not initialized, the data dir free again', async () => {
    // The queues file is a directory: the queues part fails after the lock, cache and identity started.
    await mkdir(join(dir, 'queues-dir'));
    const failing = new NodeInterface(options({ queuesFilePath: join(dir, 'queues-dir') }));
    let failure: unknown;
    await failing.initialize().catch((err: unknown) => (failure = err));
    expect(failure).to.be.instanceOf(Error);
    expect(failing.initialized).to.equal(false);
    expect(() => failing.network).to.throw(KoiNetError, /not initialized/);
    // The lock was released and the cache closed (its index snapshot written by close()).
    expect(await readdir(dir)).to.not.include('koi-net.lock');
    const next = new NodeInterface(options());
    await next.initialize();
    expect(next.initialized).to.equal(true);
    await next.finalize();
  });

  it('finalize stops every part once: idempotent, lock released, queues saved, delivery closed', async () => {
    const node = new NodeInterface(options());
    await node.initialize();
    const network = node.network;
    const [a, b] = [node.finalize(), node.finalize()];
    expect(a).to.equal(b);
    await a;
    await node.finalize();
    expect(await readdir(dir)).to.not.include('koi-net.lock');
    expect(JSON.parse(await readFile(join(dir, 'event_queues.json'), 'utf8'))).to.be.an('object');
    // Delivery is stopped: a flush asked after finalize makes no attempt.
    expect(await network.flushWebhookQueue('orn:koi-net.node:x+00000000-0000-4000-8000-000000000009')).to.equal(false);
    // The same data dir starts again in another node (the parts released everything).
    const again = new NodeInterface(options());
    await again.initialize();
    await again.finalize();
  });

  it('concurrent initialize() calls start the parts once', async () => {
    const node = new NodeInterface(options());
    await Promise.all([node.initialize(), node.initialize()]);
    expect(node.initialized).to.equal(true);
    await node.finalize();
  });

  it('finalize() during initialize() waits for the start, then stops every part (first-contact retries included)', async () => {
    const dead = await holdRefusingPort();
    try {
      const node = new NodeInterface(options({ firstContact: dead.url, firstContactRetry: { initialDelayMs: 20, maxDelayMs: 40 } }));
      const starting = node.initialize();
      const stopping = node.finalize();
      await Promise.all([starting, stopping]);
      expect(await readdir(dir)).to.not.include('koi-net.lock');
      // Nothing keeps retrying: another node takes the data dir over at once.
      const again = new NodeInterface(options());
      await again.initialize();
      await again.finalize();
    } finally {
      await dead.close();
    }
  });
});
