/**
 * A benchmarked full node in its own process, so its RSS and CPU are not mixed with the load
 * generator's. Configured by one JSON argument (WorkerConfig); answers IPC requests from run.ts.
 */
import { NodeInterface } from '../../src/node.ts';
import { startFullNode } from '../../src/full-node.ts';
import { Bundle } from '../../src/knowledge/index.ts';
import { KnowledgeSource } from '../../src/knowledge/index.ts';
import { NodeType } from '../../src/protocol/index.ts';
import type { WorkerConfig, WorkerReply, WorkerRequest } from './protocol.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;

const node = new NodeInterface({
  name: config.name,
  dataDir: config.dataDir,
  profile: {
    node_type: NodeType.FULL,
    base_url: `http://127.0.0.1:${config.port}/koi-net`,
    provides: { event: config.providesEvent, state: config.providesState },
  },
});

const server = await startFullNode(node, { host: '127.0.0.1', port: config.port });

/** The cache is write-behind: "cached" for a benchmark means on disk too. */
function pendingWrites(): number {
  return 'pendingWrites' in node.cache && typeof node.cache.pendingWrites === 'number' ? node.cache.pendingWrites : 0;
}

function send(reply: WorkerReply): void {
  process.send?.(reply);
}

process.on('message', (raw: unknown) => {
  const req = raw as WorkerRequest;
  void (async (): Promise<void> => {
    switch (req.op) {
      case 'stats': {
        const mem = process.memoryUsage();
        // maxRSS is the kernel's high-water mark (KiB), so short peaks between samples are not missed.
        send({
          id: req.id,
          op: 'stats',
          cacheSize: node.cache.size,
          cachePendingWrites: pendingWrites(),
          rss: mem.rss,
          peakRss: process.resourceUsage().maxRSS * 1024,
          heapUsed: mem.heapUsed,
          counters: node.processor.counters,
        });
        return;
      }
      case 'progress': {
        // stats() minus memoryUsage/resourceUsage/counters, which cost the timed node CPU at every poll.
        send({ id: req.id, op: 'progress', cacheSize: node.cache.size, cachePendingWrites: pendingWrites() });
        return;
      }
      case 'handle': {
        // Internal knowledge, as an application on the coordinator would produce it.
        const started = performance.now();
        for (const wire of req.bundles) {
          await node.processor.handle({ bundle: Bundle.fromJSON(wire), source: KnowledgeSource.INTERNAL });
        }
        await node.processor.flushKobjQueue();
        send({ id: req.id, op: 'handled', ms: performance.now() - started });
        return;
      }
      case 'stop': {
        await server.close();
        await node.finalize();
        send({ id: req.id, op: 'stopped' });
        process.exit(0);
      }
    }
  })().catch((err: unknown) => {
    send({ id: req.id, op: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  });
});

// Ready once settled: a cache opened without a snapshot checks its files in the background
// (seconds at 100k), which must not run under the timed requests of the steady-state scenarios.
await node.cache.verified?.();
send({ id: 0, op: 'ready', url: server.url, rid: node.identity.rid.toString() });
