/**
 * The conformance checks. Safety rule for live nodes: apart from read-only fetches and polls of a
 * made-up node RID, the only thing ever broadcast is events about RIDs of the private probe type
 * (or malformed events the node must refuse, shaped so that even a node that wrongly accepts them
 * gains nothing: FORGETs of RIDs that cannot exist, or probe-type RIDs that are FORGOTTEN again).
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { API_PATHS, validateSchema, type SchemaName, type Schemas } from '../../src/protocol/index.ts';
import { Bundle, Event, EventType, sha256HashJson, isJsonObject, type JsonObject } from '../../src/knowledge/index.ts';
import type { RequestBody } from '../../generated/stubs/operations.ts';
import { describeRequest, describeResponse, postJson, send, type ProbeRequest, type ProbeResponse } from './http.ts';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** Passed without being exercised (e.g. the node does not cache the probe type, which is allowed). */
  skipped?: boolean;
}

export interface CheckContext {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:8000/koi-net`. */
  baseUrl: string;
  timeoutMs: number;
  /** How long to wait for a broadcast to show up in the node's state (it is processed in the background). */
  settleMs: number;
  /** `orn:koi-net-conformance.probe`; all state-changing broadcasts use RIDs of this type. */
  probeType: string;
  runId: string;
  /** A made-up partial node RID, never introduced to the node. */
  pollRid: string;
  seedPollQueue?: (pollRid: string) => Promise<number>;
  /** Probe RIDs that may have reached the node's cache; FORGOTTEN at the end whatever happened. */
  touched: Set<string>;
}

/** A unit the runner executes: one or more checks that share state (e.g. the probe lifecycle). */
export interface CheckGroup {
  names: readonly string[];
  run(ctx: CheckContext): Promise<CheckResult[]>;
}

const P = API_PATHS;
const ENDPOINTS = [P.broadcastEvents, P.pollEvents, P.fetchRids, P.fetchManifests, P.fetchBundles] as const;
const NODE_TYPE = 'orn:koi-net.node';

// ---------------------------------------------------------------------------------------------
// Helpers

const pass = (name: string, detail: string): CheckResult => ({ name, ok: true, detail });
const fail = (name: string, detail: string): CheckResult => ({ name, ok: false, detail });
const skip = (name: string, detail: string): CheckResult => ({ name, ok: true, skipped: true, detail });

/** Thrown inside a check to end it with a failure that names the request. */
class CheckFailure extends Error {}

function exchange(req: ProbeRequest, res: ProbeResponse): string {
  return `${describeRequest(req)} -> ${describeResponse(res)}`;
}

function issuesText(issues: { loc: (string | number)[]; msg: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.loc.length ? i.loc.join('.') : '(root)'}: ${i.msg}`)
    .join('; ');
}

/** Sends a valid request and returns the answer validated against `schema`, or throws CheckFailure. */
async function callValid<N extends SchemaName>(ctx: CheckContext, req: ProbeRequest, schema: N): Promise<Schemas[N]> {
  const res = await send(ctx.baseUrl, req, ctx.timeoutMs);
  if (res.kind !== 'answer') throw new CheckFailure(exchange(req, res));
  if (res.status !== 200) throw new CheckFailure(`expected 200: ${exchange(req, res)}`);
  if (!res.json.ok) throw new CheckFailure(`answer is not JSON: ${exchange(req, res)}`);
  const issues = validateSchema(schema, res.json.value);
  if (issues.length > 0) throw new CheckFailure(`answer is not a valid ${schema} (${issuesText(issues)}): ${exchange(req, res)}`);
  return res.json.value as Schemas[N];
}

/** Broadcast answers are JSON `null` (the reference's FastAPI handler returns None). */
async function broadcast(ctx: CheckContext, events: unknown[]): Promise<void> {
  const req = postJson(P.broadcastEvents, { events });
  const res = await send(ctx.baseUrl, req, ctx.timeoutMs);
  if (res.kind !== 'answer' || res.status !== 200) throw new CheckFailure(`broadcast not accepted: ${exchange(req, res)}`);
  if (!res.json.ok || res.json.value !== null) throw new CheckFailure(`broadcast answer is not JSON null: ${exchange(req, res)}`);
}

