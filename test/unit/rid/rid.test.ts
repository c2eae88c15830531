import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { InvalidRIDError, InvalidRIDTypeError, KoiNetError } from '../../../src/errors.ts';
import {
  isKnownRIDType,
  KOI_NET_EDGE_TYPE,
  KOI_NET_NODE_TYPE,
  KoiNetEdge,
  KoiNetNode,
  registerRIDType,
  RID,
  RIDType,
} from '../../../src/rid/index.ts';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('rid: RIDType', () => {
  it('interns instances per string', () => {
    expect(RIDType.fromString('orn:koi-net.node')).to.equal(KOI_NET_NODE_TYPE);
    expect(RIDType.fromString('urn:isbn')).to.equal(RIDType.fromString('urn:isbn'));
    expect(RID.fromString('urn:isbn:123').type).to.equal(RIDType.fromString('urn:isbn'));
  });

  it('of() accepts a type or a string; equals() compares strings', () => {
    expect(RIDType.of(KOI_NET_EDGE_TYPE)).to.equal(KOI_NET_EDGE_TYPE);
    expect(RIDType.of('orn:koi-net.edge')).to.equal(KOI_NET_EDGE_TYPE);
    expect(KOI_NET_EDGE_TYPE.equals('orn:koi-net.edge')).to.equal(true);
    expect(KOI_NET_EDGE_TYPE.equals(KOI_NET_NODE_TYPE)).to.equal(false);
    expect(KOI_NET_EDGE_TYPE.equals(null)).to.equal(false);
    expect(JSON.stringify([KOI_NET_NODE_TYPE])).to.equal('["orn:koi-net.node"]');
  });

  it('constants are the node and edge types', () => {
    expect(KOI_NET_NODE_TYPE.toString()).to.equal('orn:koi-net.node');
    expect(KOI_NET_NODE_TYPE.scheme).to.equal('orn');
    expect(KOI_NET_NODE_TYPE.namespace).to.equal('koi-net.node');
    expect(KOI_NET_EDGE_TYPE.toString()).to.equal('orn:koi-net.edge');
  });

  it('errors carry value and reason and are KoiNetErrors', () => {
    const err = thrown(() => RIDType.fromString('https:')) as InvalidRIDTypeError;
    expect(err).to.be.instanceOf(InvalidRIDTypeError).and.instanceOf(KoiNetError);
    expect(err.code).to.equal('invalid_rid_type');
    expect(err.value).to.equal('https:');
    expect(err.reason).to.match(/namespace/);
    expect(err.message).to.contain('"https:"');
  });

  it('refuses non-strings', () => {
    const err = thrown(() => RIDType.fromString(42 as unknown as string)) as InvalidRIDTypeError;
    expect(err).to.be.instanceOf(InvalidRIDTypeError);
    expect(err.value).to.equal(42);
  });
});

