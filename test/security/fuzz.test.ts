/**
 * Hostile input against a REAL full node: for each of the five endpoints, generated malformed
 * requests (wrong types, missing/extra fields, invalid RIDs and RID types, huge strings, 10k-deep
 * JSON, invalid UTF-8, non-JSON, wrong content types and methods, oversized lists, `__proto__` /
 * `constructor` keys) must each get a 4xx JSON answer and change nothing: not the cache, not the
 * queues, not any prototype. Valid requests must still be served afterwards.
 *
 * Runs per endpoint: KOI_FUZZ_RUNS (default 500), e.g. `KOI_FUZZ_RUNS=20000` for a soak.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import canonicalizeImport from 'canonicalize';
import { operations, type OperationId } from '../../generated/stubs/operations.ts';
import { Bundle, Manifest, type JsonObject } from '../../src/knowledge/index.ts';
import { drain, nodeState, postJson, quickState, rawPost, startRealNode, waitFor, type RealNode } from './helpers.ts';

const RUNS = Math.max(1, Number(process.env['KOI_FUZZ_RUNS'] ?? 500));
const canonicalize = canonicalizeImport as unknown as (v: unknown) => string;

interface FuzzRequest {
  body: string | Buffer;
  /** null: no Content-Type header. */
  contentType: string | null;
  method: string;
  /** Which family of malformation, for the report. */
  kind: string;
}

// --- building blocks ------------------------------------------------------------------------------

const VALID_RIDS = ['orn:koi-net.node:peer+0d3f3ab0-1111-4222-8333-444455556666', 'orn:slack.channel:T1/C1', 'https://example.com/a'];
const validRid = fc.constantFrom(...VALID_RIDS);
const validRidType = fc.constantFrom('orn:koi-net.node', 'orn:koi-net.edge', 'https', 'orn:slack.channel');

/** Strings the RID parser refuses: no `:`, empty parts, node RIDs without the `+uuid`. */
const badRidString = fc.oneof(
  fc.string({ maxLength: 30 }).filter((s) => !s.includes(':')),
  fc.constantFrom('', 'orn:', ':x', 'orn::x', 'orn:koi-net.node:', 'orn:koi-net.node:../x', 'urn:isbn:', 'orn:slack.channel:onlyone', 'orn:koi-net.node'),
);
const nonString: fc.Arbitrary<unknown> = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }), fc.constant({}));
const badRid: fc.Arbitrary<unknown> = fc.oneof(badRidString, nonString);
const badRidType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('', 'orn', 'urn', 'orn:koi-net.node:x', 'https:', 'a:b:c', 'orn:', 'orn:a:b'),
  nonString,
);
const eventType = fc.constantFrom('NEW', 'UPDATE', 'FORGET');
const badEventType: fc.Arbitrary<unknown> = fc.oneof(fc.string({ maxLength: 10 }).filter((s) => !['NEW', 'UPDATE', 'FORGET'].includes(s)), nonString);
const nonObject: fc.Arbitrary<unknown> = fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.boolean(), fc.constant(null), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }));
const nonArray: fc.Arbitrary<unknown> = fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.boolean(), fc.constant(null), fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }));
const badLimit: fc.Arbitrary<unknown> = fc.oneof(fc.integer({ max: -1 }), fc.constantFrom(1.5, -0.5, -1e300), fc.string({ maxLength: 5 }), fc.boolean(), fc.constant(null), fc.constant([]));

/** Keys that would reach Object.prototype through a careless merge. */
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;
const protoPayload = fc.constantFrom<unknown>({ polluted: 'yes' }, { prototype: { polluted: 'yes' } }, { toString: 'boom', polluted: 1 }, [1, 2], 'x', null);

/** Object text from pairs, so `__proto__` is a real own key (an object literal would set the prototype). */
type Pairs = [string, string][];
const obj = (pairs: Pairs): string => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
const j = (v: unknown): string => JSON.stringify(v);

/** Contents objects full of prototype-shaped keys, as JSON text. */
const protoContentsText: fc.Arbitrary<string> = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 6 })), protoPayload), { minLength: 1, maxLength: 4 })
  .map((kv) => obj(kv.map(([k, v]) => [k, j(v)])));

