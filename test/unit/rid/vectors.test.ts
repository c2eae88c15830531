import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { InvalidRIDError, InvalidRIDTypeError } from '../../../src/errors.ts';
import { isKnownRIDType, KoiNetEdge, KoiNetNode, RID, RIDType } from '../../../src/rid/index.ts';

interface RidCase {
  input: string;
  valid: boolean;
  str?: string;
  roundtrips?: boolean;
  scheme?: string;
  namespace?: string | null;
  reference?: string;
  type?: string;
  python_class?: string;
  known_type?: boolean;
  error?: string;
}

interface RidTypeCase {
  input: string;
  valid: boolean;
  str?: string;
  scheme?: string;
  namespace?: string | null;
  known_type?: boolean;
  error?: string;
}

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/rids.json', import.meta.url), 'utf8')) as {
  rids: RidCase[];
  rid_types: RidTypeCase[];
};

const PYTHON_SUBCLASSES: Record<string, abstract new (...args: never[]) => RID> = {
  KoiNetNode,
  KoiNetEdge,
};

describe('rids.json vectors: RID.fromString', () => {
  for (const c of fixture.rids) {
    it(`${c.valid ? 'accepts' : 'refuses'} ${JSON.stringify(c.input)}`, () => {
      if (!c.valid) {
        let err: unknown;
        try {
          RID.fromString(c.input);
        } catch (e) {
          err = e;
        }
        expect(err, `expected an error (rid-lib: ${c.error})`).to.be.instanceOf(InvalidRIDError);
        expect((err as InvalidRIDError).value).to.equal(c.input);
        expect((err as InvalidRIDError).reason).to.be.a('string').and.not.empty;
        return;
      }
      const rid = RID.fromString(c.input);
      expect(rid.toString()).to.equal(c.str);
      expect(rid.toJSON()).to.equal(c.str);
      expect(JSON.stringify({ rid })).to.equal(JSON.stringify({ rid: c.str }));
      expect(rid.scheme).to.equal(c.scheme);
      expect(rid.namespace).to.equal(c.namespace ?? null);
      expect(rid.reference).to.equal(c.reference);
      expect(rid.type.toString()).to.equal(c.type);
      expect(isKnownRIDType(rid.type)).to.equal(c.known_type);
      expect(rid.toString() === c.input).to.equal(c.roundtrips);
      const cls = c.python_class !== undefined ? PYTHON_SUBCLASSES[c.python_class] : undefined;
      if (cls !== undefined) expect(rid).to.be.instanceOf(cls);
      // The normalized form is a fixed point: parsing it again changes nothing.
      expect(RID.fromString(rid.toString()).toString()).to.equal(c.str);
      expect(rid.equals(c.input)).to.equal(true);
    });
  }
});

describe('rids.json vectors: RIDType.fromString', () => {
  for (const c of fixture.rid_types) {
    it(`${c.valid ? 'accepts' : 'refuses'} type ${JSON.stringify(c.input)}`, () => {
      if (!c.valid) {
        let err: unknown;
        try {
          RIDType.fromString(c.input);
        } catch (e) {
          err = e;
        }
        expect(err, `expected an error (rid-lib: ${c.error})`).to.be.instanceOf(InvalidRIDTypeError);
        expect((err as InvalidRIDTypeError).value).to.equal(c.input);
        expect((err as InvalidRIDTypeError).reason).to.be.a('string').and.not.empty;
        return;
      }
      const t = RIDType.fromString(c.input);
      expect(t.toString()).to.equal(c.str);
      expect(t.toJSON()).to.equal(c.str);
      expect(t.scheme).to.equal(c.scheme);
      expect(t.namespace).to.equal(c.namespace ?? null);
      expect(isKnownRIDType(t)).to.equal(c.known_type);
      expect(isKnownRIDType(c.input)).to.equal(c.known_type);
    });
  }
});
