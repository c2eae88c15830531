import express from 'express';
import { expect } from 'chai';
import { InvalidRIDError, SchemaValidationError } from '../../../src/errors.ts';
import type { KoiNetHandlers } from '../../../generated/stubs/operations.ts';
import { createKoiNetApp, startServer } from '../../../src/server/index.ts';
import { parseByteLimit, parseJsonBody, classifyContentType } from '../../../src/server/body.ts';
import { COORDINATOR_RID, InMemoryNode, send, startTestServer, type TestServer } from './helpers.ts';
import { collectingLogger } from '../../helpers/logger.ts';

const OTHER_NODE = 'orn:koi-net.node:partial+0d3f3ab0-9d4a-4c5f-8c7e-7a1f2e1b9c11';
const MANIFEST = {
  rid: 'orn:slack.channel:T1/C1',
  timestamp: '2025-04-08T14:10:19.123456Z',
  sha256_hash: 'a'.repeat(64),
};

function detailOf(json: unknown): { type: string; loc: (string | number)[]; msg: string; input?: unknown }[] {
  const detail = (json as { detail: unknown }).detail;
  expect(detail).to.be.an('array');
  return detail as { type: string; loc: (string | number)[]; msg: string }[];
}

describe('server/app', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(async () => {
    await server.close();
  });
  const url = (p: string): string => `${server.url}/koi-net${p}`;

  describe('the five operations', () => {
    it('broadcastEvents: 200 JSON null, events handed to the handler in order', async () => {
      const body = {
        events: [
          { rid: 'orn:slack.channel:T1/C1', event_type: 'NEW', manifest: MANIFEST, contents: { a: 1 } },
          { rid: OTHER_NODE, event_type: 'FORGET', manifest: null, contents: null },
        ],
      };
      const res = await send(url('/events/broadcast'), { body: JSON.stringify(body) });
      expect(res.status).to.equal(200);
      expect(res.text).to.equal('null');
      expect(res.contentType).to.match(/^application\/json/);
      expect(server.node.received.map((e) => e.rid)).to.deep.equal([body.events[0]!.rid, OTHER_NODE]);
    });

    it('pollEvents: drains the caller queue, honours limit; no limit (0) becomes the server cap', async () => {
      const ev = (n: number) => ({ rid: `orn:slack.channel:T1/C${n}`, event_type: 'NEW' as const });
      server.node.queues.set(OTHER_NODE, [ev(1), ev(2), ev(3)]);
      let res = await send(url('/events/poll'), { body: JSON.stringify({ rid: OTHER_NODE, limit: 2 }) });
      expect(res.status).to.equal(200);
      expect(res.json).to.deep.equal({ events: [ev(1), ev(2)] });
      res = await send(url('/events/poll'), { body: JSON.stringify({ rid: OTHER_NODE }) });
      expect(res.json).to.deep.equal({ events: [ev(3)] });
      // The handler sees the server-side cap (maxEventsPerPoll), never "unlimited".
      expect(server.node.calls[1]!.body).to.deep.equal({ rid: OTHER_NODE, limit: 1000 });
    });

    it('fetchRids: all, or only the given types; rid_types defaults to []', async () => {
      server.node.put('orn:slack.channel:T1/C1', { x: 1 });
      let res = await send(url('/rids/fetch'), { body: '{}' });
      expect(res.status).to.equal(200);
      expect((res.json as { rids: string[] }).rids).to.have.members([COORDINATOR_RID, 'orn:slack.channel:T1/C1']);
      expect(server.node.calls[0]!.body).to.deep.equal({ rid_types: [] });
      res = await send(url('/rids/fetch'), { body: JSON.stringify({ rid_types: ['orn:slack.channel'] }) });
      expect(res.json).to.deep.equal({ rids: ['orn:slack.channel:T1/C1'] });
    });

    it('fetchManifests: found and not_found', async () => {
      const res = await send(url('/manifests/fetch'), { body: JSON.stringify({ rids: [COORDINATOR_RID, OTHER_NODE] }) });
      expect(res.status).to.equal(200);
      const json = res.json as { manifests: { rid: string }[]; not_found: string[] };
      expect(json.manifests.map((m) => m.rid)).to.deep.equal([COORDINATOR_RID]);
      expect(json.not_found).to.deep.equal([OTHER_NODE]);
    });

    it('fetchBundles: bundles (and the b6 `manifests` alias), not_found, deferred', async () => {
      const res = await send(url('/bundles/fetch'), { body: JSON.stringify({ rids: [COORDINATOR_RID, OTHER_NODE] }) });
      expect(res.status).to.equal(200);
      const json = res.json as Record<string, unknown[]>;
      expect(json).to.include.all.keys('bundles', 'manifests', 'not_found', 'deferred');
      expect(json['bundles']).to.have.length(1);
      expect(json['not_found']).to.deep.equal([OTHER_NODE]);
    });

    it('serves the contract at <root>/openapi.json', async () => {
      const res = await send(url('/openapi.json'), { method: 'GET' });
      expect(res.status).to.equal(200);
      const doc = res.json as { openapi: string; paths: Record<string, unknown>; servers: { url: string }[] };
      expect(doc.openapi).to.match(/^3\.1/);
      expect(Object.keys(doc.paths)).to.include('/rids/fetch');
      expect(doc.servers).to.deep.equal([{ url: '/koi-net' }]);
    });
  });

  describe('bodies', () => {
    it('parses a body with no Content-Type as JSON (seed-era Python clients)', async () => {
      const res = await send(url('/rids/fetch'), { body: '{"rid_types":["orn:koi-net.node"]}', contentType: null });
      expect(res.status).to.equal(200);
      expect(res.json).to.deep.equal({ rids: [COORDINATOR_RID] });
    });

    it('accepts application/*+json and a charset parameter', async () => {
      for (const ct of ['application/vnd.koi+json', 'application/json; charset=utf-8', 'APPLICATION/JSON']) {
        const res = await send(url('/rids/fetch'), { body: '{}', contentType: ct });
        expect(res.status, ct).to.equal(200);
      }
    });

    it('refuses text/plain and form bodies with 422 model_attributes_type, like the reference', async () => {
      for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        const res = await send(url('/rids/fetch'), { body: '{}', contentType: ct });
        expect(res.status, ct).to.equal(422);
        expect(detailOf(res.json)[0]).to.include({ type: 'model_attributes_type' }).and.have.deep.property('loc', ['body']);
      }
      expect(server.node.calls).to.be.empty;
    });

    it('invalid JSON: 422 json_invalid with the character offset', async () => {
      const res = await send(url('/events/broadcast'), { body: '{"events": [}' });
      expect(res.status).to.equal(422);
      const [item] = detailOf(res.json);
      expect(item).to.include({ type: 'json_invalid', msg: 'JSON decode error' });
      expect(item!.loc).to.deep.equal(['body', 12]);
    });

    it('invalid UTF-8: 422', async () => {
      const bytes = new Uint8Array([0x7b, 0x22, 0x72, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]);
      const res = await send(url('/rids/fetch'), { body: bytes });
      expect(res.status).to.equal(422);
      expect(detailOf(res.json)[0]!.loc[0]).to.equal('body');
    });

    it('empty body and JSON null: 422 missing@body', async () => {
      for (const body of ['', 'null']) {
        const res = await send(url('/bundles/fetch'), { body });
        expect(res.status).to.equal(422);
        expect(detailOf(res.json)).to.deep.equal([{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }]);
      }
    });

    it('names every offending field with a loc under body', async () => {
      const body = {
        events: [
          { rid: 'no-colon', event_type: 'NEW' },
          { rid: OTHER_NODE, event_type: 'DELETE' },
          { event_type: 'NEW' },
          { rid: OTHER_NODE, event_type: 'NEW', manifest: { rid: OTHER_NODE, timestamp: 'yesterday', sha256_hash: 'a'.repeat(64) } },
        ],
      };
      const res = await send(url('/events/broadcast'), { body: JSON.stringify(body) });
      expect(res.status).to.equal(422);
      const locs = detailOf(res.json).map((d) => d.loc);
      expect(locs).to.deep.include.members([
        ['body', 'events', 0, 'rid'],
        ['body', 'events', 1, 'event_type'],
        ['body', 'events', 2, 'rid'],
        ['body', 'events', 3, 'manifest', 'timestamp'],
      ]);
      const missing = detailOf(res.json).find((d) => d.type === 'missing');
      expect(missing!.msg).to.equal('Field required');
      expect(server.node.calls).to.be.empty;
    });

    it('an RID its type refuses is 422 with the RID parser reason (reference: 422)', async () => {
      const res = await send(url('/bundles/fetch'), { body: JSON.stringify({ rids: ['orn:koi-net.node:a+b+c'] }) });
      expect(res.status).to.equal(422);
      const [item] = detailOf(res.json);
      expect(item!.loc).to.deep.equal(['body', 'rids', 0]);
      expect(item!.msg).to.match(/^Value error, .*koi-net\.node|KOI-net/i);
    });

    it('an RID string rid-lib cannot parse at all is 422 (reference: 500)', async () => {
      const res = await send(url('/events/poll'), { body: JSON.stringify({ rid: 'not-a-rid' }) });
      expect(res.status).to.equal(422);
      expect(detailOf(res.json)[0]!.loc).to.deep.equal(['body', 'rid']);
    });

    it('a negative poll limit is 422 (deliberate: the reference accepts it)', async () => {
      const res = await send(url('/events/poll'), { body: JSON.stringify({ rid: OTHER_NODE, limit: -1 }) });
      expect(res.status).to.equal(422);
      expect(detailOf(res.json)[0]).to.deep.include({ loc: ['body', 'limit'], type: 'greater_than_equal' });
    });

    it('ignores unknown fields (be liberal in what you accept)', async () => {
      const res = await send(url('/bundles/fetch'), { body: JSON.stringify({ rids: [], extra: { deep: [1] } }) });
      expect(res.status).to.equal(200);
    });

    it('__proto__ / constructor keys stay data: no prototype pollution anywhere', async () => {
      const text =
        '{"rid_types":[],"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted2":"yes"}},' +
        '"events":[{"rid":"orn:slack.channel:T1/C1","event_type":"NEW","contents":{"__proto__":{"polluted3":"yes"}}}]}';
      for (const path of ['/rids/fetch', '/events/broadcast']) {
        const res = await send(url(path), { body: text });
        expect(res.status, path).to.equal(200);
      }
      const probe: Record<string, unknown> = {};
      expect(probe['polluted']).to.equal(undefined);
      expect(probe['polluted2']).to.equal(undefined);
      expect(probe['polluted3']).to.equal(undefined);
      expect(Object.prototype).to.not.have.own.property('polluted');
      const received = server.node.received[0]!.contents as object;
      expect(Object.getPrototypeOf(received)).to.equal(Object.prototype);
      expect(Object.getOwnPropertyNames(received)).to.include('__proto__');
    });

    it('413 JSON over the limit, whether announced by Content-Length or streamed', async () => {
      const small = await startTestServer({ bodyLimit: '1kb' });
      try {
        const big = JSON.stringify({ rid_types: [], pad: 'x'.repeat(2000) });
        const res = await send(`${small.url}/koi-net/rids/fetch`, { body: big });
        expect(res.status).to.equal(413);
        expect(res.json).to.have.property('detail').that.is.a('string');
        // Chunked (no Content-Length): the limit is enforced while reading.
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode(' '.repeat(600)));
            controller.enqueue(new TextEncoder().encode('{}'));
            controller.close();
          },
        });
        const chunked = await fetch(`${small.url}/koi-net/rids/fetch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: stream,
          duplex: 'half',
        } as RequestInit & { duplex: 'half' });
        expect(chunked.status).to.equal(413);
        expect(await chunked.json()).to.have.property('detail');
        // Just under the limit is fine.
        const ok = await send(`${small.url}/koi-net/rids/fetch`, { body: `{"pad":"${'x'.repeat(1000)}"}` });
        expect(ok.status).to.equal(200);
        expect(small.node.calls).to.have.length(1);
      } finally {
        await small.close();
      }
    });

    it('a huge body against the default 1mb limit: 413, handler not called', async () => {
      const res = await send(url('/events/broadcast'), { body: JSON.stringify({ events: [], pad: 'y'.repeat(2 * 1024 * 1024) }) });
      expect(res.status).to.equal(413);
      expect(res.contentType).to.match(/^application\/json/);
      expect(server.node.calls).to.be.empty;
    });

    it('a deeply nested body is a 4xx, never a crash', async () => {
      const depth = 200_000;
      for (const body of ['['.repeat(depth) + ']'.repeat(depth), `{"rids":${'['.repeat(depth)}${']'.repeat(depth)}}`]) {
        const res = await send(url('/bundles/fetch'), { body });
        expect(res.status).to.equal(422);
        expect(detailOf(res.json)[0]!.loc[0]).to.equal('body');
      }
    });
  });

  describe('routing', () => {
    it('unknown path: 404 {"detail":"Not Found"}', async () => {
      for (const p of ['/koi-net/does/not/exist', '/elsewhere', '/koi-net', '/koi-net/rids/fetch/extra']) {
        const res = await send(server.url + p, { body: '{}' });
        expect(res.status, p).to.equal(404);
        expect(res.json).to.deep.equal({ detail: 'Not Found' });
      }
    });

    it('GET (or PUT) on an operation path: 405 JSON with Allow: POST', async () => {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const res = await fetch(url('/events/poll'), { method, body: method === 'GET' ? undefined : '{}' });
        expect(res.status, method).to.equal(405);
        expect(res.headers.get('allow')).to.equal('POST');
        expect(await res.json()).to.deep.equal({ detail: 'Method Not Allowed' });
      }
    });

    it('custom root path, root at the mount point, and mounting under a host app', async () => {
      const node = new InMemoryNode();
      const host = express();
      host.use('/node-a', createKoiNetApp({ handlers: node, rootPath: '/api/v1', logger: collectingLogger() }));
      host.use('/node-b', createKoiNetApp({ handlers: node, rootPath: '/', logger: collectingLogger() }));
      const running = await startServer(host, { port: 0 });
      try {
        expect((await send(`${running.url}/node-a/api/v1/rids/fetch`, { body: '{}' })).status).to.equal(200);
        expect((await send(`${running.url}/node-b/rids/fetch`, { body: '{}' })).status).to.equal(200);
        const bad = await send(`${running.url}/node-a/api/v1/rids/fetch`, { body: '{"rid_types":5}' });
        expect(bad.status).to.equal(422);
        expect(detailOf(bad.json)[0]!.loc).to.deep.equal(['body', 'rid_types']);
        expect((await send(`${running.url}/node-a/koi-net/rids/fetch`, { body: '{}' })).status).to.equal(404);
      } finally {
        await running.close();
      }
    });

    it('passThroughUnknown leaves foreign paths to the host app', async () => {
      const host = express();
      host.use(createKoiNetApp({ handlers: new InMemoryNode(), passThroughUnknown: true, logger: collectingLogger() }));
      host.get('/health', (_req, res) => {
        res.json({ ok: true });
      });
      const running = await startServer(host, { port: 0 });
      try {
        expect((await send(`${running.url}/health`, { method: 'GET' })).json).to.deep.equal({ ok: true });
        expect((await send(`${running.url}/koi-net/rids/fetch`, { body: '{}' })).status).to.equal(200);
      } finally {
        await running.close();
      }
    });
  });

  describe('handler failures', () => {
    async function withHandlers(
      patch: Partial<KoiNetHandlers>,
      fn: (base: string, logger: ReturnType<typeof collectingLogger>) => Promise<void>,
      validateResponses = false,
    ): Promise<void> {
      const node = new InMemoryNode();
      const handlers: KoiNetHandlers = {
        broadcastEvents: patch.broadcastEvents ?? ((b) => node.broadcastEvents(b)),
        pollEvents: patch.pollEvents ?? ((b) => node.pollEvents(b)),
        fetchRids: patch.fetchRids ?? ((b) => node.fetchRids(b)),
        fetchManifests: patch.fetchManifests ?? ((b) => node.fetchManifests(b)),
        fetchBundles: patch.fetchBundles ?? ((b) => node.fetchBundles(b)),
      };
      const logger = collectingLogger();
      const running = await startServer(createKoiNetApp({ handlers, logger, validateResponses }), { port: 0 });
      try {
        await fn(`${running.url}/koi-net`, logger);
      } finally {
        await running.close();
      }
    }

    it('an unexpected error: 500 {"detail":"Internal Server Error"}, nothing leaked, logged', async () => {
      await withHandlers(
        {
          fetchRids: async () => {
            throw new Error('secret database password in /etc/koi');
          },
        },
        async (base, logger) => {
          const res = await send(`${base}/rids/fetch`, { body: '{}' });
          expect(res.status).to.equal(500);
          expect(res.json).to.deep.equal({ detail: 'Internal Server Error' });
          expect(res.text).to.not.match(/secret|at |\.ts/);
          expect(logger.at('error')).to.have.length(1);
        },
      );
    });

    it('a synchronous throw is a 500 too', async () => {
      await withHandlers(
        {
          fetchManifests: (() => {
            throw new TypeError('boom');
          }) as KoiNetHandlers['fetchManifests'],
        },
        async (base) => {
          const res = await send(`${base}/manifests/fetch`, { body: '{}' });
          expect(res.status).to.equal(500);
          expect(res.json).to.deep.equal({ detail: 'Internal Server Error' });
        },
      );
    });

    it('bad-input KoiNetErrors from a handler: 422 with detail', async () => {
      await withHandlers(
        {
          fetchBundles: async () => {
            throw new InvalidRIDError('orn:x:y', 'refused by a handler');
          },
          broadcastEvents: async () => {
            throw new SchemaValidationError('NodeProfile', [
              { loc: ['events', 0, 'contents', 'node_type'], msg: 'Input should be FULL or PARTIAL', type: 'enum', input: 'X' },
            ]);
          },
        },
        async (base, logger) => {
          let res = await send(`${base}/bundles/fetch`, { body: '{"rids":[]}' });
          expect(res.status).to.equal(422);
          expect(detailOf(res.json)[0]).to.deep.include({ loc: ['body'], type: 'value_error', input: 'orn:x:y' });
          res = await send(`${base}/events/broadcast`, { body: '{"events":[]}' });
          expect(res.status).to.equal(422);
          expect(detailOf(res.json)[0]!.loc).to.deep.equal(['body', 'events', 0, 'contents', 'node_type']);
          expect(logger.at('error')).to.be.empty;
        },
      );
    });

    it('validateResponses: a result that breaks the contract is a logged 500; null stays 200 null', async () => {
      await withHandlers(
        {
          fetchRids: async () => ({ rids: ['not-a-rid'] }),
          pollEvents: async () => ({ events: [{ rid: OTHER_NODE, event_type: 'NEW' }] }),
        },
        async (base, logger) => {
          const bad = await send(`${base}/rids/fetch`, { body: '{}' });
          expect(bad.status).to.equal(500);
          expect(bad.json).to.deep.equal({ detail: 'Internal Server Error' });
          expect(logger.at('error')).to.have.length(1);
          const good = await send(`${base}/events/poll`, { body: JSON.stringify({ rid: OTHER_NODE }) });
          expect(good.status).to.equal(200);
          const nul = await send(`${base}/events/broadcast`, { body: '{"events":[]}' });
          expect(nul.status).to.equal(200);
          expect(nul.text).to.equal('null');
        },
        true,
      );
    });
  });

  describe('startServer', () => {
    it('binds port 0 to a free port and closes cleanly with open keep-alive connections', async () => {
      const running = await startServer(createKoiNetApp({ handlers: new InMemoryNode(), logger: collectingLogger() }), {
        host: '127.0.0.1',
        port: 0,
      });
      expect(running.port).to.be.greaterThan(0);
      expect(running.url).to.equal(`http://127.0.0.1:${running.port}`);
      expect((await send(`${running.url}/koi-net/rids/fetch`, { body: '{}' })).status).to.equal(200);
      await running.close();
      let refused = false;
      await fetch(`${running.url}/koi-net/rids/fetch`, { method: 'POST', body: '{}' }).catch(() => {
        refused = true;
      });
      expect(refused).to.equal(true);
    });
  });
});