const manifestText = (rid: string): string =>
  j({ rid, timestamp: '2025-04-08T14:10:19.123456Z', sha256_hash: 'ab'.repeat(32) });
const goodEventText: fc.Arbitrary<string> = fc.tuple(validRid, eventType).map(([rid, et]) => j({ rid, event_type: et }));

/** Events the contract refuses, as JSON text. */
const badEventText: fc.Arbitrary<string> = fc.oneof(
  nonObject.map(j),
  fc.tuple(badRid, eventType).map(([rid, et]) => j({ rid, event_type: et })),
  fc.tuple(validRid, badEventType).map(([rid, et]) => j({ rid, event_type: et })),
  eventType.map((et) => j({ event_type: et })),
  validRid.map((rid) => j({ rid })),
  fc.tuple(validRid, eventType, fc.oneof(nonObject.filter((v) => v !== null), fc.constant({}), fc.constant({ rid: 'x', timestamp: 'yesterday', sha256_hash: 'x' }))).map(([rid, et, m]) =>
    j({ rid, event_type: et, manifest: m }),
  ),
  fc.tuple(validRid, eventType, nonObject.filter((v) => v !== null)).map(([rid, et, c]) => j({ rid, event_type: et, manifest: JSON.parse(manifestText(rid)), contents: c })),
  // Prototype-shaped contents riding on an event that is broken elsewhere.
  fc.tuple(badRid, protoContentsText).map(([rid, c]) => obj([['rid', j(rid)], ['event_type', '"NEW"'], ['contents', c], ['__proto__', '{"polluted":"yes"}']])),
);

/** A list holding at least one bad item among good ones, or not a list at all. */
function badList(good: fc.Arbitrary<string>, bad: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    nonArray.map(j),
    fc.tuple(fc.array(good, { maxLength: 3 }), bad, fc.array(good, { maxLength: 3 })).map(([a, b, c]) => `[${[...a, b, ...c].join(',')}]`),
  );
}

/** One broken field per operation (or a missing required one), as pairs. */
const BROKEN: Record<OperationId, fc.Arbitrary<Pairs>> = {
  broadcastEvents: fc.oneof(fc.constant<Pairs>([]), badList(goodEventText, badEventText).map((e): Pairs => [['events', e]])),
  pollEvents: fc.oneof(
    fc.constant<Pairs>([]),
    badRid.map((r): Pairs => [['rid', j(r)]]),
    fc.tuple(validRid, badLimit).map(([r, l]): Pairs => [['rid', j(r)], ['limit', j(l)]]),
  ),
  fetchRids: badList(validRidType.map(j), badRidType.map(j)).map((t): Pairs => [['rid_types', t]]),
  fetchManifests: fc.oneof(
    badList(validRidType.map(j), badRidType.map(j)).map((t): Pairs => [['rid_types', t]]),
    badList(validRid.map(j), badRid.map(j)).map((r): Pairs => [['rids', r]]),
  ),
  fetchBundles: fc.oneof(fc.constant<Pairs>([]), badList(validRid.map(j), badRid.map(j)).map((r): Pairs => [['rids', r]])),
};
const KNOWN_FIELDS = new Set(['events', 'rid', 'limit', 'rid_types', 'rids']);

/** The field each operation's "deep" and "huge" cases go into, and a valid-looking template. */
const MAIN_FIELD: Record<OperationId, string> = {
  broadcastEvents: 'events',
  pollEvents: 'rid',
  fetchRids: 'rid_types',
  fetchManifests: 'rids',
  fetchBundles: 'rids',
};

const extraPairs: fc.Arbitrary<Pairs> = fc.array(
  fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS, 'unknown_field', 'extra'), fc.string({ maxLength: 8 })), fc.oneof(protoPayload, fc.jsonValue({ maxDepth: 2 })).map(j)),
  { maxLength: 3 },
);

/** A value nested `depth` levels deep, as text (JSON.stringify would overflow on the way). */
function deepText(depth: number, shape: 'array' | 'object' | 'proto'): string {
  if (shape === 'array') return '['.repeat(depth) + ']'.repeat(depth);
  const key = shape === 'proto' ? '__proto__' : 'a';
  return `{"${key}":`.repeat(depth) + '1' + '}'.repeat(depth);
}
const depth = fc.constantFrom(64, 1000, 10_000);
const deepShape = fc.constantFrom<'array' | 'object' | 'proto'>('array', 'object', 'proto');