describe('rid: RID', () => {
  it('errors say what is wrong with which string', () => {
    const cases: [string, RegExp][] = [
      ['noscheme', /':'/],
      [':x', /empty scheme/],
      ['orn:', /missing reference/],
      ['orn::ref', /empty namespace/],
      ['foo:', /empty reference/],
      ['orn:koi-net.node:a+b+c', /two '\+'-separated components/],
      ['orn:slack.message:T/C', /three '\/'-separated/],
      ['http://[::1/koi-net', /IPv6/],
      ['orn:normalized.text:not-an-rid', /"not-an-rid".*':'/],
    ];
    for (const [input, reason] of cases) {
      const err = thrown(() => RID.fromString(input)) as InvalidRIDError;
      expect(err, input).to.be.instanceOf(InvalidRIDError).and.instanceOf(KoiNetError);
      expect(err.code).to.equal('invalid_rid');
      expect(err.value).to.equal(input);
      expect(err.reason, input).to.match(reason);
      expect(err.message).to.contain(JSON.stringify(input));
    }
  });

  it('refuses non-strings with InvalidRIDError', () => {
    for (const v of [null, undefined, 1, {}, ['orn:a:b']]) {
      const err = thrown(() => RID.fromString(v as unknown as string));
      expect(err).to.be.instanceOf(InvalidRIDError);
      expect((err as InvalidRIDError).value).to.equal(v);
    }
  });

  it('equals() compares normalized strings and accepts strings', () => {
    const a = RID.fromString('https://example.com/path?');
    expect(a.equals(RID.fromString('https://example.com/path'))).to.equal(true);
    expect(a.equals('https://example.com/path')).to.equal(true);
    expect(a.equals('https://example.com/path#')).to.equal(true);
    expect(a.equals('https://example.com/other')).to.equal(false);
    expect(a.equals('not an rid')).to.equal(false);
    expect(a.equals(null)).to.equal(false);
    expect(RID.fromString('foo:bar').equals(RID.fromString('Foo:bar'))).to.equal(false);
  });

  it('of() passes RIDs through and parses strings', () => {
    const rid = RID.fromString('orn:koi-net.edge:abc');
    expect(RID.of(rid)).to.equal(rid);
    expect(RID.of('orn:koi-net.edge:abc').equals(rid)).to.equal(true);
  });

  it('builds the registered subclass, generic RID otherwise', () => {
    expect(RID.fromString('orn:koi-net.node:a+b')).to.be.instanceOf(KoiNetNode);
    expect(RID.fromString('orn:koi-net.edge:e')).to.be.instanceOf(KoiNetEdge);
    const generic = RID.fromString('orn:unknown.thing:x');
    expect(generic.constructor).to.equal(RID);
    expect(isKnownRIDType(generic.type)).to.equal(false);
  });

  it('subclass fromString/of refuse other types', () => {
    expect(KoiNetNode.fromString('orn:koi-net.node:a+b').name).to.equal('a');
    expect(thrown(() => KoiNetNode.fromString('orn:koi-net.edge:x'))).to.be.instanceOf(InvalidRIDError);
    expect(thrown(() => KoiNetEdge.of(RID.fromString('orn:koi-net.node:a+b')))).to.be.instanceOf(InvalidRIDError);
  });

  it('KoiNetNode exposes name and hash', () => {
    const n = KoiNetNode.fromString('orn:koi-net.node:name with spaces+abc');
    expect(n.name).to.equal('name with spaces');
    expect(n.hash).to.equal('abc');
    expect(n.type).to.equal(KOI_NET_NODE_TYPE);
  });

  it('normalizes wrapped RIDs and github numbers like rid-lib', () => {
    expect(RID.fromString('orn:normalized.text:https://example.com/a?').toString()).to.equal(
      'orn:normalized.text:https://example.com/a',
    );
    expect(RID.fromString('orn:github.issue:o/r:007').toString()).to.equal('orn:github.issue:o/r:7');
    expect(RID.fromString('orn:github.pr:o/r:1_000').reference).to.equal('o/r:1000');
    expect(thrown(() => RID.fromString('orn:github.issue:o/r:x'))).to.be.instanceOf(InvalidRIDError);
    expect(thrown(() => RID.fromString('orn:github.commit:o/r:'))).to.be.instanceOf(InvalidRIDError);
    expect(RID.fromString('orn:github.commit:o/r:abc').reference).to.equal('o/r:abc');
  });

  it('returns the same object for a repeated string (parse cache)', () => {
    expect(RID.fromString('orn:koi-net.edge:cached')).to.equal(RID.fromString('orn:koi-net.edge:cached'));
  });
});

describe('rid: generate()', () => {
  it('KoiNetNode.generate -> orn:koi-net.node:<name>+<uuid4>', () => {
    const n = KoiNetNode.generate('coordinator');
    expect(n).to.be.instanceOf(KoiNetNode);
    expect(n.toString()).to.match(/^orn:koi-net\.node:coordinator\+/);
    expect(n.name).to.equal('coordinator');
    expect(n.hash).to.match(UUID4);
    expect(KoiNetNode.generate('coordinator').equals(n)).to.equal(false);
  });

  it("KoiNetNode.generate refuses names with '+'", () => {
    const err = thrown(() => KoiNetNode.generate('a+b')) as InvalidRIDError;
    expect(err).to.be.instanceOf(InvalidRIDError);
    expect(err.value).to.equal('a+b');
    expect(err.reason).to.contain('+');
  });

  it('KoiNetEdge.generate -> sha256 hex of source + target strings', () => {
    const s = KoiNetNode.fromString('orn:koi-net.node:a+1');
    const t = 'orn:koi-net.node:b+2';
    const want = createHash('sha256').update('orn:koi-net.node:a+1orn:koi-net.node:b+2').digest('hex');
    const e = KoiNetEdge.generate(s, t);
    expect(e).to.be.instanceOf(KoiNetEdge);
    expect(e.toString()).to.equal(`orn:koi-net.edge:${want}`);
    expect(KoiNetEdge.generate(String(s), RID.fromString(t)).equals(e)).to.equal(true);
  });
});

