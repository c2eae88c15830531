/**
 * A coordinator: a full node that every new node introduces itself to. It caches every node and
 * edge it hears of and serves them, so newcomers can discover the network through it.
 * TypeScript version of the seed's examples/basic_coordinator_node.py.
 *
 *   npx tsx examples/basic_coordinator_node.ts [--host 127.0.0.1] [--port 8000] [--data-dir DIR]
 *
 * Environment (flags win): KOI_NET_HOST, KOI_NET_PORT, KOI_NET_DATA_DIR, KOI_NET_LOG_LEVEL,
 * KOI_NET_LOG_PRETTY (default true; false = JSON lines, which scripts/demo.ts reads).
 *
 * The handshake handler is written out here on purpose, as in the seed; the library ships the same
 * behaviour as `coordinatorHandlers()` (src/behaviours/coordinator.ts) for nodes that only want it.
 */
import { parseArgs } from 'node:util';
import {
  EdgeType,
  Event,
  EventType,
  HandlerType,
  KOI_NET_EDGE_TYPE,
  KOI_NET_NODE_TYPE,
  KnowledgeSource,
  NodeInterface,
  NodeType,
  createLogger,
  parseNodeProfile,
  startFullNode,
  type NodeProfile,
} from '../src/index.ts';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    'log-level': { type: 'string' },
  },
});
const env = process.env;
const host = args.host ?? env['KOI_NET_HOST'] ?? '127.0.0.1';
const port = Number(args.port ?? env['KOI_NET_PORT'] ?? 8000);
const dataDir = args['data-dir'] ?? env['KOI_NET_DATA_DIR'] ?? '.koi/examples/basic_coordinator_node';
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  // Port 0 is refused: the profile below must carry the real URL before the server binds.
  throw new RangeError(`port must be 1-65535, got ${String(args.port ?? env['KOI_NET_PORT'])}`);
}

const logger = createLogger({
  name: 'coordinator',
  level: args['log-level'] ?? env['KOI_NET_LOG_LEVEL'] ?? 'info',
  pretty: env['KOI_NET_LOG_PRETTY'] !== 'false',
});
const log = logger.child({ component: 'example' });

const baseUrl = `http://${host}:${port}/koi-net`;
const node = new NodeInterface({
  name: 'coordinator',
  profile: {
    base_url: baseUrl,
    node_type: NodeType.FULL,
    // A coordinator announces and serves the network itself: nodes and the edges between them.
    provides: {
      event: [String(KOI_NET_NODE_TYPE), String(KOI_NET_EDGE_TYPE)],
      state: [String(KOI_NET_NODE_TYPE), String(KOI_NET_EDGE_TYPE)],
    },
  },
  dataDir,
  logger,
});

/**
 * The handshake: a node announcing itself as NEW gets our bundle straight away (so it can reach
 * us) and an edge proposal from it to us for node and edge events (so we hear of every node and
 * edge it learns of). The new node is the edge's source, so its own default handler approves.
 */
node.processor.registerHandler(
  HandlerType.Network,
  { ridTypes: [KOI_NET_NODE_TYPE], eventTypes: [EventType.NEW], name: 'handshakeHandler' },
  async (ctx, kobj) => {
    // Our own bundle also passes here on start-up, and knowledge we produced is no introduction.
    if (kobj.source !== KnowledgeSource.EXTERNAL || kobj.rid.equals(ctx.identity.rid)) return;
    let profile: NodeProfile;
    try {
      profile = parseNodeProfile(kobj.contents);
    } catch {
      log.warn({ node: String(kobj.rid) }, 'new node sent no valid profile; no handshake');
      return;
    }
    log.info({ node: String(kobj.rid), nodeType: profile.node_type }, 'handling node handshake');

    log.info({ node: String(kobj.rid) }, "sharing this node's bundle with peer");
    await ctx.network.pushEventTo(Event.fromBundle(ctx.identity.bundle, EventType.NEW), kobj.rid, true);

    // WEBHOOK even for a partial node: the events flow from it to us, and we are the server.
    const edge = node.generateEdgeBundle(kobj.rid, ctx.identity.rid, [KOI_NET_NODE_TYPE, KOI_NET_EDGE_TYPE], EdgeType.WEBHOOK);
    // A node that lost its cache re-introduces itself while we still hold the edge; an identical
    // bundle would stop at the manifest handler, so forget ours first to make the proposal travel.
    if (ctx.graph.getEdgeProfile({ rid: edge.rid })) {
      await ctx.handle({ rid: edge.rid, eventType: EventType.FORGET });
    }
    log.info({ node: String(kobj.rid), edge: String(edge.rid) }, 'proposing new edge');
    // Queued, not processed inline: the pipeline finishes this kobj first, as the seed defers it.
    await ctx.handle({ bundle: edge });
  },
);

const running = await startFullNode(node, { host, port, logger: logger.child({ component: 'server' }) });
log.info({ rid: String(node.identity.rid), url: running.url, dataDir }, 'coordinator ready');

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  let code = 0;
  try {
    await running.close();
    await node.finalize();
  } catch (err) {
    log.error({ err: String(err) }, 'shutdown failed');
    code = 1;
  }
  // Keep-alive sockets of outgoing requests would otherwise hold the process open.
  process.exit(code);
}
process.on('SIGINT', (s) => void shutdown(s));
process.on('SIGTERM', (s) => void shutdown(s));
