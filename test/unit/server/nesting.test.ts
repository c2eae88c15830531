/** The nesting check: depth without recursion, bounded cost, and which part of a request it names. */
import { expect } from 'chai';
import { MAX_BODY_DEPTH, MAX_CONTENTS_DEPTH, nestingDepth, nestingProblems } from '../../../src/server/nesting.ts';

/** `[[[...]]]` `depth` levels, built without recursion. */
function arrays(depth: number): unknown {
  let v: unknown = [];
  for (let i = 1; i < depth; i++) v = [v];
  return v;
}
function objects(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
}

describe('server/nesting', () => {
  it('counts depth as JSON nesting: scalars 0, {} and [] 1, the deepest branch wins', () => {
    expect(nestingDepth(1, 10)).to.equal(0);
    expect(nestingDepth(null, 10)).to.equal(0);
    expect(nestingDepth({}, 10)).to.equal(1);
    expect(nestingDepth([1, [2, [3]], { a: {} }], 10)).to.equal(3);
    expect(nestingDepth(objects(50), 100)).to.equal(50);
  });

  it('stops at max + 1, and a million levels cost no stack', () => {
    expect(nestingDepth(arrays(1_000_000), 100)).to.equal(101);
    expect(nestingDepth(arrays(1_000_000), 2_000_000)).to.equal(1_000_000);
  });

  it('names each event whose contents are too deep, the event when it is deep elsewhere, else the body', () => {
    const ok = { rid: 'orn:x:1', event_type: 'NEW', contents: objects(MAX_CONTENTS_DEPTH) };
    const deepContents = { rid: 'orn:x:2', event_type: 'NEW', contents: objects(MAX_CONTENTS_DEPTH + 1) };
    const deepManifest = { rid: 'orn:x:3', event_type: 'NEW', manifest: objects(MAX_CONTENTS_DEPTH + 1) };
    expect(nestingProblems({ events: [ok] }, ['events'])).to.deep.equal([]);
    const items = nestingProblems({ events: [ok, deepContents, deepManifest] }, ['events']);
    expect(items.map((i) => i.loc)).to.deep.equal([
      ['body', 'events', 1, 'contents'],
      ['body', 'events', 2],
    ]);
    expect(items[0]).to.deep.include({ type: 'value_error', msg: `Value error, contents are nested deeper than ${MAX_CONTENTS_DEPTH} levels` });
    expect(items[0]).not.to.have.property('input');
    // Signed: the events are under payload.
    expect(nestingProblems({ payload: { events: [deepContents] } }, ['payload', 'events']).map((i) => i.loc)).to.deep.equal([
      ['body', 'payload', 'events', 0, 'contents'],
    ]);
    // Not a broadcast, or nesting outside the events: the body.
    expect(nestingProblems({ rids: arrays(MAX_BODY_DEPTH) }, undefined).map((i) => i.loc)).to.deep.equal([['body']]);
    expect(nestingProblems({ rids: arrays(MAX_BODY_DEPTH - 1) }, undefined)).to.deep.equal([]);
  });
});
