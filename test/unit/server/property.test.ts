/**
 * Property tests: random malformed bodies never reach a handler and never crash the server; random
 * bodies in general are answered 200 only when they really satisfy the contract.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { operations, type OperationId } from '../../../generated/stubs/operations.ts';
import { validateSchema } from '../../../src/protocol/validate.ts';
import { COORDINATOR_RID, send, startTestServer, type TestServer } from './helpers.ts';

const RUNS_MALFORMED = 200;
const RUNS_ARBITRARY = 100;

const VALID_RIDS = [COORDINATOR_RID, 'orn:koi-net.node:partial+0d3f3ab0', 'orn:slack.channel:T1/C1', 'https://example.com/a'];
const KNOWN_FIELDS = new Set(['events', 'rid', 'limit', 'rid_types', 'rids']);

/** JSON values that are not objects (null included only where the caller says so). */
const nonObject = (withNull: boolean): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 20 }),
    fc.boolean(),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
    ...(withNull ? [fc.constant(null)] : []),
  );
const nonArray: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 20 }),
  fc.boolean(),
  fc.constant(null),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);
const nonString: fc.Arbitrary<unknown> = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }));

const validRid = fc.constantFrom(...VALID_RIDS);
const badRid: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 30 }).filter((s) => !s.includes(':')),
  fc.constantFrom('orn:', ':x', 'orn::x', 'orn:koi-net.node:', 'urn:isbn:', 'orn:koi-net.node:a+b+c', 'orn:slack.channel:onlyone', 'orn:koi-net.node'),
  nonString,
);
const validRidType = fc.constantFrom('orn:koi-net.node', 'orn:koi-net.edge', 'https', 'orn:slack.channel');
const badRidType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('', 'orn', 'urn', 'orn:koi-net.node:x', 'https:', 'a:b:c', 'ORN:koi-net.node', 'orn:'),
  nonString,
);
const eventType = fc.constantFrom('NEW', 'UPDATE', 'FORGET');
const badEventType: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 10 }).filter((s) => !['NEW', 'UPDATE', 'FORGET'].includes(s)),
  nonString,
);
const badLimit: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ max: -1 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
  fc.string({ maxLength: 5 }),
  fc.boolean(),
  fc.constant(null),
);

/** An array holding at least one bad item among good ones, or not an array at all. */
function badArray(good: fc.Arbitrary<unknown>, bad: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    nonArray,
    fc
      .tuple(fc.array(good, { maxLength: 3 }), bad, fc.array(good, { maxLength: 3 }))
      .map(([before, b, after]) => [...before, b, ...after]),
  );
}

const manifest = fc.record({
  rid: validRid,
  timestamp: fc.constant('2025-04-08T14:10:19.123456Z'),
  sha256_hash: fc.constant('ab'.repeat(32)),
});
const badManifest: fc.Arbitrary<unknown> = fc.oneof(
  nonObject(false),
  fc.constant({}),
  manifest.map((m) => ({ ...m, timestamp: 'yesterday' })),
  manifest.map((m) => ({ ...m, sha256_hash: 'x' })),
  badRid.map((rid) => ({ rid, timestamp: '2025-04-08T14:10:19Z', sha256_hash: 'ab'.repeat(32) })),
);
const goodEvent = fc.record({ rid: validRid, event_type: eventType });
const badEvent: fc.Arbitrary<unknown> = fc.oneof(
  nonObject(true),
  fc.record({ rid: badRid, event_type: eventType }),
  fc.record({ rid: validRid, event_type: badEventType }),
  fc.record({ event_type: eventType }),
  fc.record({ rid: validRid }),
  fc.record({ rid: validRid, event_type: eventType, manifest: badManifest }),
  fc.record({ rid: validRid, event_type: eventType, contents: nonObject(false) }),
);

/** Object bodies (as pairs, so `__proto__` can be a real key) with one broken field each. */
type Pairs = [string, unknown][];
const BROKEN_FIELDS: Record<OperationId, fc.Arbitrary<Pairs>> = {
  broadcastEvents: fc.oneof(
    fc.constant<Pairs>([]),
    badArray(goodEvent, badEvent).map((events): Pairs => [['events', events]]),
  ),
  pollEvents: fc.oneof(
    fc.constant<Pairs>([]),
    badRid.map((rid): Pairs => [['rid', rid]]),
    fc.tuple(validRid, badLimit).map(([rid, limit]): Pairs => [['rid', rid], ['limit', limit]]),
  ),
  fetchRids: badArray(validRidType, badRidType).map((t): Pairs => [['rid_types', t]]),
  fetchManifests: fc.oneof(
    badArray(validRidType, badRidType).map((t): Pairs => [['rid_types', t]]),
    badArray(validRid, badRid).map((r): Pairs => [['rids', r]]),
  ),
  fetchBundles: fc.oneof(fc.constant<Pairs>([]), badArray(validRid, badRid).map((r): Pairs => [['rids', r]])),
};

const extraKeys: fc.Arbitrary<Pairs> = fc.array(
  fc.tuple(
    fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'unknown_field'), fc.string({ maxLength: 8 })),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  { maxLength: 3 },
);