describe('server/body helpers', () => {
  it('parseByteLimit', () => {
    expect(parseByteLimit('1mb')).to.equal(1024 * 1024);
    expect(parseByteLimit('512kb')).to.equal(512 * 1024);
    expect(parseByteLimit(100)).to.equal(100);
    expect(() => parseByteLimit('lots')).to.throw(RangeError);
  });

  it('classifyContentType', () => {
    expect(classifyContentType(undefined)).to.equal('json');
    expect(classifyContentType('')).to.equal('json');
    expect(classifyContentType('application/problem+json')).to.equal('json');
    expect(classifyContentType('text/json')).to.equal('not-json');
    expect(classifyContentType('application/jsonx')).to.equal('not-json');
  });

  it('parseJsonBody reports the offset of a syntax error', () => {
    const r = parseJsonBody(Buffer.from('{bad json'), 'json');
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.detail[0]!.loc).to.deep.equal(['body', 1]);
  });
});

describe('server/app: errors that only look like HTTP errors', () => {
  it('a handler error carrying status 400 is still a 500 (only the validator decides 4xx)', async () => {
    const node = new InMemoryNode();
    const handlers: KoiNetHandlers = {
      broadcastEvents: (b) => node.broadcastEvents(b),
      pollEvents: (b) => node.pollEvents(b),
      fetchRids: async () => {
        throw Object.assign(new Error('upstream said 400'), { status: 400, errors: [] });
      },
      fetchManifests: (b) => node.fetchManifests(b),
      fetchBundles: (b) => node.fetchBundles(b),
    };
    const running = await startServer(createKoiNetApp({ handlers, logger: collectingLogger() }), { port: 0 });
    try {
      const res = await send(`${running.url}/koi-net/rids/fetch`, { body: '{}' });
      expect(res.status).to.equal(500);
      expect(res.json).to.deep.equal({ detail: 'Internal Server Error' });
    } finally {
      await running.close();
    }
  });
});

