import { errorCode, errorText } from '../util/error-text.ts';

/** What the storage engine was doing when a file operation failed. */
export type StorageOperation = 'read' | 'append' | 'truncate' | 'snapshot' | 'compact' | 'open' | 'close';

/**
 * A failed file operation of the storage engine, naming the file and the operation; the system
 * error stays in `cause` (and its code in `code`), so callers can still tell ENOSPC from EACCES.
 */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: string | undefined;

  constructor(
    readonly operation: StorageOperation,
    readonly path: string,
    override readonly cause: unknown,
  ) {
    super(`cannot ${operation} ${path}: ${errorText(cause)}`);
    this.code = errorCode(cause);
  }
}

/** Runs `op`; a failure becomes a StorageError for `path` (one already wrapped passes through). */
export async function storageOp<T>(operation: StorageOperation, path: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw err instanceof StorageError ? err : new StorageError(operation, path, err);
  }
}

/** True for "no such file": a file that was never written reads as empty, not as a failure. */
export function isNotFound(err: unknown): boolean {
  return errorCode(err) === 'ENOENT' || (err instanceof StorageError && err.code === 'ENOENT');
}
