/**
 * The cache's worker thread (started by worker-host.ts), for the two jobs whose cost is file
 * system calls and JSON: writing bundle files (the write-behind) and reading + parsing files whose
 * manifest is not yet known (the verifier). Each job answers `{ id, results }`, one result per
 * item, in order; jobs run one after the other, in the order sent.
 */
import { parentPort } from 'node:worker_threads';
import { applyFileOp, fileOpsOf, syncCalls, type FileBatch } from './file-writer.ts';
import { parseBundleJson } from './bundle-json.ts';
import { readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { errorText } from '../util/error-text.ts';

export type ThreadJob =
  | { kind: 'write'; id: number; directory: string; batch: FileBatch }
  | { kind: 'verify'; id: number; paths: string[] };

/** Per written op: null, or the error message. */
export type WriteResult = string | null;
/** Per verified file: the raw manifest (checked on the main thread), or why the file is unusable. */
export type VerifyResult = { manifest: unknown } | { error: string };

export interface ThreadAnswer {
  id: number;
  results: unknown[];
}

/**
 * The writer's files follow behind (the index answers meanwhile, the inbox log holds what is not
 * yet a file), so on a busy machine the thread that takes requests and processes events should
 * get the CPU first: the writer thread runs at nice 10 (Linux, where a thread id is a valid target
 * of setpriority). When the main thread is idle the writer still gets all the CPU it needs.
 */
const WRITER_NICE = 10;
let writerNiced = false;

function lowerWriterPriority(): void {
  writerNiced = true;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(tid) && tid > 0 && tid !== process.pid) setPriority(tid, WRITER_NICE);
  } catch {
    // Not Linux, or not allowed: the writer keeps the process's priority.
  }
}

async function run(job: ThreadJob): Promise<ThreadAnswer> {
  if (job.kind === 'verify') {
    // Read + JSON.parse are most of the cost of checking a file; Manifest.fromJSON stays on the
    // main thread, so both paths validate manifests with the same code.
    const results: VerifyResult[] = job.paths.map((path) => {
      try {
        return { manifest: parseBundleJson(readFileSync(path, 'utf8')).manifest };
      } catch (err) {
        return { error: errorText(err) };
      }
    });
    return { id: job.id, results };
  }
  if (!writerNiced) lowerWriterPriority();
  const results: WriteResult[] = [];
  for (const op of fileOpsOf(job.batch)) {
    if (op instanceof Error) {
      results.push(errorText(op));
      continue;
    }
    try {
      await applyFileOp(syncCalls, job.directory, op);
      results.push(null);
    } catch (err) {
      results.push(errorText(err));
    }
  }
  return { id: job.id, results };
}

const port = parentPort;
if (port !== null) {
  let chain = Promise.resolve();
  port.on('message', (job: ThreadJob) => {
    chain = chain.then(async () => port.postMessage(await run(job)));
  });
}