describe('server/app: the contract validator set up later (deferValidatorSetup)', () => {
  it('a deferred app answers its first slow-path requests as an eager one does, and prepareKoiNetApp resolves', async () => {
    const { prepareKoiNetApp } = await import('../../../src/server/app.ts');
    const eager = await startTestServer();
    const deferred = await startTestServer({ deferValidatorSetup: true });
    try {
      // Not on the fast path: an invalid body and a broadcast, each the first request of its app.
      const bad = JSON.stringify({ rids: ['not a rid'] });
      const event = JSON.stringify({ events: [{ rid: 'orn:slack.channel:T1/C1', event_type: 'NEW', manifest: MANIFEST, contents: { a: 1 } }] });
      for (const [path, body] of [['/bundles/fetch', bad], ['/events/broadcast', event], ['/rids/fetch', '{"rid_types": 5}']] as const) {
        const a = await send(`${eager.url}/koi-net${path}`, { body });
        const b = await send(`${deferred.url}/koi-net${path}`, { body });
        expect(b.status, path).to.equal(a.status);
        expect(b.json, path).to.deep.equal(a.json);
      }
      expect(deferred.node.received).to.have.length(1);
      await prepareKoiNetApp(deferred.app);
      await prepareKoiNetApp(express());
    } finally {
      await eager.close();
      await deferred.close();
    }
  });
});
