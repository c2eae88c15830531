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

  it('walking each event once names exactly what walking contents, event and body separately named', () => {
    // The straightforward check (three walks), as it was before events were walked once.
    const reference = (body: unknown, path: readonly string[]): string[] => {
      const out: string[] = [];
      let events: unknown = body;
      for (const k of path) events = (events as Record<string, unknown> | undefined)?.[k];
      if (Array.isArray(events)) {
        events.forEach((event: unknown, i) => {
          const contents = (event as Record<string, unknown> | null)?.['contents'];
          if (nestingDepth(contents, MAX_CONTENTS_DEPTH) > MAX_CONTENTS_DEPTH) out.push(`${i}/contents`);
          else if (nestingDepth(event, MAX_CONTENTS_DEPTH + 1) > MAX_CONTENTS_DEPTH + 1) out.push(`${i}`);
        });
      }
      if (out.length === 0 && nestingDepth(body, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) out.push('body');
      return out;
    };
    const names = (body: unknown, path: readonly string[]): string[] =>
      nestingProblems(body, path).map((d) => (d.loc.length <= 1 ? 'body' : d.loc.slice(1 + path.length).join('/')));
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const near = (): number => MAX_CONTENTS_DEPTH - 3 + rnd(8);
    for (let round = 0; round < 300; round++) {
      const events = Array.from({ length: 1 + rnd(4) }, () => {
        const pick = rnd(4);
        if (pick === 0) return { rid: 'orn:t:x', event_type: 'NEW', contents: objects(near()) };
        if (pick === 1) return { rid: 'orn:t:x', event_type: 'NEW', manifest: arrays(near()), contents: { a: 1 } };
        if (pick === 2) return { rid: 'orn:t:x', event_type: 'NEW', contents: objects(near()), manifest: objects(near()) };
        return { rid: 'orn:t:x', event_type: 'NEW' };
      });
      const extra = rnd(3) === 0 ? { other: arrays(MAX_BODY_DEPTH - 2 + rnd(4)) } : {};
      const unsigned = { events, ...extra };
      const signed = { payload: { events, ...extra } };
      expect(names(unsigned, ['events']), `round ${round}`).to.deep.equal(reference(unsigned, ['events']));
      expect(names(signed, ['payload', 'events']), `round ${round}`).to.deep.equal(reference(signed, ['payload', 'events']));
    }
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
