/**
 * Broadcast contents on the fast path keep the body's own text for the cache write
 * (server/compact-slices.ts, cache/contents-text.ts). What reaches the file must still be the
 * contents the pipeline ended with: exactly the sent contents with the library's own handlers,
 * and a registered handler's in-place change when there is one (the kept text is then dropped).
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { NodeInterface } from '../../src/node.ts';
import { startFullNode, type RunningFullNode } from '../../src/full-node.ts';
import { Bundle, Event, EventType } from '../../src/knowledge/index.ts';
import { HandlerType } from '../../src/processor/index.ts';
import { NodeType } from '../../src/protocol/index.ts';
import { Cache, cacheFileName } from '../../src/cache/index.ts';
import { silentLogger } from '../../src/logger.ts';
import { send } from '../unit/server/helpers.ts';

describe('integration: broadcast contents reach the cache files as the pipeline left them', function () {
  this.timeout(60_000);
  let dir: string;
  let node: NodeInterface;
  let server: RunningFullNode;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-contents-text-'));
    node = new NodeInterface({
      name: 'ingest',
      dataDir: dir,
      logger: silentLogger,
      profile: { node_type: NodeType.FULL, base_url: 'http://127.0.0.1:1/koi-net', provides: { event: [], state: ['orn:test.doc'] } },
    });
    server = await startFullNode(node, { host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => {
    await server.close();
    await node.finalize();
    await rm(dir, { recursive: true, force: true });
  });

  async function broadcast(bundles: Bundle[]): Promise<void> {
    const body = JSON.stringify({ events: bundles.map((b) => Event.fromBundle(b, EventType.NEW).toJSON()) });
    const res = await send(`${server.url}/events/broadcast`, { body });
    expect(res.status).to.equal(200);
    await node.settle();
    await (node.cache as Cache).sync();
  }

  async function fileOf(bundle: Bundle): Promise<unknown> {
    return JSON.parse(await readFile(join((node.cache as Cache).directory, cacheFileName(bundle.rid)), 'utf8'));
  }

  it('the library’s own handlers: each file holds the sent bundle', async () => {
    const bundles = [
      Bundle.generate('orn:test.doc:a', { title: 'a', n: 1, tags: ['x', 'y'], nested: { deep: [1, 2.5, null, true] } }),
      Bundle.generate('orn:test.doc:b', { title: 'quote " and \\ backslash', n: -0.25 }),
    ];
    await broadcast(bundles);
    for (const b of bundles) expect(await fileOf(b)).to.deep.equal(b.toJSON());
  });

  it('a handler that changes the contents in place: the file holds the change', async () => {
    node.processor.registerHandler(HandlerType.Bundle, { ridTypes: ['orn:test.doc'] }, (_ctx, kobj) => {
      (kobj.contents as Record<string, unknown>)['seen'] = true;
    });
    const bundle = Bundle.generate('orn:test.doc:c', { title: 'c' });
    await broadcast([bundle]);
    const file = (await fileOf(bundle)) as { contents: Record<string, unknown> };
    expect(file.contents).to.deep.equal({ title: 'c', seen: true });
  });
});
