/**
 * The smallest partial node: no server, just an event loop that polls its neighbors.
 * TypeScript version of the seed's partial_node_template (`while True: poll_neighbors(); handle;
 * flush_kobj_queue(); sleep(5)`), written out as a loop; `new Poller({ node })` is the same loop
 * with per-peer backoff (see basic_partial_node.ts).
 *
 *   npx tsx examples/partial_node_template.ts [--first-contact http://127.0.0.1:8000/koi-net]
 *                                            [--data-dir DIR] [--poll-interval 5000]
 *
 * Environment (flags win): KOI_NET_FIRST_CONTACT, KOI_NET_DATA_DIR, KOI_NET_POLL_INTERVAL_MS,
 * KOI_NET_LOG_LEVEL, KOI_NET_LOG_PRETTY (default true; false = JSON lines).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { KnowledgeSource, NodeInterface, NodeType, createLogger } from '../src/index.ts';

const { values: args } = parseArgs({
  options: {
    'first-contact': { type: 'string' },
    'data-dir': { type: 'string' },
    'poll-interval': { type: 'string' },
    'log-level': { type: 'string' },
  },
});
const env = process.env;
const firstContact = args['first-contact'] ?? env['KOI_NET_FIRST_CONTACT'] ?? 'http://127.0.0.1:8000/koi-net';
const dataDir = args['data-dir'] ?? env['KOI_NET_DATA_DIR'] ?? '.koi/examples/partial_node_template';
const pollIntervalMs = Number(args['poll-interval'] ?? env['KOI_NET_POLL_INTERVAL_MS'] ?? 5000);
if (!(pollIntervalMs > 0)) throw new RangeError(`poll interval must be a positive number of ms, got ${pollIntervalMs}`);

const logger = createLogger({
  name: 'mypartialnode',
  level: args['log-level'] ?? env['KOI_NET_LOG_LEVEL'] ?? 'info',
  pretty: env['KOI_NET_LOG_PRETTY'] !== 'false',
});
const log = logger.child({ component: 'example' });

const node = new NodeInterface({
  name: 'mypartialnode',
  // Partial nodes only state their type and, optionally, the RID types they send events about.
  profile: { base_url: null, node_type: NodeType.PARTIAL, provides: { event: [], state: [] } },
  dataDir,
  firstContact,
  logger,
});

// Register your knowledge handlers here: node.processor.registerHandler(HandlerType.Bundle, {...}, fn).

// Aborting ends the sleep at once, so a signal does not wait out the poll interval.
const stop = new AbortController();
process.on('SIGINT', () => stop.abort());
process.on('SIGTERM', () => stop.abort());

await node.initialize();
log.info({ rid: String(node.identity.rid), firstContact, dataDir }, 'partial node ready');
let code = 0;
try {
  while (!stop.signal.aborted) {
    // With sources, so the pipeline never echoes an event back to the node it came from.
    const polled = await node.network.pollNeighborsWithSources();
    // Quiet rounds at debug: a node idling for a day should not log every 5 s.
    if (polled.length > 0) log.info({ events: polled.length }, 'polled neighbors');
    else log.debug({ events: 0 }, 'polled neighbors');
    for (const { event, source } of polled) {
      // A first-contact URL is not a node RID; only a neighbor's RID can name the sender.
      const sourceNode = source.startsWith('orn:koi-net.node:') ? source : undefined;
      await node.processor.handle({ event, source: KnowledgeSource.EXTERNAL, sourceNode });
    }
    await node.processor.flushKobjQueue();
    await sleep(pollIntervalMs, undefined, { signal: stop.signal }).catch(() => {});
  }
  log.info({}, 'shutting down');
} catch (err) {
  log.error({ err: String(err) }, 'event loop failed');
  code = 1;
} finally {
  await node.finalize();
}
// Keep-alive sockets of outgoing requests would otherwise hold the process open.
process.exit(code);
