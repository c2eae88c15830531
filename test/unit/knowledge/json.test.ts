import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { canonicalJson, cloneJson, sha256HashJson, type JsonObject } from '../../../src/knowledge/index.ts';
import { InvalidContentsError } from '../../../src/errors.ts';

interface ManifestVector {
  name: string;
  contents: JsonObject | null;
  contents_python_json?: string;
  sha256_hash?: string;
  jcs?: string;
  error_type?: string;
}

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/manifests.json', import.meta.url), 'utf8')) as {
  vectors: ManifestVector[];
};

describe('knowledge/json: canonicalJson and sha256HashJson', () => {
  const hashable = fixture.vectors.filter((v) => v.error_type === undefined);
  const refused = fixture.vectors.filter((v) => v.error_type !== undefined);

  it('the fixture has both kinds of vectors', () => {
    expect(hashable.length).to.be.greaterThan(20);
    expect(refused.map((v) => v.name)).to.include.members(['lone_surrogate', 'nan_value']);
  });

  for (const v of hashable) {
    it(`vector ${v.name}: JCS text and sha256 agree with rid-lib`, () => {
      expect(canonicalJson(v.contents)).to.equal(v.jcs);
      expect(sha256HashJson(v.contents)).to.equal(v.sha256_hash);
      // The Python text parsed by JS (big ints round like JCS's float()) gives the same hash.
      expect(sha256HashJson(JSON.parse(v.contents_python_json!))).to.equal(v.sha256_hash);
    });
  }

  for (const v of refused) {
    it(`vector ${v.name}: refused with InvalidContentsError (rid-lib raises ${v.error_type})`, () => {
      const contents = v.name === 'nan_value' ? { nan: Number.NaN } : v.contents;
      expect(() => sha256HashJson(contents)).to.throw(InvalidContentsError);
    });
  }

  it('refuses Infinity, -Infinity, lone surrogates in keys, low surrogates, bigint, functions, cycles', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [
      { x: Infinity },
      { x: [1, -Infinity] },
      { ['k\uDC00']: 1 },
      { s: '\uDC00x' },
      { s: 'x\uD83D' },
      { n: 10n },
      { f: () => 1 },
      cyclic,
      undefined,
    ]) {
      expect(() => canonicalJson(bad), String(bad)).to.throw(InvalidContentsError);
    }
  });

  it('keeps well-formed surrogate pairs and shared (non-cyclic) references', () => {
    const shared = { a: 1 };
    expect(canonicalJson({ e: '😀', x: shared, y: shared })).to.equal('{"e":"😀","x":{"a":1},"y":{"a":1}}');
  });

  it('hashes __proto__ and constructor keys as ordinary keys', () => {
    const contents = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":1},"a":1}') as JsonObject;
    expect(canonicalJson(contents)).to.equal('{"__proto__":{"polluted":true},"a":1,"constructor":{"prototype":1}}');
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('cloneJson keeps __proto__ as an own key and does not pollute', () => {
    const contents = JSON.parse('{"__proto__":{"polluted":true},"n":{"__proto__":[1]}}') as JsonObject;
    const copy = cloneJson(contents);
    expect(copy).to.not.equal(contents);
    expect(Object.getPrototypeOf(copy)).to.equal(Object.prototype);
    expect(Object.keys(copy)).to.deep.equal(['__proto__', 'n']);
    expect(JSON.stringify(copy)).to.equal(JSON.stringify(contents));
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });
});
