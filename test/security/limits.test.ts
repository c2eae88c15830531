/**
 * Request limits: list caps on broadcast and fetch (422 naming the field, as pydantic's max_length
 * would), the server-side cap on poll answers, and the outgoing request timeout.
 */
import { expect } from 'chai';
import { Event, EventType } from '../../src/knowledge/index.ts';
import { DEFAULT_SERVER_LIMITS, resolveServerLimits } from '../../src/server/index.ts';
import { RequestHandler } from '../../src/peer/index.ts';
import { RemoteConnectionError } from '../../src/errors.ts';
import { silentLogger } from '../../src/logger.ts';
import { drain, postJson, startRealNode, type RealNode } from './helpers.ts';
import { FakePeer } from '../helpers/fake-peer.ts';

const PEER = 'orn:koi-net.node:peer+0d3f3ab0-1111-4222-8333-444455556666';

type Detail = { detail: { type: string; loc: unknown[]; msg: string; ctx?: Record<string, unknown> }[] };

describe('security: request limits', function () {
  this.timeout(30_000);

  it('has the documented defaults and refuses nonsense limits', () => {
    expect(DEFAULT_SERVER_LIMITS).to.deep.equal({ maxEventsPerBroadcast: 1000, maxRidsPerFetch: 10_000, maxEventsPerPoll: 1000 });
    expect(resolveServerLimits({ maxRidsPerFetch: 5 })).to.deep.equal({ ...DEFAULT_SERVER_LIMITS, maxRidsPerFetch: 5 });
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity]) {
      expect(() => resolveServerLimits({ maxEventsPerBroadcast: bad })).to.throw(RangeError);
    }
  });

  describe('a full node with the defaults', () => {
    let n: RealNode;
    before(async () => {
      n = await startRealNode();
    });
    after(async () => {
      await n.close();
    });

    it('broadcast: 1000 events are accepted, 1001 are a 422 naming `events`, and nothing is processed', async () => {
      const event = (i: number) => Event.fromRid(`orn:limit.test:${i}`, EventType.FORGET).toJSON();
      const ok = await postJson(`${n.url}/events/broadcast`, { events: Array.from({ length: 1000 }, (_, i) => event(i)) });
      expect(ok.status).to.equal(200);
      const size = n.node.cache.size;
      const res = await postJson(`${n.url}/events/broadcast`, { events: Array.from({ length: 1001 }, (_, i) => event(i)) });
      expect(res.status).to.equal(422);
      const item = (res.json as Detail).detail[0]!;
      expect(item.type).to.equal('too_long');
      expect(item.loc).to.deep.equal(['body', 'events']);
      expect(item.msg).to.equal('List should have at most 1000 items after validation, not 1001');
      expect(item.ctx).to.include({ max_length: 1000, actual_length: 1001 });
      await drain(n);
      expect(n.node.cache.size).to.equal(size);
    });

    for (const path of ['/bundles/fetch', '/manifests/fetch']) {
      it(`${path}: 10,000 rids are answered, 10,001 are a 422 naming \`rids\``, async () => {
        const rids = (count: number) => Array.from({ length: count }, (_, i) => `orn:limit.test:${i}`);
        const ok = await postJson(`${n.url}${path}`, { rids: rids(10_000) });
        expect(ok.status).to.equal(200);
        expect((ok.json as { not_found: string[] }).not_found).to.have.length(10_000);
        const res = await postJson(`${n.url}${path}`, { rids: rids(10_001) });
        expect(res.status).to.equal(422);
        expect((res.json as Detail).detail.map((d) => d.loc)).to.deep.equal([['body', 'rids']]);
      });
    }

    it('/rids/fetch: more rid_types than the cap is a 422 naming `rid_types`', async () => {
      const res = await postJson(`${n.url}/rids/fetch`, { rid_types: Array.from({ length: 10_001 }, () => 'orn:koi-net.node') });
      expect(res.status).to.equal(422);
      expect((res.json as Detail).detail.map((d) => d.loc)).to.deep.equal([['body', 'rid_types']]);
    });

    it('/events/poll with a valid RID that is not a node RID answers an empty list, not a 500', async () => {
      const res = await postJson(`${n.url}/events/poll`, { rid: 'https://example.com/a', limit: 1e300 });
      expect(res.status).to.equal(200);
      expect(res.json).to.deep.equal({ events: [] });
    });
  });

  describe('poll answers with maxEventsPerPoll = 10', () => {
    let n: RealNode;
    before(async () => {
      n = await startRealNode({ limits: { maxEventsPerPoll: 10 } });
      for (let i = 0; i < 40; i++) await n.node.queues.pushPoll(PEER, Event.fromRid(`orn:poll.test:${i}`, EventType.FORGET));
    });
    after(async () => {
      await n.close();
    });

    const poll = async (limit?: number): Promise<string[]> => {
      const res = await postJson(`${n.url}/events/poll`, limit === undefined ? { rid: PEER } : { rid: PEER, limit });
      expect(res.status).to.equal(200);
      return (res.json as { events: { rid: string }[] }).events.map((e) => e.rid);
    };

    it('honours the caller\'s limit below the cap, caps "no limit" and larger limits, keeps the rest queued in order', async () => {
      expect(await poll(3)).to.deep.equal([0, 1, 2].map((i) => `orn:poll.test:${i}`));
      expect(await poll(0)).to.deep.equal(Array.from({ length: 10 }, (_, i) => `orn:poll.test:${i + 3}`));
      expect(await poll()).to.have.length(10);
      expect(await poll(1000)).to.have.length(10);
      expect(await poll(0)).to.deep.equal(Array.from({ length: 7 }, (_, i) => `orn:poll.test:${i + 33}`));
      expect(await poll(0)).to.deep.equal([]);
    });
  });

  describe('outgoing requests', () => {
    // Takes each request and never answers.
    const peer = new FakePeer();
    before(async () => {
      peer.responders.set('/rids/fetch', () => ({ hang: true }));
      await peer.start();
    });
    after(() => peer.stop());

    it('a peer that never answers fails after timeoutMs instead of hanging', async () => {
      const rh = new RequestHandler({ graph: { getNodeProfile: () => undefined } as never, logger: silentLogger, timeoutMs: 300 });
      const start = Date.now();
      let caught: unknown;
      try {
        await rh.fetchRids({ url: peer.baseUrl });
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(RemoteConnectionError);
      expect(Date.now() - start).to.be.within(250, 3000);
    });
  });
});
