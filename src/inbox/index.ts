/**
 * Durable inbox: "every event acknowledged by a 200 is in the cache or still queued for
 * processing", across a SIGKILL.
 *
 * Design
 * - `<dataDir>/inbox.log` is an append-only log, one JSON line per accepted broadcast batch:
 *   `{"seq":N,"events":[<wire events as received>]}`, or `{"seq":N,"body":<request body bytes>}`
 *   when the server passed the body's bytes and they are one line of JSON (no re-serialization).
 *   Sequence numbers increase by one per batch and never go back (after a compaction they
 *   continue from the checkpoint).
 * - Backpressure: accept() waits, before logging, only while the processor queue holds
 *   `maxQueued` kobjs (InboxIntake.accept has the whole rule).
 * - broadcastEvents validates the events, appends the batch and awaits the write BEFORE it
 *   answers 200; only then are the events queued in the processor. A batch's line is always in
 *   one write call; appends that arrive while a write runs share the next call (group commit).
 * - `<dataDir>/inbox.log.checkpoint` (`{"seq":N}`, temp file + rename) holds the highest seq whose
 *   events are fully processed. The processor is FIFO and `flushKobjQueue()` ends only on an empty
 *   queue, so after a flush that started when batch N was queued, every batch <= N is processed.
 *   Because under steady load the queue may never empty, each batch is followed in the processor
 *   queue by an `afterHandled` callback (ProcessorInterface): the queue is FIFO, so when the drain
 *   reaches it, every event of the batch went through the pipeline. No knowledge object and no
 *   handler is involved. Progress advances over the contiguous prefix of done seqs.
 *   Checkpoint writes are coalesced (at most one per 200 ms by default).
 * - On start (NodeInterface.initialize, after the node's own bundle) every entry after the
 *   checkpoint is re-queued in order. Reprocessing is idempotent: the Manifest handler drops a
 *   bundle whose hash is already cached. Because that drop would also skip fan-out, an event whose
 *   exact state is already cached is re-announced (Network chain + queue to its targets): the crash
 *   may have hit between the cache write and the outgoing queue write. Subscribers may see it twice.
 * - A final line without its newline is a torn write: the request was never answered, so the
 *   sender did not get a 200; it is cut off at open.
 * - When the log exceeds `compactBytes` (8 MiB), it is rewritten (temp + rename) with only the
 *   entries after the checkpoint, right after a checkpoint write.
 * - No fsync by default: the page cache survives the death of the process (SIGKILL, OOM kill,
 *   uncaught exception); set `fsync: true` to survive power loss as well, at a cost per write.
 *
 * See docs/RELIABILITY.md for the guarantees of the whole node.
 */
export { Inbox, type InboxEntry, type InboxLog, type InboxOptions, type InboxStats, type PendingAppend } from './inbox.ts';
export { InboxIntake, type InboxIntakeOptions, type IntakeComponents, type RecoveryReport } from './intake.ts';
export { openInboxIntake, type InboxSettings, type OpenInboxIntakeOptions, type OpenInboxLog } from './open.ts';
