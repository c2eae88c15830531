/**
 * A full node for the delivery and large-batch tests (test/reliability/hung-peer.test.ts,
 * huge-batch.test.ts): started with a JSON config as argv[2], prints `{"msg":"ready","url":...}`
 * on stdout when it serves and, with `progressMs`, `{"msg":"progress",...}` lines with the
 * processor counters. Subscribers get their profile and an APPROVED webhook edge at start.
 * SIGTERM stops it gracefully and prints `{"msg":"stopped",...}`.
 */
import { NodeInterface } from '../../src/node.ts';
import { startFullNode } from '../../src/full-node.ts';
import { Bundle, type JsonObject } from '../../src/knowledge/index.ts';
import { KoiNetEdge, RID } from '../../src/rid/index.ts';
import { createLogger } from '../../src/logger.ts';
import type { ServerLimits } from '../../src/server/app.ts';

export interface DeliveryChildConfig {
  dataDir: string;
  ridType: string;
  subscribers: { rid: string; url: string }[];
  /** Default: the node's (10 s). */
  requestTimeoutMs?: number;
  bodyLimit?: string;
  limits?: Partial<ServerLimits>;
  progressMs?: number;
  logLevel?: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as DeliveryChildConfig;
const logger = createLogger({ level: config.logLevel ?? 'warn', name: 'delivery-child' });
const print = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

async function main(): Promise<void> {
  const node = new NodeInterface({
    name: 'delivery-child',
    profile: { base_url: null, node_type: 'FULL', provides: { event: [config.ridType], state: [config.ridType] } },
    dataDir: config.dataDir,
    ...(config.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: config.requestTimeoutMs }),
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
  const running = await startFullNode(node, {
    host: '127.0.0.1',
    port: 0,
    ...(config.bodyLimit ? { bodyLimit: config.bodyLimit } : {}),
    ...(config.limits ? { limits: config.limits } : {}),
    logger,
  });
  print({ msg: 'ready', url: running.url, rid: String(node.identity.rid) });
  if (config.progressMs) {
    setInterval(() => {
      print({ msg: 'progress', t: Date.now(), ...node.processor.counters, queueDepth: node.processor.queueDepth });
    }, config.progressMs).unref();
  }
  process.on('SIGTERM', () => {
    void (async () => {
      await running.close();
      await node.finalize();
      print({ msg: 'stopped', delivery: node.network.deliveryStats(), counters: node.processor.counters });
      process.exit(0);
    })();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`delivery-child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
