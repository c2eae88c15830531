import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { SchemaValidationError, type ValidationIssue } from '../../../src/errors.ts';
import {
  SCHEMA_NAMES,
  assertSchema,
  conformsTo,
  getRIDFormatCheckers,
  openapiDocument,
  parseSchema,
  patternRIDFormatCheckers,
  registryRIDFormatCheckers,
  setRIDFormatCheckers,
  validateSchema,
  type SchemaName,
} from '../../../src/protocol/index.ts';
import { CONTRACT_SCHEMAS } from '../../../src/protocol/schemas.ts';

const NODE = 'orn:koi-net.node:coordinator+0edc41e9-ca87-4ed7-a386-205e9281472d';
const PARTIAL = 'orn:koi-net.node:partial+e454c8823a2108493e0a2bc4ace2618b4e5a86cb915f2098e4f8c0d9c9e16086';
const EDGE = 'orn:koi-net.edge:fe40e760b8a6318f130082c3718bbe2f71ed0b41d052d78330a2226a7a9a708f';
const HASH = 'a'.repeat(64);
const manifest = { rid: NODE, timestamp: '2025-04-08T14:10:19.123456Z', sha256_hash: HASH };
const bundle = { manifest, contents: { node_type: 'FULL', provides: { event: [], state: [] } } };
const BAD_RIDS = ['noscheme', 'orn:', 'orn::x', 'foo:', ':x', 'urn:', 'orn:ns', ''];

/** One conforming value per schema; every schema in the spec must appear here. */
const VALID: Record<SchemaName, unknown[]> = {
  RID: [NODE, EDGE, 'https://example.com/a', 'urn:isbn:0451450523', 'slack:x'],
  RIDType: ['orn:koi-net.node', 'https', 'urn:isbn'],
  EventType: ['NEW', 'UPDATE', 'FORGET'],
  Manifest: [manifest, { ...manifest, timestamp: '2025-04-08T14:10:19+02:00' }],
  Contents: [{}, { a: [1, { b: null }] }],
  Bundle: [bundle],
  Event: [
    { rid: NODE, event_type: 'NEW' },
    { rid: NODE, event_type: 'UPDATE', manifest, contents: {} },
    { rid: NODE, event_type: 'FORGET', manifest: null, contents: null },
  ],
  EventsPayload: [{ events: [] }, { events: [{ rid: NODE, event_type: 'FORGET' }] }],
  PollEvents: [{ rid: PARTIAL }, { rid: PARTIAL, limit: 0 }, { rid: PARTIAL, limit: 10 }],
  FetchRids: [{}, { rid_types: ['orn:koi-net.node'] }],
  RidsPayload: [{ rids: [] }, { rids: [NODE, EDGE] }],
  FetchManifests: [{}, { rids: [NODE] }, { rid_types: ['orn:koi-net.edge'], rids: [] }],
  ManifestsPayload: [{ manifests: [] }, { manifests: [manifest], not_found: [EDGE] }],
  FetchBundles: [{ rids: [] }, { rids: [NODE] }],
  BundlesPayload: [
    { bundles: [bundle] },
    { manifests: [bundle] },
    { bundles: [bundle], manifests: [bundle], not_found: [EDGE], deferred: [] },
  ],
  NodeType: ['FULL', 'PARTIAL'],
  NodeProvides: [{}, { event: ['orn:koi-net.node'], state: ['orn:koi-net.node', 'https'] }],
  NodeProfile: [
    { node_type: 'PARTIAL', provides: {} },
    { base_url: 'http://127.0.0.1:8000/koi-net', node_type: 'FULL', provides: { event: [], state: [] } },
    { base_url: null, node_type: 'PARTIAL', provides: {}, public_key: null, '@context': {} },
  ],
  EdgeType: ['WEBHOOK', 'POLL'],
  EdgeStatus: ['PROPOSED', 'APPROVED'],
  EdgeProfile: [
    { source: NODE, target: PARTIAL, edge_type: 'POLL', status: 'PROPOSED', rid_types: ['orn:koi-net.node'] },
  ],
  ValidationError: [{ loc: ['body', 'events', 0], msg: 'Field required', type: 'missing' }],
  HTTPValidationError: [{ detail: [] }, { detail: [{ loc: ['body'], msg: 'x', type: 'y', input: 1, ctx: {} }] }],
  ErrorBody: [{ detail: 'Not Found' }],
  PayloadType: ['poll_events', 'fetch_rids', 'events_payload', 'error_response'],
  SignedPollEvents: [{ type: 'poll_events' }, { type: 'poll_events', limit: 0 }],
  SignedFetchRids: [{ type: 'fetch_rids' }, { type: 'fetch_rids', rid_types: ['orn:koi-net.node'] }],
  SignedFetchManifests: [{ type: 'fetch_manifests', rid_types: [], rids: [NODE] }],
  SignedFetchBundles: [{ type: 'fetch_bundles', rids: [NODE] }],
  SignedRidsPayload: [{ type: 'rids_payload', rids: [NODE, EDGE] }],
  SignedManifestsPayload: [{ type: 'manifests_payload', manifests: [manifest], not_found: [] }],
  SignedBundlesPayload: [{ type: 'bundles_payload', bundles: [bundle], not_found: [EDGE], deferred: [] }],
  SignedEventsPayload: [{ type: 'events_payload', events: [{ rid: NODE, event_type: 'NEW', manifest, contents: {} }] }],
  ErrorType: ['unknown_node', 'invalid_key', 'invalid_signature', 'invalid_target'],
  ErrorResponse: [{ type: 'error_response', error: 'invalid_signature' }],
  SignedPayload: [{ type: 'fetch_rids', rid_types: [] }, { type: 'error_response', error: 'unknown_node' }, { type: 'rids_payload', rids: [] }],
  UnsignedEnvelope: [{ payload: { type: 'poll_events', limit: 0 }, source_node: PARTIAL, target_node: NODE }],
  SignedEnvelope: [{ payload: { type: 'fetch_bundles', rids: [EDGE] }, source_node: PARTIAL, target_node: NODE, signature: 'c2ln' }],
};

