/**
 * The outgoing event queues: the store interface (store.ts, the seam for a second backend) and
 * its file implementation on src/storage/ (file-store.ts: EventQueues).
 */
export { DEFAULT_COMPACT_BYTES, DEFAULT_IDLE_COMPACT_MS, DEFAULT_MAX_PER_PEER, type EventQueueStore, type NodeKey, type QueueDepths } from './store.ts';
export type { QueueKind } from './state.ts';
export { EventQueues, type EventQueuesOptions } from './file-store.ts';
export { eventsPayloadBytes, eventsPayloadParts, type PayloadParts } from './wire.ts';
