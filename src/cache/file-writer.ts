/**
 * The one writer of bundle files: temp file + rename (a kill leaves the old file or the new one),
 * the directory recreated when it went away, then the stale names unlinked. The cache thread runs
 * it with synchronous calls (one syscall each, blocking only that thread); the 'threadpool' writer
 * runs the same steps as libuv requests. Not atomicWrite (src/storage/): the temp name must stay
 * within 255 bytes beside a name that may already use them all, and the thread's calls are sync.
 */
import { mkdir, mkdirSync, rename, renameSync, unlink, unlinkSync, writeFile, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileText } from './bundle-json.ts';
import { errorCode } from '../util/error-text.ts';

/** One file operation: write the bundle `json` to `temp` and rename it to `path`; then unlink. */
export interface FileOp {
  temp?: string;
  path?: string;
  /** Compact JSON of the bundle; the writer lays it out as the file (fileText). */
  json?: string;
  unlink: string[];
}

/** The file calls the writer makes, synchronous or not. */
export interface FileCalls {
  writeFile(path: string, text: string): void | Promise<void>;
  rename(from: string, to: string): void | Promise<void>;
  unlink(path: string): void | Promise<void>;
  mkdir(path: string): void | Promise<unknown>;
}

export const syncCalls: FileCalls = {
  writeFile: (path, text) => writeFileSync(path, text, 'utf8'),
  rename: renameSync,
  unlink: unlinkSync,
  mkdir: (path) => void mkdirSync(path, { recursive: true }),
};

// The callback API, promisified: fs/promises takes more thread-pool round trips per call.
const writeFileCb = promisify(writeFile);
const renameCb = promisify(rename);
const unlinkCb = promisify(unlink);
const mkdirCb = promisify(mkdir);

export const threadPoolCalls: FileCalls = {
  writeFile: (path, text) => writeFileCb(path, text, 'utf8'),
  rename: renameCb,
  unlink: unlinkCb,
  mkdir: (path) => mkdirCb(path, { recursive: true }),
};

/** Runs `op` in `directory`; throws the first failure (the temp file removed). */
export async function applyFileOp(fs: FileCalls, directory: string, op: FileOp): Promise<void> {
  if (op.json !== undefined && op.temp !== undefined && op.path !== undefined) {
    const text = fileText(op.json);
    try {
      try {
        await fs.writeFile(op.temp, text);
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') throw err;
        // The directory went away (drop(), or removed by hand); rid-lib recreates it too.
        await fs.mkdir(directory);
        await fs.writeFile(op.temp, text);
      }
      await fs.rename(op.temp, op.path);
    } catch (err) {
      // The scan at the next open removes a temp file this cannot.
      try {
        await fs.unlink(op.temp);
      } catch {
        // Never written, or already gone.
      }
      throw err;
    }
  }
  for (const path of op.unlink) {
    try {
      await fs.unlink(path);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
    }
  }
}
