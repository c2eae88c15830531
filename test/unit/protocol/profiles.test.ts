import { expect } from 'chai';
import { SchemaValidationError } from '../../../src/errors.ts';
import { EdgeStatus, EdgeType, NodeType, parseEdgeProfile, parseNodeProfile } from '../../../src/protocol/index.ts';

const NODE = 'orn:koi-net.node:coordinator+0edc41e9-ca87-4ed7-a386-205e9281472d';
const PARTIAL = 'orn:koi-net.node:partial+e454c8823a2108493e0a2bc4ace2618b4e5a86cb915f2098e4f8c0d9c9e16086';

function issuesOf(fn: () => unknown): SchemaValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(SchemaValidationError);
    return err as SchemaValidationError;
  }
  throw new Error('expected a SchemaValidationError');
}

describe('protocol/profiles', () => {
  describe('parseNodeProfile', () => {
    it('fills provides.event and provides.state with []', () => {
      expect(parseNodeProfile({ node_type: 'PARTIAL', provides: {} })).to.deep.equal({
        node_type: 'PARTIAL',
        provides: { event: [], state: [] },
      });
      expect(parseNodeProfile({ node_type: 'FULL', base_url: 'http://h/koi-net', provides: { event: ['orn:koi-net.node'] } }).provides).to.deep.equal({
        event: ['orn:koi-net.node'],
        state: [],
      });
    });

    it('keeps unknown keys (@context, public_key, anything else)', () => {
      const contents = {
        '@context': { '@vocab': 'https://example.org/' },
        public_key: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE',
        base_url: null,
        node_type: 'PARTIAL',
        provides: { event: [], state: [], extra: true },
        future_field: [1, 2],
      };
      expect(parseNodeProfile(contents)).to.deep.equal(contents);
    });

    it('returns a copy and leaves its input alone', () => {
      const contents = { node_type: 'FULL', base_url: 'http://h/koi-net', provides: {} };
      const profile = parseNodeProfile(contents);
      expect(contents.provides).to.deep.equal({});
      profile.provides.event.push('https');
      expect(contents.provides).to.deep.equal({});
    });

    it('names the offending fields', () => {
      const e = issuesOf(() => parseNodeProfile({ node_type: 'HALF', provides: { state: ['orn:'] } }));
      expect(e.schema).to.equal('NodeProfile');
      expect(e.issues.map((i) => [i.loc, i.type])).to.deep.equal([
        [['node_type'], 'enum'],
        [['provides', 'state', 0], 'value_error'],
      ]);
    });

    it('rejects non-objects and missing fields', () => {
      expect(issuesOf(() => parseNodeProfile('FULL')).issues[0]).to.include({ type: 'dict_type' });
      expect(issuesOf(() => parseNodeProfile(null)).issues[0]).to.include({ type: 'dict_type' });
      expect(issuesOf(() => parseNodeProfile({ provides: {} })).issues[0]?.loc).to.deep.equal(['node_type']);
    });

    it('uses the NodeType const values', () => {
      expect(parseNodeProfile({ node_type: NodeType.FULL, provides: {} }).node_type).to.equal('FULL');
      expect(NodeType).to.deep.equal({ FULL: 'FULL', PARTIAL: 'PARTIAL' });
    });
  });

  describe('parseEdgeProfile', () => {
    const edge = { source: NODE, target: PARTIAL, edge_type: EdgeType.POLL, status: EdgeStatus.PROPOSED, rid_types: ['orn:koi-net.node'] };

    it('accepts a valid edge and keeps unknown keys', () => {
      expect(parseEdgeProfile(edge)).to.deep.equal(edge);
      expect(parseEdgeProfile({ ...edge, '@context': {} })).to.have.property('@context');
      expect(EdgeType).to.deep.equal({ WEBHOOK: 'WEBHOOK', POLL: 'POLL' });
      expect(EdgeStatus).to.deep.equal({ PROPOSED: 'PROPOSED', APPROVED: 'APPROVED' });
    });

    it('rejects bad RIDs, enums and missing fields by field path', () => {
      const e = issuesOf(() => parseEdgeProfile({ ...edge, source: 'noscheme', status: 'DONE', rid_types: undefined }));
      expect(e.schema).to.equal('EdgeProfile');
      expect(e.issues.map((i) => i.loc)).to.deep.include.members([['source'], ['status'], ['rid_types']]);
    });
  });
});
