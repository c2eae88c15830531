/**
 * The full node the crash harness SIGKILLs: started with a JSON config as argv[2], prints one
 * line `{"msg":"ready","url":...,"rid":...}` on stdout when it serves, and shuts down gracefully
 * on SIGTERM. Subscribers are webhook peers the harness runs: their profiles and APPROVED edges
 * are written on every start (identical bundles are dropped, so restarts change nothing).
 */
import { NodeInterface } from '../../src/node.ts';
import { startFullNode } from '../../src/full-node.ts';
import { Bundle, type JsonObject } from '../../src/knowledge/index.ts';
import { KoiNetEdge, RID } from '../../src/rid/index.ts';
import { createLogger } from '../../src/logger.ts';

export interface CrashChildConfig {
  dataDir: string;
  ridType: string;
  subscribers: { rid: string; url: string }[];
  logLevel?: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as CrashChildConfig;
// pino logs share stdout; the harness picks out the lines whose msg is "ready" or "stopped".
const logger = createLogger({ level: config.logLevel ?? 'warn', name: 'crash-child' });

async function main(): Promise<void> {
  const node = new NodeInterface({
    name: 'crash-child',
    profile: { base_url: null, node_type: 'FULL', provides: { event: [config.ridType], state: [config.ridType] } },
    dataDir: config.dataDir,
    retry: { baseDelayMs: 50, maxDelayMs: 1_000 },
    retryTickMs: 50,
    requestTimeoutMs: 2_000,
    logger,
  });
  await node.initialize();
  for (const sub of config.subscribers) {
    const peer = RID.fromString(sub.rid);
    await node.processor.handle({
      bundle: Bundle.generate(peer, { base_url: sub.url, node_type: 'FULL', provides: { event: [], state: [] } }, new Date(0)),
    });
    const edge: JsonObject = {
      source: String(node.identity.rid),
      target: sub.rid,
      edge_type: 'WEBHOOK',
      status: 'APPROVED',
      rid_types: [config.ridType],
    };
    await node.processor.handle({ bundle: Bundle.generate(KoiNetEdge.generate(node.identity.rid, peer), edge, new Date(0)) });
  }
  await node.processor.flushKobjQueue();
  const running = await startFullNode(node, { host: '127.0.0.1', port: 0, bodyLimit: '50mb', logger });
  process.stdout.write(`${JSON.stringify({ msg: 'ready', url: running.url, rid: String(node.identity.rid), recovery: node.lastRecovery ?? null })}\n`);
  process.on('SIGTERM', () => {
    void (async () => {
      await running.close();
      await node.finalize();
      process.stdout.write(`${JSON.stringify({ msg: 'stopped', delivery: node.network.deliveryStats(), inbox: node.inbox?.inbox.stats() ?? null })}\n`);
      process.exit(0);
    })();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`crash-child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
