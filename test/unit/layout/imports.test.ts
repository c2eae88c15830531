import { expect } from 'chai';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { SRC, filesUnder } from './src-files.ts';

/** The composition at src/ root: folders below may not import them (issue 11). */
const ROOT_MODULES = ['node.ts', 'full-node.ts', 'cli.ts', 'poller.ts'];

describe('layout: the folders below src/ never import the top-level composition', () => {
  it('no module under src/<folder>/ imports node.ts, full-node.ts, cli.ts or poller.ts', async () => {
    const offenders: string[] = [];
    for (const entry of await readdir(SRC, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      for (const file of await filesUnder(join(SRC, entry.name))) {
        const text = await readFile(file, 'utf8');
        for (const m of text.matchAll(/from '((?:\.\.\/)+)([\w-]+\.ts)'/g)) {
          const depth = relative(SRC, file).split('/').length - 1;
          // `../` as many times as the file is deep reaches src/ itself.
          if (m[1]!.length / 3 === depth && ROOT_MODULES.includes(m[2]!)) offenders.push(`${relative(SRC, file)} -> ${m[2]}`);
        }
      }
    }
    expect(offenders).to.deep.equal([]);
  });

  it('delivery/ never imports the server, the processor or the inbox (an event never walks back up)', async () => {
    const offenders: string[] = [];
    for (const file of await filesUnder(join(SRC, 'delivery'))) {
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(/from '\.\.\/(server|processor|inbox)\//g)) offenders.push(`${relative(SRC, file)} -> ${m[1]}`);
    }
    expect(offenders).to.deep.equal([]);
  });
});