/** b6 named the bundle list `manifests`; read `bundles` first, as the contract says. */
function bundleList(payload: Schemas['BundlesPayload']): Schemas['Bundle'][] {
  return payload.bundles ?? payload.manifests ?? [];
}

/**
 * Request bodies as sent: the generated types mark defaulted fields required, but the contract
 * lets a caller omit them, and omitting them is part of what is checked.
 */
type Sent<T, Required extends keyof T = never> = Pick<T, Required> & Partial<T>;

async function fetchRids(ctx: CheckContext, body: Sent<RequestBody<'fetchRids'>>): Promise<string[]> {
  return (await callValid(ctx, postJson(P.fetchRids, body), 'RidsPayload')).rids;
}

async function fetchManifests(ctx: CheckContext, body: Sent<RequestBody<'fetchManifests'>>): Promise<Schemas['ManifestsPayload']> {
  return callValid(ctx, postJson(P.fetchManifests, body), 'ManifestsPayload');
}

async function fetchBundles(ctx: CheckContext, body: Sent<RequestBody<'fetchBundles'>, 'rids'>): Promise<Schemas['BundlesPayload']> {
  return callValid(ctx, postJson(P.fetchBundles, body), 'BundlesPayload');
}

async function poll(ctx: CheckContext, body: Sent<RequestBody<'pollEvents'>, 'rid'>): Promise<Schemas['EventsPayload']> {
  return callValid(ctx, postJson(P.pollEvents, body), 'EventsPayload');
}

/** A failing `run` becomes a failed result instead of aborting the whole suite. */
function single(name: string, run: (ctx: CheckContext) => Promise<CheckResult>): CheckGroup {
  return {
    names: [name],
    async run(ctx) {
      try {
        return [await run(ctx)];
      } catch (err) {
        return [fail(name, errorText(err))];
      }
    },
  };
}

function errorText(err: unknown): string {
  if (err instanceof CheckFailure) return err.message;
  return `suite error: ${err instanceof Error ? err.message : String(err)}`;
}