/** [value, expected issue (subset match)] per schema; every schema must have at least one. */
const INVALID: Record<SchemaName, [unknown, Partial<ValidationIssue>][]> = {
  RID: [[5, { loc: [], type: 'string_type' }], ...BAD_RIDS.map((r): [unknown, Partial<ValidationIssue>] => [r, { loc: [], type: 'value_error' }])],
  RIDType: [['orn', { type: 'value_error' }], ['orn:a:b', { type: 'value_error' }], ['', { type: 'value_error' }], [1, { type: 'string_type' }]],
  EventType: [['new', { loc: [], type: 'enum' }], [null, { type: 'string_type' }]],
  Manifest: [
    [{ rid: NODE, timestamp: manifest.timestamp }, { loc: ['sha256_hash'], type: 'missing' }],
    [{ ...manifest, timestamp: 'yesterday' }, { loc: ['timestamp'], type: 'datetime_parsing' }],
    [{ ...manifest, timestamp: '2025-04-08T14:10:19' }, { loc: ['timestamp'], type: 'datetime_parsing' }],
    [{ ...manifest, sha256_hash: 'abc' }, { loc: ['sha256_hash'], type: 'string_pattern_mismatch' }],
    [{ ...manifest, rid: 'orn::x' }, { loc: ['rid'], type: 'value_error', input: 'orn::x' }],
  ],
  Contents: [[[], { loc: [], type: 'dict_type' }], ['x', { type: 'dict_type' }]],
  Bundle: [
    [{ manifest }, { loc: ['contents'], type: 'missing' }],
    [{ manifest, contents: [] }, { loc: ['contents'], type: 'dict_type' }],
    [{ manifest: { ...manifest, rid: 'foo:' }, contents: {} }, { loc: ['manifest', 'rid'], type: 'value_error' }],
  ],
  Event: [
    [{ event_type: 'NEW' }, { loc: ['rid'], type: 'missing' }],
    [{ rid: NODE, event_type: 'DELETE' }, { loc: ['event_type'], type: 'enum' }],
    [{ rid: NODE, event_type: 'NEW', manifest: 5 }, { loc: ['manifest'], type: 'dict_type' }],
    [{ rid: NODE, event_type: 'NEW', manifest: { rid: NODE } }, { loc: ['manifest', 'timestamp'], type: 'missing' }],
  ],
  EventsPayload: [
    [{}, { loc: ['events'], type: 'missing' }],
    [{ events: {} }, { loc: ['events'], type: 'list_type' }],
    [{ events: [{ rid: 'noscheme', event_type: 'NEW' }] }, { loc: ['events', 0, 'rid'], type: 'value_error' }],
  ],
  PollEvents: [
    [{}, { loc: ['rid'], type: 'missing' }],
    [{ rid: PARTIAL, limit: -1 }, { loc: ['limit'], type: 'greater_than_equal' }],
    [{ rid: PARTIAL, limit: 1.5 }, { loc: ['limit'], type: 'int_type' }],
    [{ rid: PARTIAL, limit: '3' }, { loc: ['limit'], type: 'int_type' }],
  ],
  FetchRids: [
    [{ rid_types: 'orn:koi-net.node' }, { loc: ['rid_types'], type: 'list_type' }],
    [{ rid_types: ['orn:'] }, { loc: ['rid_types', 0], type: 'value_error' }],
  ],
  RidsPayload: [[{}, { loc: ['rids'], type: 'missing' }], [{ rids: [NODE, 'orn:'] }, { loc: ['rids', 1], type: 'value_error' }]],
  FetchManifests: [[{ rids: ['foo:'] }, { loc: ['rids', 0], type: 'value_error' }], [{ rid_types: [3] }, { loc: ['rid_types', 0], type: 'string_type' }]],
  ManifestsPayload: [[{ not_found: [] }, { loc: ['manifests'], type: 'missing' }], [{ manifests: [{}] }, { loc: ['manifests', 0, 'rid'], type: 'missing' }]],
  FetchBundles: [[{}, { loc: ['rids'], type: 'missing' }], [{ rids: ['orn::x'] }, { loc: ['rids', 0], type: 'value_error' }]],
  BundlesPayload: [
    [{ not_found: [] }, { loc: ['bundles'], type: 'missing' }],
    [{ bundles: [{ manifest }] }, { loc: ['bundles', 0, 'contents'], type: 'missing' }],
    [{ bundles: [], deferred: ['x'] }, { loc: ['deferred', 0], type: 'value_error' }],
  ],
  NodeType: [['full', { type: 'enum' }]],
  NodeProvides: [[{ event: ['orn'] }, { loc: ['event', 0], type: 'value_error' }], [{ state: 'https' }, { loc: ['state'], type: 'list_type' }]],
  NodeProfile: [
    [{ provides: {} }, { loc: ['node_type'], type: 'missing' }],
    // `provides` is optional (issue 13 item 6: the seed's default), so it is not in this list.
    [{ node_type: 'HALF', provides: {} }, { loc: ['node_type'], type: 'enum' }],
    [{ node_type: 'FULL', provides: {}, base_url: 3 }, { loc: ['base_url'], type: 'string_type' }],
  ],
  EdgeType: [['PUSH', { type: 'enum' }]],
  EdgeStatus: [['REJECTED', { type: 'enum' }]],
  EdgeProfile: [
    [{ source: NODE, target: PARTIAL, edge_type: 'POLL', status: 'PROPOSED' }, { loc: ['rid_types'], type: 'missing' }],
    [{ source: 'orn:', target: PARTIAL, edge_type: 'POLL', status: 'PROPOSED', rid_types: [] }, { loc: ['source'], type: 'value_error' }],
    [{ source: NODE, target: PARTIAL, edge_type: 'SMOKE', status: 'PROPOSED', rid_types: [] }, { loc: ['edge_type'], type: 'enum' }],
    [{ source: NODE, target: PARTIAL, edge_type: 'POLL', status: 'MAYBE', rid_types: [] }, { loc: ['status'], type: 'enum' }],
  ],
  ValidationError: [[{ loc: [true], msg: 'm', type: 't' }, { loc: ['loc', 0] }]],
  HTTPValidationError: [[{ detail: [{ msg: 'm', type: 't' }] }, { loc: ['detail', 0, 'loc'], type: 'missing' }]],
  ErrorBody: [[{}, { loc: ['detail'], type: 'missing' }], [{ detail: 1 }, { loc: ['detail'], type: 'string_type' }]],
  PayloadType: [['fetch', { type: 'enum' }]],
  SignedPollEvents: [[{ type: 'poll_events', limit: 'all' }, { loc: ['limit'], type: 'int_type' }]],
  SignedFetchRids: [[{ type: 'fetch_manifests' }, { loc: ['type'] }]],
  SignedFetchManifests: [[{ type: 'fetch_manifests', rids: ['orn:'] }, { loc: ['rids', 0], type: 'value_error' }]],
  SignedFetchBundles: [[{ type: 'fetch_bundles' }, { loc: ['rids'], type: 'missing' }]],
  SignedRidsPayload: [[{ rids: [] }, { loc: ['type'], type: 'missing' }]],
  SignedManifestsPayload: [[{ type: 'manifests_payload' }, { loc: ['manifests'], type: 'missing' }]],
  SignedBundlesPayload: [[{ type: 'bundles_payload', manifests: [bundle] }, { loc: ['bundles'], type: 'missing' }]],
  SignedEventsPayload: [[{ type: 'events_payload', events: [{ rid: NODE }] }, { loc: ['events', 0, 'event_type'], type: 'missing' }]],
  ErrorType: [['bad_mood', { type: 'enum' }]],
  ErrorResponse: [[{ type: 'error_response', error: 'nope' }, { loc: ['error'], type: 'enum' }]],
  SignedPayload: [[{ type: 'fetch_everything' }, { loc: [] }]],
  UnsignedEnvelope: [[{ payload: { type: 'poll_events' }, source_node: PARTIAL }, { loc: ['target_node'], type: 'missing' }]],
  SignedEnvelope: [[{ payload: { type: 'poll_events' }, source_node: PARTIAL, target_node: NODE }, { loc: ['signature'], type: 'missing' }]],
};

