import { expect } from 'chai';
import { RID } from '../../../src/rid/index.ts';
import {
  Bundle,
  Manifest,
  formatTimestampMicros,
  parseTimestampMicros,
  sha256HashJson,
  type JsonObject,
} from '../../../src/knowledge/index.ts';
import { InvalidContentsError, InvalidRIDError, KoiNetError, SchemaValidationError } from '../../../src/errors.ts';

const NODE = 'orn:koi-net.node:coordinator+0edc41e9-ca87-4ed7-a386-205e9281472d';
const HASH = '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

describe('knowledge/timestamp', () => {
  const base = Date.UTC(2025, 3, 8, 14, 10, 19) * 1000;
  const cases: [string, number][] = [
    ['2025-04-08T14:10:19.123456Z', base + 123456],
    ['2025-04-08T14:10:19Z', base],
    ['2025-04-08T14:10:19.1Z', base + 100000],
    ['2025-04-08T14:10:19.123456789Z', base + 123456],
    ['2025-04-08T16:10:19.123456+02:00', base + 123456],
    ['2025-04-08T09:40:19.5-04:30', base + 500000],
    ['2025-04-08T14:10:19+00:00', base],
    ['2025-04-08t14:10:19z', base],
    ['2025-04-08 14:10:19', base],
  ];
  for (const [text, micros] of cases) {
    it(`parses ${text}`, () => expect(parseTimestampMicros(text)).to.equal(micros));
  }
  for (const bad of ['', 'yesterday', '2025-13-01T00:00:00Z', '2025-02-30T00:00:00Z', '2025-04-08T24:00:00Z', '2025-04-08T14:10:60Z', '0000-01-01T00:00:00Z', '2025-04-08T14:10:19+24:00', '2025-04-08']) {
    it(`refuses ${JSON.stringify(bad)}`, () => expect(parseTimestampMicros(bad)).to.equal(undefined));
  }
  it('formats with six fraction digits and Z, as Python does', () => {
    expect(formatTimestampMicros(base + 123456)).to.equal('2025-04-08T14:10:19.123456Z');
    expect(formatTimestampMicros(base)).to.equal('2025-04-08T14:10:19.000000Z');
    expect(formatTimestampMicros(base + 7)).to.equal('2025-04-08T14:10:19.000007Z');
  });
  it('handles years before 100 (not 1900-1999 as Date.UTC would)', () => {
    // Far from 1970 microseconds pass 2^53, so only millisecond precision is checked there.
    expect(formatTimestampMicros(parseTimestampMicros('0050-01-02T03:04:05.123Z')!)).to.equal('0050-01-02T03:04:05.123000Z');
    expect(parseTimestampMicros('0050-01-02T03:04:05Z')! < parseTimestampMicros('1950-01-02T03:04:05Z')!).to.equal(true);
  });
  it('the fast path for YYYY-MM-DDTHH:MM:SS.ffffffZ agrees with the general parser, valid or not', () => {
    // "+00:00" instead of "Z" is the same instant and always takes the general (regex) parser.
    const general = (t: string): number | undefined => parseTimestampMicros(`${t.slice(0, -1)}+00:00`);
    const pad = (n: number, w: number): string => String(n).padStart(w, '0');
    let seed = 11;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const years = [100, 1582, 1700, 1900, 1970, 2000, 2023, 2024, 2100, 2400, 9999];
    let checked = 0;
    for (let i = 0; i < 5000; i++) {
      const y = rnd(3) === 0 ? years[rnd(years.length)]! : 100 + rnd(9900);
      const t = `${pad(y, 4)}-${pad(rnd(14), 2)}-${pad(rnd(33), 2)}T${pad(rnd(26), 2)}:${pad(rnd(62), 2)}:${pad(rnd(62), 2)}.${pad(rnd(1_000_000), 6)}Z`;
      expect(parseTimestampMicros(t), t).to.equal(general(t));
      checked++;
    }
    for (const t of ['2024-02-29T00:00:00.000000Z', '2023-02-29T00:00:00.000000Z', '1900-02-29T12:00:00.000001Z', '2000-02-29T23:59:59.999999Z', '2024-04-31T00:00:00.000000Z', '2024-1a-01T00:00:00.000000Z', '2024-01-01T00:00:00.00000aZ', '2024-01-01 00:00:00.000000Z', '0099-12-31T23:59:59.999999Z']) {
      expect(parseTimestampMicros(t), t).to.equal(general(t));
    }
    expect(checked).to.equal(5000);
    expect(parseTimestampMicros('2024-02-29T00:00:00.000001Z')).to.equal(Date.UTC(2024, 1, 29) * 1000 + 1);
  });

  it('keeps microseconds exactly between 1700 and 2200', () => {
    for (const t of ['1700-01-01T00:00:00.000001Z', '2199-12-31T23:59:59.999999Z', '1969-12-31T23:59:59.999999Z']) {
      expect(formatTimestampMicros(parseTimestampMicros(t)!)).to.equal(t);
    }
  });
});

