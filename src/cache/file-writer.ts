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

/** Linux (ext4, xfs, btrfs, tmpfs) and macOS refuse longer path components. */
export const MAX_FILE_NAME_BYTES = 255;

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

/**
 * A batch of file operations as the cache thread gets it: a few flat arrays instead of one
 * object per file, and the texts as one string, so the main thread's message (a structured
 * clone) costs about one copy of the texts. The thread makes the paths (fileOpsOf).
 */
export interface FileBatch {
  /** The cache directory with one trailing separator. */
  directoryPrefix: string;
  /** Per op: the file to write, or null for an op that only unlinks. */
  names: (string | null)[];
  /** Per op: length (UTF-16 units) of its compact JSON in `texts`; 0 when it writes nothing. */
  lengths: number[];
  /** The ops' compact JSON texts, one after the other. */
  texts: string;
  /** Per op: names to unlink after the write; absent when no op of the batch unlinks anything. */
  unlinks?: string[][];
  /** Temp files are `<name>.tmp-<pid>-<tempBase + i>`, i the op's index: unique per batch. */
  pid: number;
  tempBase: number;
}

/** The path of a file of the cache directory; the names never hold a separator (defence in depth). */
export function cacheFilePath(directoryPrefix: string, fileName: string): string {
  if (fileName.includes('/') || fileName.includes('\\') || fileName === '.' || fileName === '..') {
    throw new Error(`refusing cache file name outside the cache directory: ${fileName}`);
  }
  return directoryPrefix + fileName;
}

/** The temp file of a write of `fileName`: within the file-name limit, matched by TEMP_FILE. */
export function tempFileName(fileName: string, pid: number, counter: number): string {
  const suffix = `.tmp-${pid}-${counter}`;
  return fileName.slice(0, MAX_FILE_NAME_BYTES - suffix.length) + suffix;
}

/** The FileOp of each op of `batch` (a name refused by cacheFilePath throws for that op alone). */
export function fileOpsOf(batch: FileBatch): (FileOp | Error)[] {
  const out: (FileOp | Error)[] = [];
  let at = 0;
  for (let i = 0; i < batch.names.length; i++) {
    const name = batch.names[i];
    const length = batch.lengths[i]!;
    const json = length > 0 ? batch.texts.slice(at, at + length) : undefined;
    at += length;
    try {
      const unlink = (batch.unlinks?.[i] ?? []).map((n) => cacheFilePath(batch.directoryPrefix, n));
      if (name === null || name === undefined) out.push({ unlink });
      else {
        out.push({
          temp: cacheFilePath(batch.directoryPrefix, tempFileName(name, batch.pid, batch.tempBase + i)),
          path: cacheFilePath(batch.directoryPrefix, name),
          ...(json !== undefined ? { json } : {}),
          unlink,
        });
      }
    } catch (err) {
      out.push(err instanceof Error ? err : new Error(String(err)));
    }
  }
  return out;
}

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
