import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface TreeHashOptions {
  /**
   * Count directories' modification times too (default true). Off where a tool may create and
   * remove an entry of its own in the directory (a lock file) and "unchanged" means the files.
   */
  directoryMtimes?: boolean;
}

/** sha256 over every path, mode, modification time and content under `dir` (sorted): "unchanged". */
export async function treeHash(dir: string, options: TreeHashOptions = {}): Promise<string> {
  const directoryMtimes = options.directoryMtimes ?? true;
  const h = createHash('sha256');
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const s = await stat(p);
      h.update(`${rel}/${name}:${s.mode}:${s.isDirectory() && !directoryMtimes ? '' : s.mtimeMs}\n`);
      if (s.isDirectory()) await walk(p, `${rel}/${name}`);
      else h.update(await readFile(p));
    }
  };
  await walk(dir, '');
  return h.digest('hex');
}
