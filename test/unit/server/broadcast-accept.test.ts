/**
 * The exact check of broadcast bodies (fast-accept.ts) spares express-openapi-validator and builds
 * each event once. It must be invisible: for any body, a server with it answers byte for byte what
 * a server without it answers (express-openapi-validator, then the events read from the wire), and
 * the events its handler gets are the same.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import fc from 'fast-check';
import type { KoiNetHandlers } from '../../../generated/stubs/operations.ts';
import { createKoiNetApp, startServer, type RunningServer } from '../../../src/server/index.ts';
import { acceptedEventsOf } from '../../../src/server/checked-body.ts';
import { fastAccept } from '../../../src/server/fast-accept.ts';
import { Bundle, Event, EventType, type EventWire } from '../../../src/knowledge/index.ts';
import { silentLogger } from '../../../src/logger.ts';
import { COORDINATOR_RID, InMemoryNode, send } from './helpers.ts';

const PATH = '/koi-net/events/broadcast';

const goodRid = fc.constantFrom(COORDINATOR_RID, 'orn:test.doc:a', 'https://example.com/x', 'urn:isbn:0451450523', 'a:😀');
const badRid = fc.oneof(
  fc.constantFrom('', 'orn', 'orn:', 'orn::x', 'orn:koi-net.node', 'a:', ':x', 'ORN:koi-net.node', 'orn:koi-net.node:a+b+c', 'orn:koi-net.node:x'),
  fc.integer(),
  fc.constant(null),
);
const goodTimestamp = fc.constantFrom('2025-04-08T14:10:19.123456Z', '2025-04-08T14:10:19+02:00', '2025-04-08t14:10:19z', '2025-04-08T14:10:19-0530');
const badTimestamp = fc.constantFrom('2025-04-08 14:10:19Z', '2025-13-45T14:10:19Z', '2025-02-30T14:10:19Z', '2025-04-08T23:59:60Z', '2025-04-08T14:10:19', 'yesterday', '', 7);
const goodHash = fc.constantFrom('a'.repeat(64), 'A0'.repeat(32));
const badHash = fc.constantFrom('a'.repeat(63), 'g'.repeat(64), '', 'a'.repeat(65), 12);
const goodContents = fc.oneof(fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), fc.constant(null));
const badContents = fc.oneof(fc.array(fc.integer(), { maxLength: 2 }), fc.string({ maxLength: 3 }), fc.integer(), fc.boolean());
const goodManifest = fc.oneof(fc.record({ rid: goodRid, timestamp: goodTimestamp, sha256_hash: goodHash }), fc.constant(null));
const badManifest = fc.oneof(
  fc.record({ rid: badRid, timestamp: goodTimestamp, sha256_hash: goodHash }),
  fc.record({ rid: goodRid, timestamp: badTimestamp, sha256_hash: goodHash }),
  fc.record({ rid: goodRid, timestamp: goodTimestamp, sha256_hash: badHash }),
  fc.record({ rid: goodRid, timestamp: goodTimestamp, sha256_hash: goodHash }, { requiredKeys: ['rid', 'timestamp'] }),
  fc.record({ rid: goodRid, timestamp: goodTimestamp, sha256_hash: goodHash }, { requiredKeys: ['sha256_hash'] }),
  fc.jsonValue({ maxDepth: 1 }),
);
const goodType = fc.constantFrom('NEW', 'UPDATE', 'FORGET');
const badType = fc.constantFrom('new', 'DELETE', '', 1, null);
/** A valid event (optional fields present or not, extra keys allowed), or one with one bad field. */
const event = fc.oneof(
  fc.record({ rid: goodRid, event_type: goodType, manifest: goodManifest, contents: goodContents }, { requiredKeys: ['rid', 'event_type'] }),
  fc.record({ rid: goodRid, event_type: goodType, manifest: goodManifest, contents: goodContents, extra: fc.jsonValue({ maxDepth: 1 }) }),
  fc.record({ rid: badRid, event_type: goodType, manifest: goodManifest, contents: goodContents }),
  fc.record({ rid: goodRid, event_type: badType, manifest: goodManifest, contents: goodContents }),
  fc.record({ rid: goodRid, event_type: goodType, manifest: badManifest, contents: goodContents }),
  fc.record({ rid: goodRid, event_type: goodType, manifest: goodManifest, contents: badContents }),
  fc.record({ event_type: goodType, manifest: goodManifest }),
  fc.record({ rid: goodRid, contents: goodContents }),
  fc.jsonValue({ maxDepth: 1 }),
);
const body = fc.oneof(
  { weight: 6, arbitrary: fc.record({ events: fc.array(event, { maxLength: 3 }) }) },
  fc.record({ events: fc.array(event, { maxLength: 3 }), other: fc.jsonValue({ maxDepth: 1 }) }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Records the events each broadcast reached the handler with, as the broadcast operation reads them. */
function recordingHandlers(seen: unknown[][]): KoiNetHandlers {
  const node = new InMemoryNode();
  return {
    broadcastEvents: async (b) => {
      const events = acceptedEventsOf(b) ?? b.events.map((w) => Event.fromValidJSON(w as EventWire));
      seen.push(events.map((e) => e.toJSON()));
      return null;
    },
    pollEvents: (b) => node.pollEvents(b),
    fetchRids: (b) => node.fetchRids(b),
    fetchManifests: (b) => node.fetchManifests(b),
    fetchBundles: (b) => node.fetchBundles(b),
  };
}

describe('server: the exact check of broadcasts answers exactly as express-openapi-validator', function () {
  this.timeout(120_000);
  const seenFast: unknown[][] = [];
  const seenPlain: unknown[][] = [];
  let fast: RunningServer;
  let plain: Server;
  let plainUrl: string;

  before(async () => {
    fast = await startServer(createKoiNetApp({ logger: silentLogger, handlers: recordingHandlers(seenFast) }), { host: '127.0.0.1', port: 0 });
    // Answers checked against the contract: every request then goes through the validator.
    const app = createKoiNetApp({ logger: silentLogger, handlers: recordingHandlers(seenPlain), validateResponses: true });
    plain = createServer(app);
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
    plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  });
  after(async () => {
    await fast.close();
    await new Promise<void>((r) => plain.close(() => r()));
  });

  it('generated bodies, valid and not: same status, same body, same events handled', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const text = JSON.stringify(b);
        const [a, p] = await Promise.all([send(fast.url + PATH, { body: text }), send(plainUrl + PATH, { body: text })]);
        expect({ status: a.status, text: a.text }, text).to.deep.equal({ status: p.status, text: p.text });
        if (a.status === 200) accepted++;
      }),
      { numRuns: 600 },
    );
    expect(seenFast).to.deep.equal(seenPlain);
    // The generators must reach the accepting branch too, or the property says little.
    expect(accepted).to.be.greaterThan(50);
  });

  it('fastAccept builds the events of a valid broadcast and leaves a refused body unmarked', () => {
    const wires = [
      Event.fromBundle(Bundle.generate('orn:test.doc:a', { n: 1 }), EventType.NEW).toJSON(),
      { rid: 'orn:test.doc:b', event_type: 'FORGET', manifest: null, contents: null },
    ];
    const ok = { events: wires };
    expect(fastAccept('broadcastEvents', ok)).to.equal(true);
    expect(acceptedEventsOf(ok)?.map((e) => e.toJSON())).to.deep.equal(wires.map((w) => Event.fromJSON(w).toJSON()));
    for (const bad of [
      { events: [{ ...wires[0], rid: 'not a rid' }] },
      { events: [{ ...wires[0], manifest: { ...wires[0]!.manifest, timestamp: '2025-02-30T00:00:00Z' } }] },
      { events: [wires[1], 'x'] },
      { events: [] },
      { events: 'x' },
    ]) {
      expect(fastAccept('broadcastEvents', bad), JSON.stringify(bad)).to.equal(false);
      expect(acceptedEventsOf(bad)).to.equal(undefined);
    }
  });
});