function objectText(pairs: Pairs): string {
  return `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
}

function malformedBody(op: OperationId): fc.Arbitrary<string> {
  return fc.oneof(
    // Not JSON at all.
    fc.string({ minLength: 1, maxLength: 40 }).filter((s) => {
      try {
        JSON.parse(s);
        return false;
      } catch {
        return true;
      }
    }),
    // JSON, but not an object.
    nonObject(true).map((v) => JSON.stringify(v)),
    // An object with one broken field, plus noise that must not mask it.
    fc
      .tuple(BROKEN_FIELDS[op], extraKeys)
      .map(([broken, extra]) => objectText([...extra.filter(([k]) => !KNOWN_FIELDS.has(k)), ...broken])),
  );
}

/** Mostly plausible bodies: each field valid, invalid or absent, so both 200s and 422s happen. */
function arbitraryBody(op: OperationId): fc.Arbitrary<string> {
  const field = (good: fc.Arbitrary<unknown>, bad: fc.Arbitrary<unknown>) =>
    fc.option(fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: bad }), { nil: undefined });
  const fields: Record<OperationId, fc.Arbitrary<Pairs>> = {
    broadcastEvents: field(fc.array(goodEvent, { maxLength: 3 }), badArray(goodEvent, badEvent)).map((e) =>
      e === undefined ? [] : [['events', e]],
    ),
    pollEvents: fc
      .tuple(field(validRid, badRid), field(fc.nat(), badLimit))
      .map(([rid, limit]) => [
        ...(rid === undefined ? [] : ([['rid', rid]] as Pairs)),
        ...(limit === undefined ? [] : ([['limit', limit]] as Pairs)),
      ]),
    fetchRids: field(fc.array(validRidType, { maxLength: 3 }), badArray(validRidType, badRidType)).map((t) =>
      t === undefined ? [] : [['rid_types', t]],
    ),
    fetchManifests: fc
      .tuple(
        field(fc.array(validRidType, { maxLength: 3 }), badArray(validRidType, badRidType)),
        field(fc.array(validRid, { maxLength: 3 }), badArray(validRid, badRid)),
      )
      .map(([t, r]) => [
        ...(t === undefined ? [] : ([['rid_types', t]] as Pairs)),
        ...(r === undefined ? [] : ([['rids', r]] as Pairs)),
      ]),
    fetchBundles: field(fc.array(validRid, { maxLength: 3 }), badArray(validRid, badRid)).map((r) =>
      r === undefined ? [] : [['rids', r]],
    ),
  };
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fields[op], extraKeys).map(([f, extra]) => objectText([...extra.filter(([k]) => !KNOWN_FIELDS.has(k)), ...f])) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  );
}

describe('server: property tests', function () {
  this.timeout(180_000);
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  for (const op of Object.keys(operations) as OperationId[]) {
    const spec = operations[op];
    it(`${op}: ${RUNS_MALFORMED} malformed bodies -> always 422 JSON, handler never called`, async () => {
      await fc.assert(
        fc.asyncProperty(malformedBody(op), async (body) => {
          const before = server.node.calls.length;
          const res = await send(`${server.url}/koi-net${spec.path}`, { body });
          expect(res.status, `${body} -> ${res.text}`).to.equal(422);
          expect(res.contentType).to.match(/^application\/json/);
          const detail = (res.json as { detail: { loc: unknown[] }[] }).detail;
          expect(detail).to.be.an('array').that.is.not.empty;
          for (const item of detail) expect(item.loc[0]).to.equal('body');
          expect(server.node.calls.length, 'handler called').to.equal(before);
          expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
        }),
        { numRuns: RUNS_MALFORMED },
      );
    });

    it(`${op}: ${RUNS_ARBITRARY} arbitrary bodies -> 200 only for contract-valid input, never 5xx`, async () => {
      let accepted = 0;
      await fc.assert(
        fc.asyncProperty(arbitraryBody(op), async (body) => {
          const before = server.node.calls.length;
          const res = await send(`${server.url}/koi-net${spec.path}`, { body });
          expect([200, 422], `${body} -> ${res.status} ${res.text}`).to.include(res.status);
          expect(res.contentType).to.match(/^application\/json/);
          if (res.status === 200) {
            accepted++;
            const parsed = JSON.parse(body) as { rid?: unknown };
            if (op === 'pollEvents' && typeof parsed.rid === 'string' && !parsed.rid.startsWith('orn:koi-net.node:')) {
              // Only node RIDs have poll queues: the app answers the empty list itself.
              expect(server.node.calls.length).to.equal(before);
              expect(res.json).to.deep.equal({ events: [] });
              expect(validateSchema(spec.requestSchema!, parsed), body).to.deep.equal([]);
              return;
            }
            expect(server.node.calls.length).to.equal(before + 1);
            const call = server.node.calls[before]!;
            expect(call.op).to.equal(op);
            // An independent validator (src/protocol, its own ajv) must agree the input was valid.
            expect(validateSchema(spec.requestSchema!, call.body), body).to.deep.equal([]);
            expect(validateSchema(spec.requestSchema!, JSON.parse(body)), body).to.deep.equal([]);
          } else {
            expect(server.node.calls.length, 'handler called on a 422').to.equal(before);
            expect(validateSchema(spec.requestSchema!, JSON.parse(body)), body).to.not.deep.equal([]);
          }
        }),
        { numRuns: RUNS_ARBITRARY },
      );
      expect(accepted, 'some bodies were valid').to.be.greaterThan(0);
    });
  }
});
