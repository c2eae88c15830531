/** The write-behind's compact text of a bundle is JSON.stringify(bundle.toJSON()), byte for byte. */
import { expect } from 'chai';
import fc from 'fast-check';
import { Bundle, Manifest } from '../../../src/knowledge/index.ts';
import { RID } from '../../../src/rid/index.ts';
import { compactBundleJson } from '../../../src/cache/bundle-file.ts';

describe('cache/compactBundleJson', () => {
  it('equals JSON.stringify(bundle.toJSON()) for any contents, RID and manifest strings', () => {
    const reference = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }).filter((s) => !s.includes(':'));
    fc.assert(
      fc.property(reference, fc.dictionary(fc.string({ unit: 'grapheme' }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }), fc.string({ maxLength: 8 }), (ref, contents, hashTail) => {
        let rid: RID;
        try {
          rid = RID.fromString(`orn:test.text:${ref}`);
        } catch {
          return;
        }
        // Strings that need escaping in every manifest field too (the constructor keeps them verbatim).
        const manifest = new Manifest({ rid, timestamp: '2025-04-08T14:10:19.123456Z', sha256Hash: `a"\\${hashTail}`, timeMicros: 1 });
        const bundle = new Bundle(manifest, contents as Bundle['contents']);
        expect(compactBundleJson(bundle)).to.equal(JSON.stringify(bundle.toJSON()));
      }),
      { numRuns: 300 },
    );
  });

  it('contents with a toJSON of their own are serialized as JSON.stringify would', () => {
    const contents = { a: 1 } as Record<string, unknown>;
    Object.defineProperty(contents, 'toJSON', { value: (key: string) => ({ key }), enumerable: false });
    const bundle = new Bundle(Manifest.generate('orn:test.text:x', { a: 1 }), contents as Bundle['contents']);
    expect(compactBundleJson(bundle)).to.equal(JSON.stringify(bundle.toJSON()));
  });
});
