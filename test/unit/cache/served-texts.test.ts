/**
 * ServedTexts (the served-bytes cache of fetch_bundles): bytes kept on their index entry within
 * the byte budget; an entry served since it was kept survives the next eviction (second chance),
 * one never served again goes first; forget and clear drop what they name.
 */
import { expect } from 'chai';
import { RID } from '../../../src/rid/index.ts';
import { indexEntry, type IndexEntry } from '../../../src/cache/memory-index.ts';
import { ServedTexts } from '../../../src/cache/served-texts.ts';

const entry = (i: number): IndexEntry => indexEntry(RID.fromString(`orn:test.doc:${i}`), undefined, undefined);
const bytes = (n: number): Buffer => Buffer.alloc(n, 120);

describe('cache: served texts', () => {
  it('keeps within the budget, evicting the oldest not served again first', () => {
    const texts = new ServedTexts(800);
    const kept = Array.from({ length: 8 }, (_, i) => entry(i));
    for (const e of kept) texts.keep(e, bytes(100));
    const [a, b] = [kept[0]!, kept[1]!];
    expect(texts.get(a)?.length).to.equal(100);
    // Over budget: b (the oldest not served again) goes; a had its second chance.
    const late = entry(99);
    texts.keep(late, bytes(100));
    expect(texts.get(a)?.length).to.equal(100);
    expect(texts.get(b)).to.equal(undefined);
    expect(texts.get(late)?.length).to.equal(100);
    expect(kept.slice(2).every((e) => texts.get(e) !== undefined)).to.equal(true);
  });

  it('a text over an eighth of the budget is not kept; keeping again replaces', () => {
    const texts = new ServedTexts(800);
    const a = entry(1);
    texts.keep(a, bytes(101));
    expect(texts.get(a)).to.equal(undefined);
    texts.keep(a, bytes(50));
    texts.keep(a, bytes(60));
    expect(texts.get(a)?.length).to.equal(60);
    // The replaced 50 no longer counts: 13 texts of 60 fit in 800.
    const more = Array.from({ length: 12 }, (_, i) => entry(10 + i));
    for (const e of more) texts.keep(e, bytes(60));
    expect(texts.get(a)?.length).to.equal(60);
    expect(more.every((e) => texts.get(e) !== undefined)).to.equal(true);
  });

  it('forget and clear drop the kept bytes', () => {
    const texts = new ServedTexts(1000);
    const [a, b] = [entry(1), entry(2)];
    texts.keep(a, bytes(10));
    texts.keep(b, bytes(10));
    texts.forget(a);
    expect(texts.get(a)).to.equal(undefined);
    expect(texts.get(b)?.length).to.equal(10);
    texts.clear();
    expect(texts.get(b)).to.equal(undefined);
  });

  it('every entry evicted in one pass when none was served again', () => {
    const texts = new ServedTexts(100);
    const all = Array.from({ length: 10 }, (_, i) => entry(i));
    for (const e of all) texts.keep(e, bytes(10));
    expect(all.every((e) => texts.get(e) !== undefined)).to.equal(true);
    const next = Array.from({ length: 10 }, (_, i) => entry(100 + i));
    for (const e of next) texts.keep(e, bytes(10));
    // Budget 100 of 10-byte texts: ten fit; the newest ten are kept at the end of the sweep.
    expect([...all, ...next].filter((e) => texts.get(e) !== undefined).length).to.equal(10);
  });
});