describe('knowledge/Manifest', () => {
  it('generate hashes with JCS and stamps UTC microseconds', () => {
    const m = Manifest.generate(RID.fromString(NODE), { b: 2, a: 1, c: 'three' }, new Date('2025-04-08T14:10:19.123Z'));
    expect(m.rid.toString()).to.equal(NODE);
    expect(m.sha256Hash).to.equal('d25862aad5b96f0fd74c16c2c8dc577956571a9a8307e7280b9574e2a2a3b3e2');
    expect(m.timestamp).to.equal('2025-04-08T14:10:19.123000Z');
    expect(m.timeMicros).to.equal(Date.parse('2025-04-08T14:10:19.123Z') * 1000);
  });

  it('generate without a time gives strictly increasing timestamps', () => {
    const rid = RID.fromString(NODE);
    let prev = Manifest.generate(rid, {});
    for (let i = 0; i < 50; i++) {
      const m = Manifest.generate(rid, {});
      expect(m.isNewerThan(prev)).to.equal(true);
      expect(m.timestamp).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      prev = m;
    }
  });

  it('generate refuses contents rid-lib cannot hash', () => {
    expect(() => Manifest.generate(NODE, { x: Number.NaN })).to.throw(InvalidContentsError);
    expect(() => Manifest.generate(NODE, { x: 'a\uD800' })).to.throw(InvalidContentsError);
  });

  it('fromJSON keeps the wire timestamp verbatim and toJSON keeps key order', () => {
    const wire = { sha256_hash: HASH, timestamp: '2025-04-08T16:10:19.5+02:00', rid: NODE };
    const m = Manifest.fromJSON(wire);
    expect(m.timestamp).to.equal(wire.timestamp);
    expect(m.timeMicros).to.equal(Date.parse('2025-04-08T14:10:19.5Z') * 1000);
    expect(JSON.stringify(m)).to.equal(`{"rid":"${NODE}","timestamp":"2025-04-08T16:10:19.5+02:00","sha256_hash":"${HASH}"}`);
  });

  it('fromJSON refuses bad manifests with typed errors', () => {
    const good = { rid: NODE, timestamp: '2025-04-08T14:10:19.123456Z', sha256_hash: HASH };
    for (const bad of [null, [], 'x', {}, { ...good, rid: 42 }, { ...good, timestamp: 'yesterday' }, { ...good, sha256_hash: 'abc' }, { rid: NODE, timestamp: good.timestamp }]) {
      expect(() => Manifest.fromJSON(bad), JSON.stringify(bad)).to.throw(KoiNetError);
    }
    expect(() => Manifest.fromJSON({ ...good, timestamp: 'yesterday' })).to.throw(SchemaValidationError);
    expect(() => Manifest.fromJSON({ ...good, rid: 'no-colon' })).to.throw(KoiNetError).that.satisfies(
      (e: unknown) => e instanceof SchemaValidationError || e instanceof InvalidRIDError,
    );
  });

  it('orders by instant, not by text', () => {
    const a = Manifest.fromJSON({ rid: NODE, timestamp: '2025-04-08T15:00:00+02:00', sha256_hash: HASH });
    const b = Manifest.fromJSON({ rid: NODE, timestamp: '2025-04-08T14:00:00Z', sha256_hash: HASH });
    expect(b.isNewerThan(a)).to.equal(true);
    expect(a.isNewerThan(b)).to.equal(false);
  });
});

describe('knowledge/Bundle', () => {
  it('generate, rid getter, toJSON / fromJSON round trip', () => {
    const contents = { node_type: 'FULL', base_url: 'http://127.0.0.1:8000/koi-net', provides: { event: [], state: [] } };
    const b = Bundle.generate(NODE, contents);
    expect(b.rid.toString()).to.equal(NODE);
    expect(b.manifest.sha256Hash).to.equal(sha256HashJson(contents));
    const json = JSON.parse(JSON.stringify(b)) as unknown;
    expect(Object.keys(json as object)).to.deep.equal(['manifest', 'contents']);
    const back = Bundle.fromJSON(json);
    expect(back.toJSON()).to.deep.equal(b.toJSON());
    expect(back.manifest.equals(b.manifest)).to.equal(true);
  });

  it('non-object contents -> InvalidContentsError', () => {
    const m = Manifest.generate(NODE, {});
    for (const bad of [null, [], 'x', 1, true]) {
      expect(() => new Bundle(m, bad as unknown as JsonObject)).to.throw(InvalidContentsError);
      expect(() => Bundle.generate(NODE, bad as unknown as JsonObject)).to.throw(InvalidContentsError);
    }
  });

  it('fromJSON refuses missing or non-object contents', () => {
    const manifest = Manifest.generate(NODE, {}).toJSON();
    expect(() => Bundle.fromJSON({ manifest })).to.throw(KoiNetError);
    expect(() => Bundle.fromJSON({ manifest, contents: [1] })).to.throw(KoiNetError);
    expect(() => Bundle.fromJSON({ contents: {} })).to.throw(KoiNetError);
  });

  it('__proto__ / constructor keys in contents survive a JSON round trip', () => {
    const text = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"ok":1}';
    const contents = JSON.parse(text) as JsonObject;
    const b = Bundle.generate(NODE, contents);
    const back = Bundle.fromJSON(JSON.parse(JSON.stringify(b)));
    expect(JSON.stringify(back.contents)).to.equal(text);
    expect(Object.getPrototypeOf(back.contents)).to.equal(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(back.contents, '__proto__')).to.equal(true);
    expect(sha256HashJson(back.contents)).to.equal(b.manifest.sha256Hash);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });
});
