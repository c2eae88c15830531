/** IPC messages between run.ts and worker.ts. */
import type { BundleJSON } from '../../src/knowledge/index.ts';

export interface WorkerConfig {
  name: string;
  dataDir: string;
  port: number;
  providesEvent: string[];
  providesState: string[];
}

export type WorkerRequest =
  | { id: number; op: 'stats' }
  /** Only the cache counts: the ingest scenario asks every 5 ms while the node is timed. */
  | { id: number; op: 'progress' }
  | { id: number; op: 'handle'; bundles: BundleJSON[] }
  | { id: number; op: 'stop' };

export type WorkerReply =
  | { id: 0; op: 'ready'; url: string; rid: string }
  | { id: number; op: 'stats'; cacheSize: number; cachePendingWrites: number; rss: number; peakRss: number; heapUsed: number; counters: { processed: number; stopped: number; failed: number } }
  | { id: number; op: 'progress'; cacheSize: number; cachePendingWrites: number }
  | { id: number; op: 'handled'; ms: number }
  | { id: number; op: 'stopped' }
  | { id: number; op: 'error'; message: string };
