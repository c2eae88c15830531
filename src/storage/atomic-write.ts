import { rename, writeFile } from 'node:fs/promises';

let tempCounter = 0;

/**
 * Replaces a file whole: written to a temp name beside it, then renamed over it, so a crash or
 * kill leaves either the old file or the new one, never half of either.
 */
export async function atomicWrite(path: string, text: string | Buffer): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${++tempCounter}`;
  await writeFile(temp, text);
  await rename(temp, path);
}