describe('protocol/validate', () => {
  it('covers every schema of the spec in these tests', () => {
    const specNames = Object.keys(openapiDocument.components.schemas).sort();
    expect([...SCHEMA_NAMES].sort()).to.deep.equal(specNames);
    expect(Object.keys(VALID).sort()).to.deep.equal(specNames);
    expect(Object.keys(INVALID).sort()).to.deep.equal(specNames);
  });

  for (const name of Object.keys(VALID) as SchemaName[]) {
    describe(name, () => {
      VALID[name].forEach((value, i) => {
        it(`accepts valid value #${i}`, () => {
          expect(validateSchema(name, value)).to.deep.equal([]);
          expect(() => assertSchema(name, value)).not.to.throw();
        });
      });
      INVALID[name].forEach(([value, expected], i) => {
        it(`rejects invalid value #${i} (${(JSON.stringify(value) ?? String(value)).slice(0, 60)})`, () => {
          const issues = validateSchema(name, value);
          expect(issues, 'issues').to.not.be.empty;
          expect(issues.some((issue) => Object.entries(expected).every(([k, v]) => JSON.stringify(issue[k as keyof ValidationIssue]) === JSON.stringify(v))), JSON.stringify(issues)).to.equal(true);
          for (const issue of issues) {
            expect(issue.msg).to.be.a('string').and.not.be.empty;
            expect(issue.type).to.be.a('string').and.not.be.empty;
            expect(issue.loc.every((s) => typeof s === 'string' || Number.isInteger(s))).to.equal(true);
          }
        });
      });
    });
  }

  it('agrees with rid-lib on every RID and RID type in fixtures/rids.json', () => {
    const fixture = JSON.parse(readFileSync(new URL('../../fixtures/rids.json', import.meta.url), 'utf8')) as {
      rids: { input: string; valid: boolean }[];
      rid_types: { input: string; valid: boolean }[];
    };
    for (const r of fixture.rids) expect(validateSchema('RID', r.input).length === 0, r.input).to.equal(r.valid);
    for (const t of fixture.rid_types) expect(validateSchema('RIDType', t.input).length === 0, t.input).to.equal(t.valid);
  });

  it("validates with hey-api's generated JSON schemas, which are the YAML's components.schemas verbatim", () => {
    // Same schemas, same ajv, same answers: the generated module only spares the YAML parse.
    expect(JSON.parse(JSON.stringify(CONTRACT_SCHEMAS))).to.deep.equal(JSON.parse(JSON.stringify(openapiDocument.components.schemas)));
    expect(Object.isFrozen(CONTRACT_SCHEMAS['Manifest'])).to.equal(true);
  });

  it('conformsTo answers yes/no for a schema or one of its properties, without touching the value', () => {
    expect(conformsTo('PayloadType', 'fetch_rids')).to.equal(true);
    expect(conformsTo('PayloadType', 'fetch_everything')).to.equal(false);
    expect(conformsTo('SignedEnvelope', 'c2ln', 'signature')).to.equal(true);
    expect(conformsTo('SignedEnvelope', 5, 'signature')).to.equal(false);
    expect(conformsTo('SignedEnvelope', NODE, 'source_node')).to.equal(true);
    const poll = { type: 'poll_events' };
    expect(conformsTo('SignedPollEvents', poll)).to.equal(true);
    expect(poll).to.deep.equal({ type: 'poll_events' });
    expect(() => conformsTo('SignedEnvelope', 'x', 'nope')).to.throw(/no property/);
  });

  it('describes koi-net 2.0.6 as it is: every envelope of its vectors conforms, and so does its error body', () => {
    const fx = JSON.parse(readFileSync(new URL('../../fixtures/pydantic_json.json', import.meta.url), 'utf8')) as {
      envelopes: { name: string; signed_json: string; unsigned_json: string }[];
      error_response_body: { body: string };
    };
    expect(fx.envelopes.length).to.be.greaterThan(5);
    for (const v of fx.envelopes) {
      expect(validateSchema('SignedEnvelope', JSON.parse(v.signed_json)), v.name).to.deep.equal([]);
      expect(validateSchema('UnsignedEnvelope', JSON.parse(v.unsigned_json)), v.name).to.deep.equal([]);
    }
    expect(validateSchema('ErrorResponse', JSON.parse(fx.error_response_body.body))).to.deep.equal([]);
  });

  it('reports one value_error per bad RID field, not one per failed keyword', () => {
    const issues = validateSchema('FetchBundles', { rids: ['orn::x', NODE, 'foo:'] });
    expect(issues.map((i) => i.loc)).to.deep.equal([['rids', 0], ['rids', 2]]);
    expect(issues.map((i) => i.type)).to.deep.equal(['value_error', 'value_error']);
    expect(issues[0]?.input).to.equal('orn::x');
  });

  it('reports all offending fields at once, with array indexes as numbers', () => {
    const issues = validateSchema('EventsPayload', {
      events: [{ rid: NODE, event_type: 'NEW' }, { rid: 'noscheme', event_type: 'OOPS' }, 5],
    });
    expect(issues.map((i) => i.loc)).to.deep.include.members([
      ['events', 1, 'rid'],
      ['events', 1, 'event_type'],
      ['events', 2],
    ]);
  });

  it('hides the null branch of `X | null` fields and the anyOf summary', () => {
    const issues = validateSchema('Event', { rid: NODE, event_type: 'NEW', manifest: { rid: NODE, timestamp: 'x', sha256_hash: HASH } });
    expect(issues).to.have.length(1);
    expect(issues[0]).to.include({ type: 'datetime_parsing' });
    expect(issues[0]?.loc).to.deep.equal(['manifest', 'timestamp']);
  });

  it('names missing fields with the parent object as input', () => {
    const value = { provides: {} };
    expect(validateSchema('NodeProfile', value)).to.deep.equal([
      { loc: ['node_type'], msg: 'Field required', type: 'missing', input: value },
    ]);
  });

  it('does not mutate the value it validates (defaults go into a private copy)', () => {
    const value = { rid: PARTIAL };
    expect(validateSchema('PollEvents', value)).to.deep.equal([]);
    expect(value).to.deep.equal({ rid: PARTIAL });
  });

  it('keeps unknown fields (be liberal in what you accept)', () => {
    expect(validateSchema('PollEvents', { rid: PARTIAL, extra: 1 })).to.deep.equal([]);
  });

  it('assertSchema throws SchemaValidationError with the issues', () => {
    try {
      assertSchema('FetchBundles', { rids: ['orn:'] });
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(SchemaValidationError);
      const e = err as SchemaValidationError;
      expect(e.schema).to.equal('FetchBundles');
      expect(e.code).to.equal('schema_validation');
      expect(e.issues[0]?.loc).to.deep.equal(['rids', 0]);
      expect(e.message).to.contain('rids.0');
    }
  });

  it('parseSchema returns a copy with defaults filled in', () => {
    const input = { rid: PARTIAL };
    const parsed = parseSchema('PollEvents', input);
    expect(parsed).to.deep.equal({ rid: PARTIAL, limit: 0 });
    expect(parsed).to.not.equal(input);
    expect(parseSchema('FetchManifests', {})).to.deep.equal({ rid_types: [], rids: [] });
    expect(parseSchema('BundlesPayload', { bundles: [] })).to.deep.equal({ bundles: [], not_found: [], deferred: [] });
    expect(() => parseSchema('PollEvents', {})).to.throw(SchemaValidationError);
  });

  it('reports non-JSON input instead of throwing', () => {
    expect(validateSchema('Contents', { f: () => 1 })[0]).to.include({ type: 'value_error' });
  });

  it('throws on an unknown schema name (a programming error, not bad input)', () => {
    expect(() => validateSchema('Nope' as SchemaName, {})).to.throw(/unknown schema/);
  });

  describe('setRIDFormatCheckers', () => {
    afterEach(() => setRIDFormatCheckers());

    it('defaults to the RID registry (type-specific reference rules)', () => {
      expect(getRIDFormatCheckers()).to.equal(registryRIDFormatCheckers);
      const issues = validateSchema('EdgeProfile', {
        source: 'orn:koi-net.node:nohash', target: PARTIAL, edge_type: 'POLL', status: 'PROPOSED', rid_types: [],
      });
      expect(issues).to.have.length(1);
      expect(issues[0]).to.include({ type: 'value_error', input: 'orn:koi-net.node:nohash' });
      expect(issues[0]?.loc).to.deep.equal(['source']);
      expect(validateSchema('RIDType', 'orn:koi-net.node:x')[0]).to.include({ type: 'value_error' });
    });

    it('offers pattern-only checkers', () => {
      expect(patternRIDFormatCheckers.rid('orn:koi-net.node:nohash')).to.equal(true);
      for (const bad of BAD_RIDS) expect(patternRIDFormatCheckers.rid(bad), bad).to.equal(false);
      expect(patternRIDFormatCheckers.ridType('orn')).to.equal(false);
      setRIDFormatCheckers(patternRIDFormatCheckers);
      expect(validateSchema('RID', 'orn:koi-net.node:nohash')).to.deep.equal([]);
      for (const bad of BAD_RIDS) expect(validateSchema('RID', bad), bad).to.not.be.empty;
    });

    it('plugs in another RID check without recompiling, keeping the other checker', () => {
      setRIDFormatCheckers({ rid: (s) => !s.startsWith('https://blocked.') });
      expect(validateSchema('RidsPayload', { rids: [NODE, 'https://blocked.example/x'] })[0]?.loc).to.deep.equal(['rids', 1]);
      expect(getRIDFormatCheckers().ridType).to.equal(registryRIDFormatCheckers.ridType);
      setRIDFormatCheckers();
      expect(validateSchema('RidsPayload', { rids: ['https://blocked.example/x'] })).to.deep.equal([]);
    });

    it('plugs in a rid-type check', () => {
      setRIDFormatCheckers({ ridType: (s) => s !== 'https' });
      expect(validateSchema('FetchRids', { rid_types: ['https'] })[0]?.loc).to.deep.equal(['rid_types', 0]);
      setRIDFormatCheckers();
      expect(validateSchema('FetchRids', { rid_types: ['https'] })).to.deep.equal([]);
    });
  });
});

describe('protocol/validate: the contract schemas themselves', () => {
  it('are valid JSON Schema 2020-12 (the validator skips this check at start: validateSchema false)', async () => {
    const { Ajv2020 } = await import('ajv/dist/2020.js');
    const meta = new Ajv2020({ strict: false });
    for (const name of SCHEMA_NAMES) {
      expect(meta.validateSchema(CONTRACT_SCHEMAS[name] as object), `${name}: ${JSON.stringify(meta.errors)}`).to.equal(true);
    }
    // And the check does refuse a broken schema, so the passes above mean something.
    expect(meta.validateSchema({ type: 'strnig', minLength: -1 })).to.equal(false);
  });
});