async function waitFor(ms: number, probe: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function bundleHashProblems(bundles: Schemas['Bundle'][]): string[] {
  const problems: string[] = [];
  for (const b of bundles) {
    if (!isJsonObject(b.contents)) continue;
    const hash = sha256HashJson(b.contents as JsonObject);
    if (hash !== b.manifest.sha256_hash.toLowerCase()) {
      problems.push(`${b.manifest.rid}: manifest sha256_hash ${b.manifest.sha256_hash} != sha256 of canonical contents ${hash}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Valid requests

const validChecks: CheckGroup[] = [
  single('rids.fetch.valid', async (ctx) => {
    const rids = await fetchRids(ctx, { rid_types: [] });
    return pass('rids.fetch.valid', `{rid_types: []} -> RidsPayload with ${rids.length} rids`);
  }),
  single('rids.fetch.by-type', async (ctx) => {
    const rids = await fetchRids(ctx, { rid_types: [NODE_TYPE] });
    const wrong = rids.filter((r) => !r.startsWith(`${NODE_TYPE}:`));
    if (wrong.length > 0) return fail('rids.fetch.by-type', `{rid_types: ["${NODE_TYPE}"]} returned other types: ${wrong.slice(0, 3).join(', ')}`);
    return pass('rids.fetch.by-type', `{rid_types: ["${NODE_TYPE}"]} -> ${rids.length} rids, all of that type`);
  }),
  single('rids.fetch.empty-object', async (ctx) => {
    await callValid(ctx, postJson(P.fetchRids, {}), 'RidsPayload');
    return pass('rids.fetch.empty-object', '{} (rid_types defaults to []) -> RidsPayload');
  }),
  single('manifests.fetch.valid', async (ctx) => {
    const m = await fetchManifests(ctx, { rid_types: [], rids: [] });
    return pass('manifests.fetch.valid', `{rid_types: [], rids: []} -> ManifestsPayload with ${m.manifests.length} manifests`);
  }),
  single('manifests.fetch.by-type', async (ctx) => {
    const m = await fetchManifests(ctx, { rid_types: [NODE_TYPE] });
    const wrong = m.manifests.filter((x) => !x.rid.startsWith(`${NODE_TYPE}:`));
    if (wrong.length > 0) return fail('manifests.fetch.by-type', `{rid_types: ["${NODE_TYPE}"]} returned other types: ${wrong.slice(0, 3).map((x) => x.rid).join(', ')}`);
    return pass('manifests.fetch.by-type', `{rid_types: ["${NODE_TYPE}"]} -> ${m.manifests.length} manifests, all of that type`);
  }),
  single('manifests.fetch.empty-object', async (ctx) => {
    await callValid(ctx, postJson(P.fetchManifests, {}), 'ManifestsPayload');
    return pass('manifests.fetch.empty-object', '{} (both lists default to []) -> ManifestsPayload');
  }),
  single('bundles.fetch.valid', async (ctx) => {
    const held = (await fetchRids(ctx, { rid_types: [] })).slice(0, 3);
    const payload = await fetchBundles(ctx, { rids: held });
    const bundles = bundleList(payload);
    const seen = new Map<string, number>();
    for (const r of [...bundles.map((b) => b.manifest.rid), ...(payload.not_found ?? []), ...(payload.deferred ?? [])]) {
      seen.set(r, (seen.get(r) ?? 0) + 1);
    }
    const problems: string[] = [];
    for (const r of held) {
      const n = seen.get(r) ?? 0;
      if (n !== 1) problems.push(`${r} appears ${n} times across bundles/not_found/deferred (expected once)`);
    }
    problems.push(...bundleHashProblems(bundles));
    const list = payload.bundles !== undefined ? 'bundles' : 'manifests (b6 name)';
    const sent = JSON.stringify({ rids: held });
    if (problems.length > 0) return fail('bundles.fetch.valid', `POST ${P.fetchBundles} ${sent}: ${problems.join('; ')}`);
    return pass('bundles.fetch.valid', `${held.length} held rids -> BundlesPayload under ${list}; ${bundles.length} bundles, hashes match contents`);
  }),
  single('events.broadcast.empty', async (ctx) => {
    await broadcast(ctx, []);
    return pass('events.broadcast.empty', '{events: []} -> 200 null');
  }),
  single('events.poll.empty', async (ctx) => {
    const body = { rid: ctx.pollRid };
    const { events } = await poll(ctx, body);
    if (events.length !== 0) return fail('events.poll.empty', `POST ${P.pollEvents} ${JSON.stringify(body)}: a never-seen node got ${events.length} events`);
    return pass('events.poll.empty', 'unknown partial node RID -> {events: []}');
  }),
  single('events.poll.limit', pollLimit),
  single('request.no-content-type', async (ctx) => {
    const req: ProbeRequest = { method: 'POST', path: P.fetchRids, body: '{"rid_types":[]}', contentType: null };
    await callValid(ctx, req, 'RidsPayload');
    return pass('request.no-content-type', 'JSON without Content-Type (seed-era clients) -> 200 RidsPayload');
  }),
  single('request.unknown-fields', async (ctx) => {
    const body = { rid_types: [], unknown_field: 1 };
    await callValid(ctx, postJson(P.fetchRids, body), 'RidsPayload');
    await callValid(ctx, postJson(P.pollEvents, { rid: ctx.pollRid, limit: 0, unknown_field: 1 }), 'EventsPayload');
    return pass('request.unknown-fields', 'extra fields ignored on rids/fetch and events/poll');
  }),
  single('not-found.manifests', async (ctx) => {
    const rid = `${ctx.probeType}:${ctx.runId}-never-broadcast`;
    const m = await fetchManifests(ctx, { rids: [rid] });
    if (m.manifests.length !== 0 || !(m.not_found ?? []).includes(rid)) {
      return fail('not-found.manifests', `POST ${P.fetchManifests} {"rids":["${rid}"]} -> ${JSON.stringify(m)}; expected manifests [] and the rid in not_found`);
    }
    return pass('not-found.manifests', 'unknown RID listed in not_found');
  }),
  single('not-found.bundles', async (ctx) => {
    const rid = `${ctx.probeType}:${ctx.runId}-never-broadcast`;
    const b = await fetchBundles(ctx, { rids: [rid] });
    if (bundleList(b).length !== 0 || !(b.not_found ?? []).includes(rid)) {
      return fail('not-found.bundles', `POST ${P.fetchBundles} {"rids":["${rid}"]} -> ${JSON.stringify(b)}; expected no bundles and the rid in not_found`);
    }
    return pass('not-found.bundles', 'unknown RID listed in not_found');
  }),
];

/**
 * A live node queues events for a partial node only once that node is introduced and has an edge,
 * which would change the node's network state; so unless the caller can seed the queue (tests),
 * `limit` is checked on an empty queue.
 */
async function pollLimit(ctx: CheckContext): Promise<CheckResult> {
  const name = 'events.poll.limit';
  // A second made-up node, so this check's queue is not the one events.poll.empty looks at.
  const rid = partialNodeRid('koi-net-conformance-limit', ctx.runId);
  const seeded = ctx.seedPollQueue ? await ctx.seedPollQueue(rid) : 0;
  const first = await poll(ctx, { rid, limit: 1 });
  if (first.events.length !== Math.min(1, seeded)) {
    return fail(name, `POST ${P.pollEvents} {"rid":"${rid}","limit":1} with ${seeded} queued returned ${first.events.length} events`);
  }
  const rest = await poll(ctx, { rid, limit: 0 });
  const remaining = Math.max(0, seeded - 1);
  if (rest.events.length !== remaining) {
    return fail(name, `POST ${P.pollEvents} {"rid":"${rid}","limit":0} returned ${rest.events.length}, expected the remaining ${remaining}`);
  }
  const again = await poll(ctx, { rid });
  if (again.events.length !== 0) return fail(name, `POST ${P.pollEvents} {"rid":"${rid}"} after draining returned ${again.events.length} events`);
  if (seeded === 0) {
    return pass(name, 'queue empty (no safe way to make a live node queue events for us): limit 1, limit 0 and no limit -> valid empty EventsPayloads');
  }
  return pass(name, `${seeded} queued: limit 1 -> 1, limit 0 -> ${remaining}, then drained -> 0`);
}

/** `orn:koi-net.node:<name>+<id>`, the shape every reference version accepts. */
export function partialNodeRid(name: string, runId: string): string {
  return `orn:koi-net.node:${name}+${runId.replace(/-/g, '')}`;
}

// ---------------------------------------------------------------------------------------------
// Probe lifecycle: NEW, UPDATE, FORGET of a private-type RID

const LIFECYCLE = ['probe.new', 'probe.update', 'probe.forget'] as const;

type ProbeState = { cached: true } | { cached: false; why: string };

async function stateOf(ctx: CheckContext, rid: string): Promise<{ inRids: boolean; manifest?: Schemas['Manifest']; bundle?: Schemas['Bundle']; notFound: boolean }> {
  const rids = await fetchRids(ctx, { rid_types: [ctx.probeType] });
  const m = await fetchManifests(ctx, { rids: [rid] });
  const b = await fetchBundles(ctx, { rids: [rid] });
  const manifest = m.manifests.find((x) => x.rid === rid);
  const bundle = bundleList(b).find((x) => x.manifest.rid === rid);
  const notFound = (m.not_found ?? []).includes(rid) && ((b.not_found ?? []).includes(rid) || (b.deferred ?? []).includes(rid));
  return { inRids: rids.includes(rid), manifest, bundle, notFound };
}

/** The node must agree with itself: a RID it lists it must also serve, and vice versa. */
function expectHolds(rid: string, s: Awaited<ReturnType<typeof stateOf>>, want: Bundle): string | undefined {
  const wantJson = want.toJSON();
  if (!s.inRids) return `${rid} missing from rids/fetch`;
  if (!s.manifest) return `${rid} listed by rids/fetch but missing from manifests/fetch`;
  if (!s.bundle) return `${rid} listed by rids/fetch but missing from bundles/fetch`;
  if (s.manifest.sha256_hash.toLowerCase() !== wantJson.manifest.sha256_hash) return `manifests/fetch hash ${s.manifest.sha256_hash}, sent ${wantJson.manifest.sha256_hash}`;
  if (!isDeepStrictEqual(s.bundle.contents, wantJson.contents)) return `bundles/fetch contents ${JSON.stringify(s.bundle.contents)}, sent ${JSON.stringify(wantJson.contents)}`;
  if (Date.parse(s.manifest.timestamp) !== Date.parse(wantJson.manifest.timestamp)) return `manifest timestamp ${s.manifest.timestamp}, sent ${wantJson.manifest.timestamp}`;
  return undefined;
}

const lifecycle: CheckGroup = {
  names: LIFECYCLE,
  async run(ctx) {
    const results: CheckResult[] = [];
    const rid = `${ctx.probeType}:${ctx.runId}-lifecycle`;
    const t0 = Date.now() - 5_000;
    const v1 = Bundle.generate(rid, { conformance_run: ctx.runId, version: 1 }, new Date(t0));
    const v2 = Bundle.generate(rid, { conformance_run: ctx.runId, version: 2 }, new Date(t0 + 1_000));
    let state: ProbeState = { cached: false, why: 'not reached' };
    let step: (typeof LIFECYCLE)[number] = 'probe.new';
    try {
      // NEW
      ctx.touched.add(rid);
      await broadcast(ctx, [Event.fromBundle(v1, EventType.NEW).toJSON()]);
      let last = await stateOf(ctx, rid);
      const appeared = await waitFor(ctx.settleMs, async () => {
        last = await stateOf(ctx, rid);
        return last.inRids || last.manifest !== undefined || last.bundle !== undefined;
      });
      if (!appeared) {
        if (!last.notFound) throw new CheckFailure(`${rid} absent from rids/fetch but not listed in not_found of manifests/bundles fetch`);
        state = { cached: false, why: `not cached (allowed): ${rid} absent from rids/manifests/bundles ${ctx.settleMs}ms after NEW` };
        results.push(skip('probe.new', `broadcast accepted; ${state.why}`));
      } else {
        const problem = await settle(ctx, rid, v1);
        if (problem) throw new CheckFailure(`after NEW: ${problem}`);
        state = { cached: true };
        results.push(pass('probe.new', 'NEW cached: rids, manifests and bundles fetch all reflect it'));
      }

      // UPDATE
      step = 'probe.update';
      await broadcast(ctx, [Event.fromBundle(v2, EventType.UPDATE).toJSON()]);
      if (state.cached) {
        const problem = await settle(ctx, rid, v2);
        if (problem) throw new CheckFailure(`after UPDATE: ${problem}`);
        results.push(pass('probe.update', 'UPDATE reflected: newer manifest hash and contents served'));
      } else {
        results.push(skip('probe.update', `broadcast accepted; ${state.why}`));
      }

      // FORGET
      step = 'probe.forget';
      await broadcast(ctx, [{ rid, event_type: EventType.FORGET }]);
      if (state.cached) {
        let s = await stateOf(ctx, rid);
        const gone = await waitFor(ctx.settleMs, async () => {
          s = await stateOf(ctx, rid);
          return !s.inRids && s.manifest === undefined && s.bundle === undefined && s.notFound;
        });
        if (!gone) throw new CheckFailure(`${rid} still served ${ctx.settleMs}ms after FORGET (rids: ${s.inRids}, manifest: ${s.manifest !== undefined}, bundle: ${s.bundle !== undefined}, not_found: ${s.notFound})`);
        ctx.touched.delete(rid);
        results.push(pass('probe.forget', 'FORGET reflected: gone from rids, listed in not_found by manifests and bundles'));
      } else {
        results.push(skip('probe.forget', `broadcast accepted; ${state.why}`));
      }
    } catch (err) {
      // Later steps build on earlier ones: report them as not run rather than guess.
      const at = LIFECYCLE.indexOf(step);
      results.push(fail(step, errorText(err)));
      for (const later of LIFECYCLE.slice(at + 1)) results.push(fail(later, `not run: ${step} failed`));
    }
    return results;
  },
};

/** The node processes broadcasts in the background: wait until it serves `want`, or report why not. */
async function settle(ctx: CheckContext, rid: string, want: Bundle): Promise<string | undefined> {
  let problem: string | undefined = 'not checked';
  await waitFor(ctx.settleMs, async () => {
    problem = expectHolds(rid, await stateOf(ctx, rid), want);
    return problem === undefined;
  });
  return problem;
}

// ---------------------------------------------------------------------------------------------
// Invalid requests: never 5xx; contract violations answer 422 with FastAPI's HTTPValidationError

interface BadRequest {
  req: ProbeRequest;
  /** A detail item's loc must start with this (FastAPI names the offending field). */
  loc?: (string | number)[];
  /** Statuses accepted besides 422 (PROTOCOL.md 3 allows 400 where the reference crashes with 500). */
  alsoAllow?: number[];
}

function judgeBad(res: ProbeResponse, bad: BadRequest): string | undefined {
  const what = exchange(bad.req, res);
  if (res.kind !== 'answer') return what;
  if (res.status >= 500) return `5xx: ${what}`;
  const allowed = [422, ...(bad.alsoAllow ?? [])];
  if (!allowed.includes(res.status)) return `expected ${allowed.join('/')}: ${what}`;
  if (res.status !== 422) return undefined;
  if (!res.json.ok) return `422 body is not JSON: ${what}`;
  const issues = validateSchema('HTTPValidationError', res.json.value);
  if (issues.length > 0) return `422 body is not an HTTPValidationError (${issuesText(issues)}): ${what}`;
  const detail = (res.json.value as Schemas['HTTPValidationError']).detail ?? [];
  if (detail.length === 0) return `422 detail is empty: ${what}`;
  if (!detail.every((d) => d.loc[0] === 'body')) return `422 detail loc does not start with "body": ${what}`;
  const want = bad.loc;
  if (want && !detail.some((d) => want.every((seg, i) => d.loc[i] === seg))) {
    return `422 detail does not name ${JSON.stringify(want)}: ${what}`;
  }
  return undefined;
}

function invalid(name: string, what: string, requests: (ctx: CheckContext) => BadRequest[]): CheckGroup {
  return single(name, async (ctx) => {
    const bads = requests(ctx);
    const problems: string[] = [];
    for (const bad of bads) {
      const problem = judgeBad(await send(ctx.baseUrl, bad.req, ctx.timeoutMs), bad);
      if (problem) problems.push(problem);
    }
    if (problems.length > 0) return fail(name, `${problems.length}/${bads.length} wrong: ${problems.join(' | ')}`);
    return pass(name, `${what}: ${bads.length}/${bads.length} requests refused with 4xx (422 detail where 422)`);
  });
}

const raw = (path: string, body: string, contentType?: string): ProbeRequest => ({ method: 'POST', path, body, contentType });
const onAll = (body: string, contentType?: string): BadRequest[] => ENDPOINTS.map((path) => ({ req: raw(path, body, contentType) }));

/** Valid bodies, so that only the Content-Type is wrong. */
const validBodies = (ctx: CheckContext): [string, unknown][] => [
  [P.broadcastEvents, { events: [] }],
  [P.pollEvents, { rid: ctx.pollRid, limit: 0 }],
  [P.fetchRids, { rid_types: [] }],
  [P.fetchManifests, { rid_types: [], rids: [] }],
  [P.fetchBundles, { rids: [] }],
];

/** The syntactically unparseable RID; the reference 1.0.x answers 500 here (a bug the contract forbids). */
const NOT_A_RID = 'not-a-rid';
/** Parses as an RID but breaks `orn:koi-net.node`'s `<name>+<hash>` rule. */
const BAD_NODE_RID = 'orn:koi-net.node:a+b+c';

const invalidChecks: CheckGroup[] = [
  invalid('invalid.not-json', 'body "{bad json" (Content-Type: application/json) to all 5 endpoints', () => onAll('{bad json')),
  invalid('invalid.empty-body', 'empty body to all 5 endpoints', () => onAll('')),
  invalid('invalid.json-array', 'body [] to all 5 endpoints', () => onAll('[]')),
  invalid('invalid.json-null', 'body null to all 5 endpoints', () => onAll('null')),
  invalid('invalid.wrong-types', 'fields of the wrong JSON type', () => [
    { req: postJson(P.broadcastEvents, { events: 5 }), loc: ['body', 'events'] },
    { req: postJson(P.pollEvents, { rid: 5, limit: 0 }), loc: ['body', 'rid'] },
    { req: postJson(P.pollEvents, { rid: 'orn:koi-net.node:x+y', limit: 'x' }), loc: ['body', 'limit'] },
    { req: postJson(P.fetchRids, { rid_types: 5 }), loc: ['body', 'rid_types'] },
    { req: postJson(P.fetchManifests, { rid_types: [], rids: 5 }), loc: ['body', 'rids'] },
    { req: postJson(P.fetchBundles, { rids: 5 }), loc: ['body', 'rids'] },
    { req: postJson(P.fetchBundles, { rids: [5] }), loc: ['body', 'rids', 0] },
  ]),
  invalid('invalid.missing-required', 'required fields missing', (ctx) => [
    { req: postJson(P.broadcastEvents, {}), loc: ['body', 'events'] },
    { req: postJson(P.pollEvents, { limit: 0 }), loc: ['body', 'rid'] },
    { req: postJson(P.fetchBundles, {}), loc: ['body', 'rids'] },
    // FORGET, so a node that wrongly accepts it has nothing to act on.
    { req: postJson(P.broadcastEvents, { events: [{ event_type: 'FORGET' }] }), loc: ['body', 'events', 0, 'rid'] },
    { req: postJson(P.broadcastEvents, { events: [{ rid: `${ctx.probeType}:${ctx.runId}-missing-type` }] }), loc: ['body', 'events', 0, 'event_type'] },
  ]),
  invalid('invalid.rid-syntax', `unparseable RID "${NOT_A_RID}" (400 also allowed)`, () =>
    [
      { req: postJson(P.broadcastEvents, { events: [{ rid: NOT_A_RID, event_type: 'FORGET' }] }), loc: ['body', 'events', 0, 'rid'] },
      { req: postJson(P.pollEvents, { rid: NOT_A_RID }), loc: ['body', 'rid'] },
      { req: postJson(P.fetchManifests, { rids: [NOT_A_RID] }), loc: ['body', 'rids', 0] },
      { req: postJson(P.fetchBundles, { rids: [NOT_A_RID] }), loc: ['body', 'rids', 0] },
    ].map((b) => ({ ...b, alsoAllow: [400] })),
  ),
  invalid('invalid.rid-type-rules', `RID breaking its type's rules "${BAD_NODE_RID}"`, () => [
    { req: postJson(P.broadcastEvents, { events: [{ rid: BAD_NODE_RID, event_type: 'FORGET' }] }), loc: ['body', 'events', 0, 'rid'] },
    { req: postJson(P.pollEvents, { rid: BAD_NODE_RID }), loc: ['body', 'rid'] },
    { req: postJson(P.fetchManifests, { rids: [BAD_NODE_RID] }), loc: ['body', 'rids', 0] },
    { req: postJson(P.fetchBundles, { rids: [BAD_NODE_RID] }), loc: ['body', 'rids', 0] },
  ]),
  invalid('invalid.rid-types', 'invalid RID types in rid_types ("orn:", "orn:koi-net.node:x")', () =>
    [
      { req: postJson(P.fetchRids, { rid_types: ['orn:'] }), loc: ['body', 'rid_types', 0] },
      { req: postJson(P.fetchManifests, { rid_types: ['orn:'] }), loc: ['body', 'rid_types', 0] },
      { req: postJson(P.fetchRids, { rid_types: ['orn:koi-net.node:x'] }), loc: ['body', 'rid_types', 0] },
    ].map((b) => ({ ...b, alsoAllow: [400] })),
  ),
  invalid('invalid.event-type', 'event_type "DELETE"', (ctx) => [
    {
      req: postJson(P.broadcastEvents, { events: [{ rid: `${ctx.probeType}:${ctx.runId}-bad-event-type`, event_type: 'DELETE' }] }),
      loc: ['body', 'events', 0, 'event_type'],
    },
  ]),
  invalid('invalid.manifest-timestamp', 'manifest timestamp "yesterday"', (ctx) => {
    const rid = `${ctx.probeType}:${ctx.runId}-bad-timestamp`;
    // If a node accepted this it could cache the RID: make sure the cleanup FORGETs it.
    ctx.touched.add(rid);
    const manifest = { rid, timestamp: 'yesterday', sha256_hash: sha256HashJson({}) };
    return [{ req: postJson(P.broadcastEvents, { events: [{ rid, event_type: 'NEW', manifest, contents: {} }] }), loc: ['body', 'events', 0, 'manifest', 'timestamp'] }];
  }),
  invalid('invalid.text-plain', 'valid JSON sent as text/plain to all 5 endpoints', (ctx) =>
    validBodies(ctx).map(([path, body]) => ({ req: raw(path, JSON.stringify(body), 'text/plain') })),
  ),
  invalid('invalid.form-urlencoded', 'valid JSON sent as application/x-www-form-urlencoded to all 5 endpoints', (ctx) =>
    validBodies(ctx).map(([path, body]) => ({ req: raw(path, JSON.stringify(body), 'application/x-www-form-urlencoded') })),
  ),
];

// ---------------------------------------------------------------------------------------------
// Methods and paths

const routingChecks: CheckGroup[] = [
  single('method.get', async (ctx) => {
    const problems: string[] = [];
    for (const path of ENDPOINTS) {
      const req: ProbeRequest = { method: 'GET', path };
      const res = await send(ctx.baseUrl, req, ctx.timeoutMs);
      if (res.kind !== 'answer' || (res.status !== 405 && res.status !== 404)) problems.push(`expected 405 or 404: ${exchange(req, res)}`);
    }
    if (problems.length > 0) return fail('method.get', problems.join(' | '));
    return pass('method.get', 'GET on all 5 endpoints -> 405/404');
  }),
  single('path.unknown', async (ctx) => {
    const req = postJson(`/koi-net-conformance-no-such-path/${ctx.runId}`, {});
    const res = await send(ctx.baseUrl, req, ctx.timeoutMs);
    if (res.kind !== 'answer' || res.status !== 404) return fail('path.unknown', `expected 404: ${exchange(req, res)}`);
    return pass('path.unknown', 'POST to an unknown path -> 404');
  }),
];

/**
 * Runs first and always: when nothing answers at all, every other check would fail the same way,
 * so the runner reports them as not run instead of repeating the connection error.
 */
export const reachability: CheckGroup = single('node.reachable', async (ctx) => {
  const req = postJson(P.fetchRids, { rid_types: [] });
  const res = await send(ctx.baseUrl, req, ctx.timeoutMs);
  if (res.kind !== 'answer') return fail('node.reachable', exchange(req, res));
  return pass('node.reachable', `${ctx.baseUrl} answers HTTP (${res.status})`);
});

/** Every check, in the order they run (state-changing lifecycle after the read-only ones). */
export const CHECK_GROUPS: readonly CheckGroup[] = [reachability, ...validChecks, ...routingChecks, ...invalidChecks, lifecycle];

export const CHECK_NAMES: readonly string[] = CHECK_GROUPS.flatMap((g) => g.names);

/** FORGETs every probe RID that might be cached, so a live node is left as found. */
export async function cleanup(ctx: CheckContext): Promise<void> {
  if (ctx.touched.size === 0) return;
  const req = postJson(P.broadcastEvents, { events: [...ctx.touched].map((rid) => ({ rid, event_type: EventType.FORGET })) });
  await send(ctx.baseUrl, req, ctx.timeoutMs);
  ctx.touched.clear();
}

export function newRunId(): string {
  return randomUUID();
}