/** Sizes straddling the 1 MB body limit: below it the contract refuses, above it the size does. */
const hugeLen = fc.constantFrom(10_000, 200_000, 900_000, 1_500_000);

const INVALID_UTF8 = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0x80]].map((b) => Buffer.from(b));

const WRONG_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/html; charset=utf-8', 'application/jsonx', 'application/octet-stream', 'json'];

/** A body the contract accepts, to pair with a wrong content type or method. */
const VALID_BODY: Record<OperationId, string> = {
  broadcastEvents: j({ events: [{ rid: VALID_RIDS[1], event_type: 'FORGET' }] }),
  pollEvents: j({ rid: VALID_RIDS[0] }),
  fetchRids: j({ rid_types: [] }),
  fetchManifests: j({ rids: [VALID_RIDS[1]] }),
  fetchBundles: j({ rids: [VALID_RIDS[1]] }),
};

function malformed(op: OperationId, limits: { events: number; rids: number }): fc.Arbitrary<FuzzRequest> {
  const json = (kind: string) => (body: string): FuzzRequest => ({ body, contentType: 'application/json', method: 'POST', kind });
  const field = MAIN_FIELD[op];
  const cases: fc.Arbitrary<FuzzRequest>[] = [
    // Not JSON; sometimes with no Content-Type at all, which still means JSON.
    fc
      .tuple(
        fc.string({ minLength: 1, maxLength: 40 }).filter((s) => {
          try {
            JSON.parse(s);
            return false;
          } catch {
            return true;
          }
        }),
        fc.constantFrom<string | null>('application/json', null, 'application/koi+json'),
      )
      .map(([body, contentType]) => ({ body, contentType, method: 'POST', kind: 'not-json' })),
    // JSON, but not an object.
    fc.oneof(nonObject, fc.constant(null)).map(j).map(json('not-object')),
    // One broken field among noise, prototype-shaped keys included.
    fc.tuple(extraPairs, BROKEN[op]).map(([extra, broken]) => obj([...extra.filter(([k]) => !KNOWN_FIELDS.has(k)), ...broken])).map(json('broken-field')),
    // Invalid UTF-8 inside a string value.
    fc.tuple(fc.constantFrom(...INVALID_UTF8), fc.string({ maxLength: 5 })).map(([bad, pad]) => {
      const before = op === 'broadcastEvents' ? '{"events":[{"event_type":"NEW","rid":"orn:a:' : op === 'pollEvents' ? '{"rid":"orn:a:' : `{"${field}":["orn:a:`;
      const after = op === 'broadcastEvents' ? '"}]}' : op === 'pollEvents' ? '"}' : '"]}';
      return { body: Buffer.concat([Buffer.from(before + pad), bad, Buffer.from(after)]), contentType: 'application/json', method: 'POST', kind: 'invalid-utf8' };
    }),
    // A valid body under a content type FastAPI does not parse as JSON.
    fc.constantFrom(...WRONG_TYPES).map((contentType) => ({ body: VALID_BODY[op], contentType, method: 'POST', kind: 'content-type' })),
    // The right path, the wrong method.
    fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH').map((method) => ({ body: method === 'GET' ? '' : VALID_BODY[op], contentType: 'application/json', method, kind: 'method' })),
    // Deep nesting where the contract expects something flat.
    fc.tuple(depth, deepShape, extraPairs).map(([d, shape, extra]) => {
      if (op === 'broadcastEvents' && shape !== 'array') {
        // Deep contents on an event whose RID is invalid: the whole request must still be refused.
        return obj([['events', `[{"rid":"not a rid","event_type":"NEW","contents":${deepText(d, shape)}}]`]]);
      }
      return obj([...extra.filter(([k]) => !KNOWN_FIELDS.has(k)), [field, deepText(d, shape)]]);
    }).map(json('deep')),
    // Huge strings where an RID, RID type or event type belongs.
    fc.tuple(hugeLen, fc.constantFrom('rid', 'type', 'event_type')).map(([n, where]) => {
      // No ':' anywhere, so never an RID; `orn:<huge>:z` is a valid RID but never a valid RID type.
      const bad = 'x'.repeat(n);
      if (op === 'broadcastEvents') return obj([['events', where === 'event_type' ? `[{"rid":"${VALID_RIDS[1]}","event_type":"${bad}"}]` : `[{"rid":"${bad}","event_type":"NEW"}]`]]);
      if (op === 'pollEvents') return obj([['rid', j(bad)]]);
      if (op === 'fetchRids') return obj([['rid_types', j([`orn:${'x'.repeat(n)}:z`])]]);
      return obj([[field, j([bad])]]);
    }).map(json('huge-string')),
  ];
  // Lists one past the configured cap, each item valid: only the cap refuses them.
  if (op === 'broadcastEvents') {
    cases.push(fc.constant(obj([['events', `[${Array.from({ length: limits.events + 1 }, () => j({ rid: VALID_RIDS[1], event_type: 'FORGET' })).join(',')}]`]])).map(json('too-many')));
  } else if (op !== 'pollEvents') {
    const item = op === 'fetchRids' ? '"orn:slack.channel"' : `"${VALID_RIDS[1]}"`;
    cases.push(fc.constant(obj([[field, `[${Array.from({ length: limits.rids + 1 }, () => item).join(',')}]`]])).map(json('too-many')));
  }
  return fc.oneof(...cases);
}

