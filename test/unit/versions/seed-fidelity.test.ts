/**
 * Issue 13 item 6: seed fidelity. A NodeProfile without `provides` (the seed's default), and
 * `new NodeInterface({ handlers, replaceDefaultHandlers: true })`, which does what the seed's
 * `handlers=` does: the list given replaces the default handlers (an empty list keeps them).
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeInterface } from '../../../src/node.ts';
import { createHandler, defaultHandlers, HandlerType } from '../../../src/processor/index.ts';
import { NodeType } from '../../../src/protocol/index.ts';

const seen: string[] = [];
const mine = createHandler(HandlerType.Bundle, { name: 'mine' }, (_ctx, kobj) => {
  seen.push(kobj.rid.toString());
  return undefined;
});
/** Handler names in call order, without the node's own inbox marker. */
const names = (node: NodeInterface): string[] => node.processor.registeredHandlers.map((h) => h.name ?? '?').filter((n) => !/inbox/i.test(n));

describe('versions: seed fidelity (provides optional, handlers replacing the defaults)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-seed-'));
    seen.length = 0;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a profile without provides gets {event: [], state: []}', async () => {
    const node = new NodeInterface({ name: 'seedish', dataDir: dir, profile: { node_type: NodeType.PARTIAL } });
    await node.initialize();
    try {
      expect(node.identity.profile.provides).to.deep.equal({ event: [], state: [] });
      expect(node.identity.bundle.contents['provides']).to.deep.equal({ event: [], state: [] });
    } finally {
      await node.finalize();
    }
  });

  it('handlers alone join the defaults (this library\'s default meaning)', () => {
    const node = new NodeInterface({ name: 'n', dataDir: dir, profile: { node_type: NodeType.PARTIAL }, handlers: [mine] });
    expect(names(node)).to.deep.equal([...defaultHandlers.map((h) => h.name), 'mine']);
  });

  it('replaceDefaultHandlers: the list given is the whole list, as in the seed', async () => {
    const node = new NodeInterface({ name: 'n', dataDir: dir, profile: { node_type: NodeType.PARTIAL }, handlers: [mine], replaceDefaultHandlers: true });
    expect(names(node)).to.deep.equal(['mine']);
    await node.initialize();
    try {
      // Our own bundle goes through the pipeline at start: only our handler saw it.
      expect(seen).to.deep.equal([node.identity.rid.toString()]);
    } finally {
      await node.finalize();
    }
  });

  it('replaceDefaultHandlers with an empty list keeps the defaults (the seed\'s `if not handlers`)', () => {
    const node = new NodeInterface({ name: 'n', dataDir: dir, profile: { node_type: NodeType.PARTIAL }, handlers: [], replaceDefaultHandlers: true });
    expect(names(node)).to.deep.equal(defaultHandlers.map((h) => h.name));
  });
});
