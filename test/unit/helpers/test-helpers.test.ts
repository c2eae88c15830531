/**
 * The shared test helpers behave as the tests relying on them assume: a fake peer answers only
 * the protocol operations (404 JSON to anything else, never a crash), and no helper hands out a
 * port that someone else could take from under a test.
 */
import { createServer } from 'node:net';
import { expect } from 'chai';
import { FakePeer, startFakePeer } from '../../helpers/fake-peer.ts';
import { holdRefusingPort, isAddressInUse, onFreePort, startDeadPeer } from '../../helpers/ports.ts';
import { collectingLogger } from '../../helpers/logger.ts';

describe('test helpers', () => {
  describe('FakePeer', () => {
    let peer: FakePeer;
    beforeEach(async () => {
      peer = await startFakePeer({ '/events/broadcast': () => ({ json: null }) });
    });
    afterEach(() => peer.stop());

    it('answers its operations by method and path, and 404 JSON to anything else', async () => {
      const ok = await fetch(`${peer.baseUrl}/events/broadcast`, { method: 'POST', body: '{"events":[]}' });
      expect(ok.status).to.equal(200);
      expect(await ok.json()).to.equal(null);
      for (const [method, path, body] of [
        ['GET', '/koi-net/events/broadcast', undefined],
        ['POST', '/something/else', 'not json at all'],
        ['POST', '/koi-net/events/broadcast/extra', '{}'],
        ['PUT', '/', '{}'],
      ] as const) {
        const res = await fetch(`http://127.0.0.1:${peer.port}${path}`, { method, ...(body !== undefined ? { body } : {}) });
        expect(res.status, `${method} ${path}`).to.equal(404);
        expect(await res.json()).to.deep.equal({ detail: 'Not Found' });
      }
      // An operation this test did not set up is a 404 too, not a crash.
      expect((await fetch(`${peer.baseUrl}/rids/fetch`, { method: 'POST', body: '{' })).status).to.equal(404);
      expect(peer.bodies('/events/broadcast')).to.deep.equal([{ events: [] }]);
      expect(peer.strays.map((s) => `${s.method} ${s.path}`)).to.deep.equal([
        'GET /koi-net/events/broadcast',
        'POST /something/else',
        'POST /koi-net/events/broadcast/extra',
        'PUT /',
      ]);
    });

    it('goes down and comes back on the same port', async () => {
      peer.goDown();
      const err = await fetch(`${peer.baseUrl}/events/broadcast`, { method: 'POST', body: '{"events":[]}' }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(Error);
      peer.comeBack();
      expect((await fetch(`${peer.baseUrl}/events/broadcast`, { method: 'POST', body: '{"events":[]}' })).status).to.equal(200);
    });
  });

  describe('ports', () => {
    it('a held refusing port refuses connections and cannot be taken by a listener', async () => {
      const held = await holdRefusingPort();
      try {
        const err = (await fetch(`${held.url}/rids/fetch`, { method: 'POST' }).catch((e: unknown) => e)) as { cause?: { code?: string } };
        expect(err.cause?.code).to.equal('ECONNREFUSED');
        const other = createServer();
        const listenErr = await new Promise<unknown>((resolve) => {
          other.once('error', resolve);
          other.listen(held.port, '127.0.0.1', () => other.close(() => resolve(undefined)));
        });
        expect(isAddressInUse(listenErr)).to.equal(true);
      } finally {
        await held.close();
      }
    });

    it('a dead peer resets every connection', async () => {
      const dead = await startDeadPeer();
      try {
        const err = await fetch(`${dead.url}/rids/fetch`, { method: 'POST' }).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(Error);
      } finally {
        await dead.close();
      }
    });

    it('onFreePort tries another port when the bind fails with EADDRINUSE, and only then', async () => {
      const tried: number[] = [];
      const port = await onFreePort(async (p) => {
        tried.push(p);
        if (tried.length < 3) throw Object.assign(new Error(`listen EADDRINUSE: address already in use 127.0.0.1:${p}`), { code: 'EADDRINUSE' });
        return p;
      });
      expect(tried).to.have.length(3);
      expect(port).to.equal(tried[2]);
      let caught: unknown;
      await onFreePort(async () => {
        throw new Error('something else');
      }).catch((e: unknown) => (caught = e));
      expect(String(caught)).to.contain('something else');
    });
  });

  it('collectingLogger keeps every level, children included', () => {
    const log = collectingLogger();
    log.info({ a: 1 }, 'hello');
    log.child({ component: 'x' }).warn({}, 'careful');
    log.error({}, 'bad');
    expect(log.messages()).to.deep.equal(['careful', 'bad']);
    expect(log.messages('info')).to.deep.equal(['hello']);
    expect(log.at('info')[0]!.obj).to.deep.equal({ a: 1 });
  });
});
