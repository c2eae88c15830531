/**
 * The contents texts the broadcast fast path keeps for the cache write (server/compact-slices.ts,
 * cache/contents-text.ts): a kept text is always exactly JSON.stringify of the parsed contents,
 * whatever the body's spelling; bodies that spell them otherwise keep nothing for those events.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { compactEnd, keepBroadcastContentsTexts } from '../../../src/server/compact-slices.ts';
import { takeContentsText } from '../../../src/cache/contents-text.ts';

function keptTexts(text: string): (string | undefined)[] {
  const body = JSON.parse(text) as { events: { contents?: object }[] };
  keepBroadcastContentsTexts(text, body);
  return body.events.map((e) => (e.contents !== null && typeof e.contents === 'object' ? takeContentsText(e.contents) : undefined));
}

const event = (contents: unknown): unknown => ({ rid: 'orn:test.doc:a', event_type: 'NEW', contents });

describe('server: compact contents texts of broadcasts', () => {
  it('bodies made by JSON.stringify keep every contents text, equal to JSON.stringify of the contents', () => {
    fc.assert(
      fc.property(fc.array(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })), { minLength: 1, maxLength: 4 }), (contents) => {
        const text = JSON.stringify({ events: contents.map(event) });
        const parsed = (JSON.parse(text) as { events: { contents: object }[] }).events.map((e) => JSON.stringify(e.contents));
        const kept = keptTexts(text);
        // Strings holding escapes (a quote, a backslash, a control character) are left to JSON.stringify.
        kept.forEach((k, i) => {
          if (k !== undefined) expect(k).to.equal(parsed[i]);
        });
        if (!text.includes('\\')) expect(kept).to.deep.equal(parsed);
      }),
      { numRuns: 300 },
    );
  });

  it('any spelling of a body: whatever is kept equals JSON.stringify of the parsed contents', () => {
    const spellings = fc.constantFrom(
      '{"a":1}',
      '{"a":1.0}',
      '{"a":1e2}',
      '{"a":-0}',
      '{"a": 1}',
      '{ "a":1}',
      '{"a":"\\u0041"}',
      '{"a":"\\/"}',
      '{"a":"x\\"y"}',
      '{"a":"x\\\\"}',
      '{"a":1,"a":2}',
      '{"2":1,"1":2}',
      '{"1":1,"b":2}',
      '{"b":2,"1":1}',
      '{"__proto__":{"x":1}}',
      '{"a":[1,2,{"b":null}],"c":true,"d":false}',
      '{"a":[ 1]}',
      '{"a":"😀é"}',
      '{}',
    );
    fc.assert(
      fc.property(fc.array(spellings, { minLength: 1, maxLength: 4 }), fc.boolean(), (contents, spaced) => {
        const events = contents.map((c) => `{"rid":"orn:test.doc:a","event_type":"NEW","contents":${c}}`);
        const text = spaced ? `{"events": [${events.join(', ')}]}` : `{"events":[${events.join(',')}]}`;
        const parsed = (JSON.parse(text) as { events: { contents: object }[] }).events.map((e) => JSON.stringify(e.contents));
        keptTexts(text).forEach((k, i) => {
          if (k !== undefined) expect(k, contents[i]).to.equal(parsed[i]);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the compact spellings, refuses the others', () => {
    const kept = (c: string): boolean => keptTexts(`{"events":[{"rid":"orn:test.doc:a","event_type":"NEW","contents":${c}}]}`)[0] !== undefined;
    for (const c of ['{"a":1}', '{"a":[1,2,{"b":null}],"c":true,"d":false}', '{"1":1,"b":2}', '{"a":"😀é"}', '{}', '{"a":-1.5}']) expect(kept(c), c).to.equal(true);
    for (const c of ['{"a":1.0}', '{"a":-0}', '{"a": 1}', '{"a":"\\u0041"}', '{"a":"x\\"y"}', '{"a":1,"a":2}', '{"b":2,"1":1}', '{"a":1e2}']) expect(kept(c), c).to.equal(false);
  });

  it('a kept text serves one cache write: it is forgotten as it is taken', () => {
    const text = JSON.stringify({ events: [event({ a: 1 })] });
    const body = JSON.parse(text) as { events: { contents: object }[] };
    keepBroadcastContentsTexts(text, body);
    expect(takeContentsText(body.events[0]!.contents)).to.equal('{"a":1}');
    expect(takeContentsText(body.events[0]!.contents)).to.equal(undefined);
  });

  it('compactEnd: the end of a value spelled as JSON.stringify spells it, else -1', () => {
    expect(compactEnd('x[1,"a",null]y', 1, [1, 'a', null])).to.equal(13);
    expect(compactEnd('[1, 2]', 0, [1, 2])).to.equal(-1);
    expect(compactEnd('"a\\nb"', 0, 'a\nb')).to.equal(-1);
  });
});
