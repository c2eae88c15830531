import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { RID } from '../../../src/rid/index.ts';
import fc from 'fast-check';
import { cacheFileName, ridFromCacheFileName, MAX_FILE_NAME_BYTES } from '../../../src/cache/index.ts';
import { isCanonicalBase64url } from '../../../src/cache/file-name.ts';
import { createHash } from 'node:crypto';

interface FileNameDetail {
  input: string;
  rid_str: string;
  filename: string;
  filename_bytes: number;
  exceeds_NAME_MAX_255: boolean;
}

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/cache_filenames.json', import.meta.url), 'utf8')) as {
  map: Record<string, string>;
  details: FileNameDetail[];
};

describe('cache/cacheFileName', () => {
  it('the fixture has entries', () => expect(Object.keys(fixture.map).length).to.be.greaterThan(30));

  for (const [input, fileName] of Object.entries(fixture.map)) {
    const detail = fixture.details.find((d) => d.input === input)!;
    if (detail.exceeds_NAME_MAX_255) {
      it(`${JSON.stringify(input.slice(0, 40))}...: too long for rid-lib, stored under ~sha256 instead`, () => {
        const name = cacheFileName(RID.fromString(input));
        const hex = createHash('sha256').update(detail.rid_str, 'utf8').digest('hex');
        expect(name).to.equal(`~${hex}.json`);
        expect(fileName.length).to.be.greaterThan(MAX_FILE_NAME_BYTES);
      });
    } else {
      it(`${JSON.stringify(input)} -> ${fileName}`, () => {
        expect(cacheFileName(RID.fromString(input))).to.equal(fileName);
        expect(cacheFileName(input)).to.equal(fileName);
        expect(cacheFileName(detail.rid_str)).to.equal(fileName);
      });
    }
  }

  it('never yields a path separator or dot name, whatever the RID', () => {
    for (const s of ['orn:x.y:../../../etc/passwd', 'https://../..', 'foo:/..\\..', 'urn:a:..', 'orn:a.b:' + '../'.repeat(200)]) {
      const name = cacheFileName(s);
      expect(name, s).to.match(/^(~[0-9a-f]{64}|[A-Za-z0-9_-]+)\.json$/);
      expect(Buffer.byteLength(name)).to.be.at.most(MAX_FILE_NAME_BYTES);
    }
  });

  it('switches to the hashed form exactly when the base64 name would pass 255 bytes', () => {
    // base64 of n bytes is ceil(4n/3) chars; + ".json" = 5.
    const prefix = 'orn:a.b:';
    for (let len = 180; len < 200; len++) {
      const rid = prefix + 'x'.repeat(len - prefix.length);
      const b64 = Math.ceil((len * 4) / 3);
      const name = cacheFileName(rid);
      expect(name.startsWith('~'), String(len)).to.equal(b64 + 5 > 255);
    }
  });
});

describe('cache/ridFromCacheFileName', () => {
  it('inverts cacheFileName for every fixture RID that fits a file name', () => {
    for (const d of fixture.details) {
      if (d.exceeds_NAME_MAX_255) continue;
      expect(ridFromCacheFileName(d.filename)?.toString(), d.input).to.equal(d.rid_str);
    }
  });

  it('refuses names that are not the canonical name of the RID they decode to', () => {
    const upper = `${Buffer.from('https://example.com/path#').toString('base64url')}.json`;
    const rid = RID.fromString('https://example.com/path');
    expect(ridFromCacheFileName(cacheFileName(rid))?.toString()).to.equal('https://example.com/path');
    for (const name of [upper, 'AAAA.json', 'e30.json', 'binary.json', `~${'0'.repeat(64)}.json`, 'x.txt', '.json', `${cacheFileName(rid)}.tmp-1-2`]) {
      expect(ridFromCacheFileName(name), name).to.equal(undefined);
    }
  });
});

describe('cache/ridFromCacheFileName: the cheap canonical check agrees with the round trip', () => {
  /** What ridFromCacheFileName must answer: the RID only if encoding it gives back the very name. */
  function roundTrip(fileName: string): string | undefined {
    if (!/^[A-Za-z0-9_-]+\.json$/.test(fileName)) return undefined;
    let rid: RID;
    try {
      rid = RID.fromString(Buffer.from(fileName.slice(0, -5), 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    return cacheFileName(rid) === fileName ? rid.toString() : undefined;
  }
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('');

  it('isCanonicalBase64url is "encode(decode(s)) === s" for every string of 1 to 4 characters ending in each character', () => {
    for (const prefix of ['', 'b', 'bm', 'bm9', 'bm9k']) {
      for (const c of alphabet) {
        const s = prefix + c;
        expect(isCanonicalBase64url(s), s).to.equal(Buffer.from(s, 'base64url').toString('base64url') === s);
      }
    }
  });

  it('for names of valid, odd and broken RIDs, of bytes that are not UTF-8, and of mangled names', () => {
    const ridStrings = fc.oneof(
      fc.constantFrom('orn:koi-net.node:a+b', 'https://example.com/x', 'urn:isbn:0451450523', 'orn:test.doc:é', 'orn:test.doc:😀', 'HTTPS://Example.COM/a/../b', 'orn:x', 'a:b', 'orn:test.doc:\uFFFD', `orn:test.doc:${'a'.repeat(174)}`, `orn:test.doc:${'a'.repeat(186)}`, `orn:test.doc:${'é'.repeat(120)}`),
      fc.string({ maxLength: 30 }).map((s) => `orn:test.doc:${s}`),
      fc.string({ maxLength: 30 }),
    );
    const names = fc.oneof(
      ridStrings.map((s) => `${Buffer.from(s, 'utf8').toString('base64url')}.json`),
      fc.uint8Array({ maxLength: 40 }).map((b) => `${Buffer.from(b).toString('base64url')}.json`),
      fc.tuple(ridStrings, fc.constantFrom(...alphabet), fc.nat(3)).map(([s, c, cut]) => {
        const base = Buffer.from(s, 'utf8').toString('base64url');
        return `${base.slice(0, Math.max(0, base.length - cut))}${c}.json`;
      }),
    );
    fc.assert(
      fc.property(names, (name) => {
        expect(ridFromCacheFileName(name)?.toString(), name).to.equal(roundTrip(name));
      }),
      { numRuns: 20_000 },
    );
  });
});
