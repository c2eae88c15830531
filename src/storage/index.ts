/**
 * The one persistence engine of the node's own files (the event queues and the inbox; the cache
 * keeps one file per bundle): an append-only record log with group commit, fsync policy and
 * torn-tail handling (record-log.ts), snapshots written whole by temp + rename (snapshot.ts,
 * atomic-write.ts) which compaction folds a log into, and one error type (errors.ts).
 *
 * Crash model: a record or snapshot is durable once its promise resolves (SIGKILL-safe; with
 * `fsync` also power-loss-safe for the log). A torn final record was never acknowledged and is
 * dropped at read.
 */
export { atomicWrite } from './atomic-write.ts';
export { StorageError, isNotFound, storageOp, type StorageOperation } from './errors.ts';
export { RecordLog, readRecords, type LogContents, type RecordLogOptions } from './record-log.ts';
export { moveAside, readSnapshotText, removeFile, snapshotTempPath, writeSnapshotStream, type SnapshotPut } from './snapshot.ts';