describe('rid: registerRIDType', () => {
  class Ticket extends RID {
    get number(): number {
      return Number(this.reference.slice(1));
    }
  }

  it('validates, normalizes and builds the user class', () => {
    const type = registerRIDType('orn:test.ticket', {
      validateReference: (r) => (/^#?\d+$/.test(r) ? undefined : 'ticket reference must be #<number>'),
      normalizeReference: (r) => (r.startsWith('#') ? r : `#${r}`),
      ridClass: Ticket,
    });
    expect(type.toString()).to.equal('orn:test.ticket');
    expect(isKnownRIDType('orn:test.ticket')).to.equal(true);
    const rid = RID.fromString('orn:test.ticket:42');
    expect(rid).to.be.instanceOf(Ticket);
    expect(rid.toString()).to.equal('orn:test.ticket:#42');
    expect((rid as Ticket).number).to.equal(42);
    const err = thrown(() => RID.fromString('orn:test.ticket:abc')) as InvalidRIDError;
    expect(err).to.be.instanceOf(InvalidRIDError);
    expect(err.reason).to.equal('ticket reference must be #<number>');
  });

  it('applies to strings parsed before registration (cache is invalidated)', () => {
    const before = RID.fromString('orn:test.late:x y');
    expect(before.constructor).to.equal(RID);
    registerRIDType('orn:test.late', { validateReference: (r) => (r.includes(' ') ? 'no spaces' : undefined) });
    expect(thrown(() => RID.fromString('orn:test.late:x y'))).to.be.instanceOf(InvalidRIDError);
  });

  it('turns a throwing normalizer into InvalidRIDError', () => {
    registerRIDType('scheme-test', {
      normalizeReference: () => {
        throw new Error('boom');
      },
    });
    const err = thrown(() => RID.fromString('scheme-test:x')) as InvalidRIDError;
    expect(err).to.be.instanceOf(InvalidRIDError);
    expect(err.reason).to.contain('boom');
  });

  it('refuses invalid type strings', () => {
    expect(thrown(() => registerRIDType('orn', {}))).to.be.instanceOf(InvalidRIDTypeError);
    expect(thrown(() => registerRIDType('x:y', {}))).to.be.instanceOf(InvalidRIDTypeError);
  });

  it('isKnownRIDType never throws', () => {
    expect(isKnownRIDType('orn')).to.equal(false);
    expect(isKnownRIDType('')).to.equal(false);
    expect(isKnownRIDType(KOI_NET_NODE_TYPE)).to.equal(true);
    expect(isKnownRIDType('https')).to.equal(true);
    expect(isKnownRIDType('HTTPS')).to.equal(false);
  });

  it('knows rid-lib built-in types', () => {
    for (const t of [
      'orn:slack.message', 'orn:slack.channel', 'orn:slack.user', 'orn:slack.workspace', 'orn:slack.usergroup',
      'orn:github.repo', 'orn:github.commit', 'orn:github.issue', 'orn:github.pr', 'orn:github.event',
      'orn:hackmd.note', 'orn:normalized.text', 'orn:vector', 'orn:discord.message', 'orn:google_drive.file',
      'http', 'https',
    ]) {
      expect(isKnownRIDType(t), t).to.equal(true);
    }
  });
});

// Parsing speed is measured where the node spends it (`npm run bench`), not in a timed test.
describe('rid: many distinct RIDs', () => {
  it('50k node and 50k URL RIDs each parse back to themselves (the parse cache never mixes two up)', () => {
    for (let i = 0; i < 50_000; i++) {
      const node = RID.fromString(`orn:koi-net.node:n${i}+${i}`);
      expect(node.toString()).to.equal(`orn:koi-net.node:n${i}+${i}`);
      const url = RID.fromString(`https://example.com/p/${i}?q=${i}`);
      expect(url.toString()).to.equal(`https://example.com/p/${i}?q=${i}`);
    }
    // Early ones again, after the cache has seen 100k others.
    expect(RID.fromString('orn:koi-net.node:n7+7').toString()).to.equal('orn:koi-net.node:n7+7');
    expect(RID.fromString('https://example.com/p/7?q=7').type.toString()).to.equal('https');
  });
});
