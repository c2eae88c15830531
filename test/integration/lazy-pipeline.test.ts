/**
 * A full node serves its fast path (valid unsigned fetches) on node:http from the moment it
 * listens, and loads express, the pages and the contract validator after start-up. Requests the
 * fast path does not answer that arrive before then wait for that pipeline and are answered
 * exactly as later ones: nothing is refused or answered differently meanwhile.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { NodeInterface } from '../../src/node.ts';
import { startFullNode, type RunningFullNode } from '../../src/full-node.ts';
import { Bundle, Event, EventType } from '../../src/knowledge/index.ts';
import { NodeType } from '../../src/protocol/index.ts';
import { silentLogger } from '../../src/logger.ts';
import { send, type RawResponse } from '../unit/server/helpers.ts';

describe('integration: requests that arrive before the express pipeline is loaded', function () {
  this.timeout(60_000);
  let dir: string;
  let node: NodeInterface;
  let server: RunningFullNode;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-lazy-pipeline-'));
    node = new NodeInterface({
      name: 'lazy',
      dataDir: dir,
      logger: silentLogger,
      profile: { node_type: NodeType.FULL, base_url: 'http://127.0.0.1:1/koi-net', provides: { event: [], state: ['orn:test.doc'] } },
    });
    server = await startFullNode(node, { host: '127.0.0.1', port: 0, logger: silentLogger });
  });
  afterEach(async () => {
    await server.close();
    await node.finalize();
    await rm(dir, { recursive: true, force: true });
  });

  const doc = (i: number): Bundle => Bundle.generate(`orn:test.doc:lazy-${i}`, { i });
  /** Each request as [label, path, method, body, content type]. */
  const requests = (i: number): [string, string, string, string | undefined][] => [
    ['valid fetch (fast path)', '/rids/fetch', 'POST', JSON.stringify({ rid_types: ['orn:koi-net.node'] })],
    ['invalid fetch (refused by the pipeline)', '/rids/fetch', 'POST', JSON.stringify({ rid_types: 5 })],
    ['not JSON', '/manifests/fetch', 'POST', '{'],
    ['broadcast', '/events/broadcast', 'POST', JSON.stringify({ events: [Event.fromBundle(doc(i), EventType.NEW).toJSON()] })],
    ['unknown path', '/nope', 'POST', '{}'],
    ['wrong method', '/rids/fetch', 'GET', undefined],
    ['health page', '/health', 'GET', undefined],
  ];
  const shape = (res: RawResponse, label: string): unknown =>
    // The health page's figures move (uptime); its status and type are what must match.
    label === 'health page' ? { status: res.status, type: res.contentType } : { status: res.status, type: res.contentType, text: res.text };

  it('are answered as the loaded pipeline answers them, the fast path at once', async () => {
    expect(server.pipelineLoaded, 'loaded before any request needed it').to.equal(false);
    // The fast path answers without loading anything.
    const fast = await send(`${server.url}/rids/fetch`, { body: JSON.stringify({ rid_types: ['orn:koi-net.node'] }) });
    expect(fast.status).to.equal(200);
    expect(server.pipelineLoaded).to.equal(false);

    const early = await Promise.all(requests(1).map(([, path, method, body]) => send(`${server.url}${path}`, { method, ...(body === undefined ? {} : { body }) })));
    expect(server.pipelineLoaded).to.equal(true);
    const late = await Promise.all(requests(2).map(([, path, method, body]) => send(`${server.url}${path}`, { method, ...(body === undefined ? {} : { body }) })));
    requests(1).forEach(([label], k) => {
      expect(shape(early[k]!, label), label).to.deep.equal(shape(late[k]!, label));
    });
    expect(early.map((r) => r.status)).to.deep.equal([200, 422, 422, 200, 404, 405, 200]);
    // The broadcast was taken: its bundle is served.
    await node.settle();
    expect(node.cache.exists(doc(1).rid)).to.equal(true);
  });

  it('the pipeline loads by itself after start-up, with no request needing it', async () => {
    const deadline = Date.now() + 10_000;
    while (!server.pipelineLoaded && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20));
    expect(server.pipelineLoaded).to.equal(true);
  });
});
