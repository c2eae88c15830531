/**
 * docs/ARCHITECTURE.md's layers held against the code: each folder of src/ has a rank, and a module
 * may import only from its own folder or from folders ranked below it. A new edge upwards fails
 * here, with the file and the import named, before it tangles the ring again.
 */
import { expect } from 'chai';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { SRC, filesUnder } from './src-files.ts';

/** Lowest first; the same order as the table in docs/ARCHITECTURE.md. */
const LAYERS: readonly (readonly string[])[] = [
  ['util', 'errors.ts', 'logger.ts', 'package-files.ts', 'free-port.ts', 'data-dir-lock.ts', 'generated'],
  ['rid'],
  ['protocol'],
  ['knowledge'],
  ['secure'],
  ['storage'],
  ['cache', 'queues'],
  ['identity'],
  ['graph'],
  ['peer'],
  ['processor'],
  ['delivery'],
  ['network'],
  ['inbox'],
  ['postgres'],
  ['behaviours'],
  ['server'],
  ['config'],
  ['cli'],
];
/** The composition at src/ root: may import anything, imported by no folder. */
const ROOT = ['node.ts', 'node-options.ts', 'full-node.ts', 'poller.ts', 'cli.ts', 'index.ts', 'client.ts'];

const rank = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i] as const)));

/** The folder (or root file) of src/ a path belongs to; `generated` for ../generated. */
function unitOf(path: string): string {
  const rel = relative(SRC, path);
  if (rel.startsWith('..')) return 'generated';
  return rel.split(sep)[0]!;
}

describe('layout: the layers of docs/ARCHITECTURE.md', () => {
  it('every folder and file at the top of src/ has a place in the layers', async () => {
    const unplaced = (await readdir(SRC)).filter((name) => !rank.has(name) && !ROOT.includes(name));
    expect(unplaced).to.deep.equal([]);
  });

  it('no module imports a folder ranked above its own (an event never walks back up)', async () => {
    const upward: string[] = [];
    for (const file of await filesUnder(SRC)) {
      const from = unitOf(file);
      if (ROOT.includes(from)) continue;
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const to = unitOf(normalize(join(dirname(file), m[1]!)));
        if (to === from) continue;
        if (ROOT.includes(to) || (rank.get(to) ?? Infinity) > (rank.get(from) ?? -1)) {
          upward.push(`${relative(SRC, file)} -> ${m[1]}`);
        }
      }
    }
    expect(upward).to.deep.equal([]);
  });
});
