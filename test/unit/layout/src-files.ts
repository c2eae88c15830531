import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The sources the layout tests read. */
export const SRC = join(import.meta.dirname, '../../../src');

/** Every .ts file below `dir`, at any depth. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}
