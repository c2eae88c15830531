import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { SRC, filesUnder } from './src-files.ts';

/** Issue 11's target: a module that grows past this is split by concept. */
const MAX_LINES = 500;

describe('layout: module size', () => {
  it(`no file under src/ has more than ${MAX_LINES} lines`, async () => {
    const over: string[] = [];
    const files = await filesUnder(SRC);
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
      if (lines > MAX_LINES) over.push(`${relative(SRC, file)}: ${lines} lines`);
    }
    expect(files.length).to.be.greaterThan(50);
    expect(over).to.deep.equal([]);
  });
});
