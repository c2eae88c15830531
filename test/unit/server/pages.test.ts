/**
 * The pages at the HTTP level: health's shape, 404/405 stay JSON around the pages, the redirect,
 * hostile RIDs are escaped and bundle contents never show.
 */
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { proposedEdgeBundle } from '../../../src/behaviours/index.ts';
import { Bundle, Event, EventType } from '../../../src/knowledge/index.ts';
import { EdgeType, NodeType } from '../../../src/protocol/index.ts';
import { API_PATHS, openapiDocument, operations } from '../../../src/protocol/index.ts';
import { validateSchema } from '../../../src/protocol/validate.ts';
import type { SchemaName } from '../../../src/protocol/types.ts';
import { TestNetwork, waitFor, type RunningNode } from '../../pages/nodes.ts';
import { createNodeHandlers } from '../../../src/full-node.ts';
import { NodeInterface } from '../../../src/node.ts';
import { createKoiNetApp, startServer, withPages } from '../../../src/server/index.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request without keep-alive and without following redirects. */
function send(url: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function json(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const a = await send(url);
  expect(a.headers['content-type']).to.match(/^application\/json/);
  return { status: a.status, body: JSON.parse(a.text) as Record<string, unknown> };
}

/** Puts a bundle into the node's cache and graph, as the processor would after accepting it. */
async function remember(n: RunningNode, bundle: Bundle): Promise<void> {
  await n.node.cache.write(bundle);
  n.node.graph.applyWrite(bundle);
}

describe('server: pages over HTTP', function () {
  this.timeout(60_000);
  const net = new TestNetwork();
  afterEach(() => net.stopAll());

  it('GET /koi-net/health answers the documented fields', async () => {
    const a = await net.start('healthy');
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const { status, body } = await json(`${a.url}/health`);
    expect(status).to.equal(200);
    expect(Object.keys(body).sort()).to.deep.equal(['node_type', 'protocol', 'rid', 'status', 'store', 'uptime_s', 'version']);
    expect(body).to.include({ status: 'ok', rid: a.rid, node_type: NodeType.FULL, protocol: 'unsigned', version: pkg.version });
    expect(body['uptime_s']).to.be.a('number').and.at.least(0);
    // The file cache reports its write-retry backlog (issue 10: a degraded store after a full disk).
    expect(body['store']).to.deep.equal({ status: 'ok', pending_writes: 0 });
  });

  it('a signed node reports the signed protocol', async () => {
    const a = await net.start('signed', { protocol: 'signed' });
    const { body } = await json(`${a.url}/health`);
    expect(body).to.include({ status: 'ok', protocol: 'signed', rid: a.rid });
  });

  it('a both node reports both, and its status page says what that means', async () => {
    const a = await net.start('bridge', { protocol: 'both' });
    const { body } = await json(`${a.url}/health`);
    expect(body).to.include({ status: 'ok', protocol: 'both', rid: a.rid });
    const page = await send(`${a.url}/status`);
    expect(page.text).to.include('both (koi-net 1.0.x bodies and 1.1+ envelopes, per peer)');
  });

  it("a store that reports failed writes makes the node 'degraded' (503)", async () => {
    const a = await net.start('degraded');
    // The optional KnowledgeStore.health() another module adds; the pages call it when present.
    Object.assign(a.node.cache, { health: () => ({ status: 'degraded', pendingWrites: 3, lastError: 'ENOSPC: no space left on device' }) });
    const { status, body } = await json(`${a.url}/health`);
    expect(status).to.equal(503);
    expect(body).to.include({ status: 'degraded' });
    expect(body['store']).to.deep.equal({ status: 'degraded', pending_writes: 3, last_error: 'ENOSPC: no space left on device' });
    const page = await send(`${a.url}/status`);
    expect(page.text).to.include('badge-degraded').and.include('ENOSPC');
  });

  it('unknown paths answer 404 JSON and wrong methods 405 JSON, around the pages too', async () => {
    const a = await net.start('methods');
    for (const path of ['/koi-net/nope', '/koi-net/status/x', '/koi-net/assets/../package.json', '/koi-net/assets/index.html', '/nope']) {
      const r = await send(a.origin + path);
      expect(r.status, path).to.equal(404);
      expect(JSON.parse(r.text), path).to.deep.equal({ detail: 'Not Found' });
    }
    for (const path of Object.values(API_PATHS)) {
      const r = await send(`${a.url}${path}`, 'GET');
      expect(r.status, path).to.equal(405);
      expect(r.headers['allow'], path).to.equal('POST');
      expect(JSON.parse(r.text), path).to.deep.equal({ detail: 'Method Not Allowed' });
    }
    for (const path of ['/docs', '/health', '/status', '/status.json', '/assets/status.js']) {
      const r = await send(`${a.url}${path}`, 'POST');
      expect(r.status, path).to.equal(405);
      expect(r.headers['allow'], path).to.equal('GET, HEAD');
      expect(JSON.parse(r.text), path).to.deep.equal({ detail: 'Method Not Allowed' });
    }
  });

  it("the examples the docs page shows are requests the contract accepts", () => {
    for (const op of Object.values(operations)) {
      const media = (openapiDocument.paths[op.path] as { post: { requestBody: { content: Record<string, { schema: { $ref: string }; example?: unknown }> } } }).post
        .requestBody.content['application/json'];
      expect(media?.example, op.path).to.not.equal(undefined);
      const name = media!.schema.$ref.split('/').pop() as SchemaName;
      expect(validateSchema(name, media!.example), op.path).to.deep.equal([]);
    }
  });

  it('GET / redirects to the status page, under a custom root path too', async () => {
    const a = await net.start('rooted');
    const r = await send(`${a.origin}/`);
    expect(r.status).to.equal(302);
    expect(r.headers['location']).to.equal('/koi-net/status');

    const b = await net.start('custom-root', { rootPath: '/api' });
    const rb = await send(`${b.origin}/`);
    expect(rb.headers['location']).to.equal('/api/status');
    expect((await json(`${b.origin}/api/health`)).body['rid']).to.equal(b.rid);
    expect((await send(`${b.origin}/api/status`)).text).to.include(b.rid);
    expect((await send(`${b.origin}/koi-net/health`)).status).to.equal(404);

    // Endpoints at the mount point: the pages are too.
    const c = await net.start('bare-root', { rootPath: '/' });
    expect((await send(`${c.origin}/`)).headers['location']).to.equal('/status');
    expect((await json(`${c.origin}/health`)).body['rid']).to.equal(c.rid);
    expect((await send(`${c.origin}/rids/fetch`)).status).to.equal(405);
  });

  it('the status page escapes hostile RIDs and shows no bundle contents', async () => {
    const a = await net.start('target');
    const hostile = 'orn:koi-net.node:<img src=x onerror=alert(1)>"\'&+x';
    await remember(a, Bundle.generate(hostile, { node_type: 'FULL', base_url: 'http://127.0.0.1:9/SECRET-BASE-URL', provides: { event: [], state: [] } }));
    await remember(a, proposedEdgeBundle(hostile, a.rid, ['orn:koi-net.node'], EdgeType.WEBHOOK));
    await remember(a, Bundle.generate('orn:secret.note:<script>alert(2)</script>', { text: 'SECRET-CONTENTS-42' }));

    const page = await send(`${a.url}/status`);
    expect(page.status).to.equal(200);
    expect(page.headers['content-security-policy']).to.include("script-src 'self'");
    expect(page.text).to.not.include('<img src=x');
    expect(page.text).to.not.include('<script>alert');
    expect(page.text).to.include('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;+x');
    expect(page.text).to.include('data-status="PROPOSED"');
    // Counts by type, RIDs, never contents (the data bundle's text, the neighbour's base_url).
    const snapshot = await send(`${a.url}/status.json`);
    const health = await send(`${a.url}/health`);
    for (const text of [page.text, snapshot.text, health.text]) {
      expect(text).to.not.include('SECRET-CONTENTS-42');
      expect(text).to.not.include('SECRET-BASE-URL');
    }
    const parsed = JSON.parse(snapshot.text) as { cache: { by_type: Record<string, number> }; neighbours: { rid: string; link: string }[] };
    expect(parsed.cache.by_type['orn:secret.note']).to.equal(1);
    expect(parsed.neighbours).to.deep.include({ rid: hostile, node_type: 'FULL', self: false, link: 'PROPOSED' });
    // Counts are kept between requests only until the cache changes.
    await remember(a, Bundle.generate('orn:secret.note:second', { text: 'x' }));
    const again = JSON.parse((await send(`${a.url}/status.json`)).text) as typeof parsed;
    expect(again.cache.by_type['orn:secret.note']).to.equal(2);
  });

  it("a failing peer shows as failing, without the peer's address", async () => {
    const a = await net.start('sender');
    // A FULL peer whose base_url nobody answers: port 9 (discard) on loopback.
    const peer = 'orn:koi-net.node:unreachable+0b7e3f4c-1d2a-4c5b-8e9f-a0b1c2d3e4f5';
    await remember(a, Bundle.generate(peer, { node_type: 'FULL', base_url: 'http://127.0.0.1:9/SECRET-BASE-URL', provides: { event: [], state: [] } }));
    await a.node.network.pushEventTo(Event.fromRid(a.rid, EventType.UPDATE), peer);
    await a.node.network.flushWebhookQueue(peer);
    const snapshot = await waitFor('the failed delivery in status.json', async () => {
      const text = (await send(`${a.url}/status.json`)).text;
      const parsed = JSON.parse(text) as { peers: { rid: string; consecutive_failures: number; webhook_queued: number; last_error?: string }[] };
      const p = parsed.peers.find((x) => x.rid === peer);
      return p && p.consecutive_failures > 0 ? { text, p } : undefined;
    });
    expect(snapshot.p.webhook_queued).to.equal(1);
    expect(snapshot.p.last_error).to.be.a('string').and.include('<url>');
    const page = await send(`${a.url}/status`);
    expect(page.text).to.include('failing ×');
    for (const text of [page.text, snapshot.text]) {
      expect(text).to.not.include('SECRET-BASE-URL');
      expect(text).to.not.include('127.0.0.1:9');
    }
  });

  it("before the node is initialized, health says 'starting' (503) and the status page still renders", async () => {
    const node = new NodeInterface({ name: 'early', dataDir: '/nonexistent/never-opened', profile: { node_type: NodeType.FULL, base_url: null, provides: { event: [], state: [] } } });
    const { idle: _idle, ...handlers } = createNodeHandlers(node, { ready: new Promise(() => {}) });
    const server = await startServer(withPages(createKoiNetApp({ handlers }), node, { rootPath: '/koi-net' }));
    try {
      const health = await json(`${server.url}/koi-net/health`);
      expect(health.status).to.equal(503);
      expect(health.body).to.include({ status: 'starting', rid: null, node_type: null, protocol: 'unsigned' });
      const page = await send(`${server.url}/koi-net/status`);
      expect(page.status).to.equal(200);
      expect(page.text).to.include('not initialized yet').and.include('badge-starting');
      expect((await send(`${server.url}/koi-net/docs`)).status).to.equal(200);
    } finally {
      await server.close();
    }
  });
});
