/**
 * Unsigned broadcasts of Event objects skip openapi-fetch (RequestHandler.postPlainEvents). They
 * must be the same request and fail the same way as through the typed client, which wire JSON
 * events still take: each case below runs both and compares.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { FakePeer, type FakeAnswer } from '../../helpers/fake-peer.ts';
import { holdRefusingPort } from '../../helpers/ports.ts';
import { Bundle, Event, EventType, eventsPayloadText, type EventJSON } from '../../../src/knowledge/index.ts';
import { Cache } from '../../../src/cache/index.ts';
import { NetworkGraph } from '../../../src/graph/index.ts';
import { RequestHandler } from '../../../src/peer/index.ts';
import { RID, type KoiNetNode } from '../../../src/rid/index.ts';

const me = RID.fromString('orn:koi-net.node:me+00000000-0000-4000-8000-000000000001') as KoiNetNode;
const full = RID.fromString('orn:koi-net.node:full+00000000-0000-4000-8000-000000000002') as KoiNetNode;

describe('peer/request-handler: plain broadcasts of Event objects, past the typed client', () => {
  let dir: string;
  let peer: FakePeer;
  let graph: NetworkGraph;
  let handler: RequestHandler;
  const events = [
    Event.fromBundle(Bundle.generate('orn:test.thing:1', { title: 'é ✓ 🙂', n: 1 }), EventType.NEW),
    Event.fromRid('orn:test.thing:2', EventType.FORGET),
  ];
  const wire: EventJSON[] = events.map((e) => e.toJSON());

  beforeEach(async () => {
    peer = new FakePeer();
    await peer.start();
    dir = await mkdtemp(join(tmpdir(), 'koi-plain-broadcast-'));
    const cache = await Cache.open(dir, { logger: { warn: () => {} } });
    for (const [rid, baseUrl] of [
      [me, 'http://127.0.0.1:9/koi-net'],
      [full, peer.baseUrl],
    ] as const) {
      await cache.write(Bundle.generate(rid, { node_type: 'FULL', base_url: baseUrl, provides: { event: [], state: [] } }));
    }
    graph = new NetworkGraph(cache, me);
    await graph.generate();
    handler = new RequestHandler({ graph, timeoutMs: 300 });
  });

  afterEach(async () => {
    await peer.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends the bytes of eventsPayloadText with the typed client\'s content type', async () => {
    peer.responders.set('/events/broadcast', () => ({ json: null }));
    await handler.broadcastEvents({ node: full }, { events });
    await handler.broadcastEvents({ node: full }, { events: wire });
    const [plain, typed] = peer.seen;
    expect(plain!.text).to.equal(eventsPayloadText(events));
    expect(plain!.contentType).to.equal(typed!.contentType);
    expect(plain!.body).to.deep.equal(typed!.body);
  });

  const outcome = (err: unknown): Record<string, unknown> =>
    err instanceof Error ? { class: err.constructor.name, message: err.message, ...(err as unknown as Record<string, unknown>) } : { value: err };
  const cases: [string, FakeAnswer][] = [
    ['2xx null', { json: null }],
    ['2xx empty', { text: '' }],
    ['2xx not JSON', { text: '{"events": [' }],
    ['500 with a JSON body', { status: 500, json: { detail: 'Internal Server Error' } }],
    ['422 with a text body', { status: 422, text: 'nope' }],
    ['400 error_response (plain peers: an HTTP error)', { status: 400, json: { type: 'error_response', error: 'unknown_node' } }],
    ['a timeout', { json: null, delayMs: 1_000 }],
  ];
  for (const [what, answer] of cases) {
    it(`${what}: the same outcome as through the typed client`, async () => {
      peer.responders.set('/events/broadcast', () => answer);
      const plain = await handler.broadcastEvents({ node: full }, { events }).then(
        () => 'ok',
        (err: unknown) => outcome(err),
      );
      const typed = await handler.broadcastEvents({ node: full }, { events: wire }).then(
        () => 'ok',
        (err: unknown) => outcome(err),
      );
      expect(plain).to.deep.equal(typed);
    });
  }

  it('connection refused: the same RemoteConnectionError', async () => {
    const refusing = await holdRefusingPort();
    try {
      const plain = await handler.broadcastEvents({ url: refusing.url }, { events }).catch((err: unknown) => outcome(err));
      const typed = await handler.broadcastEvents({ url: refusing.url }, { events: wire }).catch((err: unknown) => outcome(err));
      expect(plain).to.have.property('class', 'RemoteConnectionError');
      expect(plain).to.deep.equal(typed);
    } finally {
      await refusing.close();
    }
  });
});