// --- the run --------------------------------------------------------------------------------------

const PROTOTYPES: [string, object][] = [
  ['Object', Object.prototype],
  ['Array', Array.prototype],
  ['Function', Function.prototype],
  ['String', String.prototype],
];
const protoKeys = (): string => JSON.stringify(PROTOTYPES.map(([n, p]) => [n, Reflect.ownKeys(p).map(String).sort()]));

function assertNoPollution(baseline: string): void {
  expect(({} as Record<string, unknown>)['polluted'], '({}).polluted').to.equal(undefined);
  expect(([] as unknown as Record<string, unknown>)['polluted'], '[].polluted').to.equal(undefined);
  expect(protoKeys(), 'built-in prototypes changed').to.equal(baseline);
}

describe('security: malformed requests against a real full node', function () {
  this.timeout(process.env['KOI_FUZZ_RUNS'] ? 0 : 120_000);
  let n: RealNode;
  const baselineProto = protoKeys();
  const tally = new Map<OperationId, { tried: number; byStatus: Record<string, number>; byKind: Record<string, number> }>();
  // Small caps keep the "one past the cap" bodies cheap; the caps' own defaults are tested in limits.test.ts.
  const limits = { events: 50, rids: 200 };

  before(async () => {
    n = await startRealNode({ limits: { maxEventsPerBroadcast: limits.events, maxRidsPerFetch: limits.rids } });
  });
  after(async () => {
    const rows = [...tally.entries()].map(([op, t]) => ({ endpoint: operations[op].path, tried: t.tried, ...t.byStatus }));
    console.log(`      fuzz: requests per endpoint (KOI_FUZZ_RUNS=${RUNS})`);
    console.table(rows);
    console.log('      by kind:', JSON.stringify(Object.fromEntries([...tally.entries()].map(([op, t]) => [op, t.byKind]))));
    await n?.close();
  });

  for (const op of Object.keys(operations) as OperationId[]) {
    const path = operations[op].path;
    it(`${path}: ${RUNS} malformed requests -> 4xx JSON each; cache, queues and prototypes unchanged; still serving`, async () => {
      const t = { tried: 0, byStatus: {} as Record<string, number>, byKind: {} as Record<string, number> };
      tally.set(op, t);
      const before = await nodeState(n);
      const quick = quickState(n);
      await fc.assert(
        fc.asyncProperty(malformed(op, limits), async (req) => {
          const res = await rawPost(`${n.url}${path}`, req.body, req.contentType, req.method);
          t.tried++;
          t.byStatus[`HTTP ${res.status}`] = (t.byStatus[`HTTP ${res.status}`] ?? 0) + 1;
          t.byKind[req.kind] = (t.byKind[req.kind] ?? 0) + 1;
          const shown = typeof req.body === 'string' ? req.body.slice(0, 200) : `<${req.body.length} bytes>`;
          expect(res.status, `${req.kind} ${req.method} ${shown} -> ${res.text.slice(0, 300)}`).to.be.within(400, 499);
          expect(res.contentType).to.match(/^application\/json/);
          expect(res.json).to.be.an('object').that.has.property('detail');
          expect(quickState(n), 'cache size or queue depths changed').to.equal(quick);
          assertNoPollution(baselineProto);
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
      // Anything that slipped through would be processed in the background: let it finish first.
      await drain(n);
      expect(await nodeState(n), 'cache or queues changed').to.equal(before);
      assertNoPollution(baselineProto);
      await expectServing(n, op);
    });
  }

  it('contents with __proto__ / constructor keys in a VALID broadcast round-trip intact and pollute nothing', async () => {
    const fixed = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"name":"x","nested":{"__proto__":[1,2],"prototype":null}}';
    let i = 0;
    const contentsText = fc.oneof(fc.constant(fixed), protoContentsText, fc.tuple(protoContentsText, protoContentsText).map(([a, b]) => obj([['inner', a], ['__proto__', b]])));
    await fc.assert(
      fc.asyncProperty(contentsText, async (text) => {
        const rid = `orn:test.proto:${process.pid}-${++i}`;
        const contents = JSON.parse(text) as JsonObject;
        const manifest = Manifest.generate(rid, contents);
        // The event goes out as text so the keys stay own keys end to end.
        const body = `{"events":[{"rid":${j(rid)},"event_type":"NEW","manifest":${j(manifest.toJSON())},"contents":${text}}]}`;
        const res = await rawPost(`${n.url}/events/broadcast`, body);
        expect(res.status, res.text).to.equal(200);
        await waitFor(rid, () => n.node.cache.exists(rid));
        const fetched = await postJson(`${n.url}/bundles/fetch`, { rids: [rid] });
        expect(fetched.status).to.equal(200);
        // JSON.parse keeps `__proto__` as an own key, so this compares exactly what went over the wire.
        const back = (JSON.parse(fetched.text) as { bundles: { contents: unknown; manifest: { sha256_hash: string } }[] }).bundles[0]!;
        expect(canonicalize(back.contents)).to.equal(canonicalize(contents));
        expect(back.manifest.sha256_hash).to.equal(manifest.sha256Hash);
        const cached = (await n.node.cache.read(rid))!;
        expect(canonicalize(cached.contents)).to.equal(canonicalize(contents));
        assertNoPollution(baselineProto);
      }),
      { numRuns: Math.min(RUNS, 40) },
    );
    expect(Object.getPrototypeOf((await n.node.cache.read(`orn:test.proto:${process.pid}-1`))!.contents)).to.equal(Object.prototype);
  });
});

/** A valid request of `op` gets a sensible 200. */
async function expectServing(n: RealNode, op: OperationId): Promise<void> {
  const url = `${n.url}${operations[op].path}`;
  switch (op) {
    case 'broadcastEvents':
      await drain(n);
      return;
    case 'pollEvents': {
      const res = await postJson(url, { rid: VALID_RIDS[0], limit: 0 });
      expect(res.status).to.equal(200);
      expect(res.json).to.deep.equal({ events: [] });
      return;
    }
    case 'fetchRids': {
      const res = await postJson(url, {});
      expect(res.status).to.equal(200);
      expect((res.json as { rids: string[] }).rids).to.include(n.me);
      return;
    }
    case 'fetchManifests': {
      const res = await postJson(url, { rids: [n.me] });
      expect(res.status).to.equal(200);
      expect((res.json as { manifests: { rid: string }[] }).manifests.map((m) => m.rid)).to.deep.equal([n.me]);
      return;
    }
    case 'fetchBundles': {
      const res = await postJson(url, { rids: [n.me] });
      expect(res.status).to.equal(200);
      const bundle = Bundle.fromJSON((res.json as { bundles: unknown[] }).bundles[0]);
      expect(String(bundle.rid)).to.equal(n.me);
      return;
    }
  }
}
