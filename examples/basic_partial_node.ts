/**
 * A partial node (no server) that joins a network through a coordinator: it introduces itself to
 * its first contact, subscribes to the coordinator's node events, catches up on the nodes the
 * coordinator already knows, and then polls for news.
 * TypeScript version of the seed's examples/basic_partial_node.py.
 *
 *   npx tsx examples/basic_partial_node.ts [--first-contact http://127.0.0.1:8000/koi-net]
 *                                          [--data-dir DIR] [--poll-interval 5000]
 *
 * Environment (flags win): KOI_NET_FIRST_CONTACT, KOI_NET_DATA_DIR, KOI_NET_POLL_INTERVAL_MS,
 * KOI_NET_LOG_LEVEL, KOI_NET_LOG_PRETTY (default true; false = JSON lines).
 *
 * The contact handler is written out here on purpose, as in the seed; the library ships the same
 * behaviour as `contactHandlers()` (src/behaviours/contact.ts).
 */
import { parseArgs } from 'node:util';
import {
  EdgeType,
  EventType,
  HandlerType,
  KOI_NET_NODE_TYPE,
  KnowledgeSource,
  NodeInterface,
  NodeType,
  Poller,
  RID,
  createLogger,
  parseNodeProfile,
  type NodeProfile,
} from '../src/index.ts';

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
const dataDir = args['data-dir'] ?? env['KOI_NET_DATA_DIR'] ?? '.koi/examples/basic_partial_node';
const pollIntervalMs = Number(args['poll-interval'] ?? env['KOI_NET_POLL_INTERVAL_MS'] ?? 5000);
if (!(pollIntervalMs > 0)) throw new RangeError(`poll interval must be a positive number of ms, got ${pollIntervalMs}`);

const logger = createLogger({
  name: 'partial',
  level: args['log-level'] ?? env['KOI_NET_LOG_LEVEL'] ?? 'info',
  pretty: env['KOI_NET_LOG_PRETTY'] !== 'false',
});
const log = logger.child({ component: 'example' });

const node = new NodeInterface({
  name: 'partial',
  // No base_url: a partial node serves nothing, it only polls and broadcasts.
  profile: { base_url: null, node_type: NodeType.PARTIAL, provides: { event: [], state: [] } },
  dataDir,
  firstContact,
  logger,
});

/**
 * When this node learns of a node that provides node events (a coordinator), it asks to subscribe
 * to them and then catches up on the nodes that coordinator already knows.
 */
node.processor.registerHandler(HandlerType.Network, { ridTypes: [KOI_NET_NODE_TYPE], name: 'coordinatorContact' }, async (ctx, kobj) => {
  // normalizedEventType, not eventType: "new to this node", whatever the sender called it.
  if (kobj.normalizedEventType !== EventType.NEW || kobj.rid.equals(ctx.identity.rid)) return;
  let profile: NodeProfile;
  try {
    profile = parseNodeProfile(kobj.contents);
  } catch {
    return; // not a usable node bundle; the default handlers already decided whether to cache it
  }
  if (!profile.provides.event.map(String).includes(String(KOI_NET_NODE_TYPE))) return;

  log.info({ coordinator: String(kobj.rid) }, 'identified a coordinator; proposing new edge');
  // Source = the coordinator (it provides the events), target = us; POLL because we have no server.
  await ctx.handle({ bundle: node.generateEdgeBundle(kobj.rid, ctx.identity.rid, [KOI_NET_NODE_TYPE], EdgeType.POLL) });

  if (profile.node_type !== NodeType.FULL || !profile.base_url) return;
  log.info({ coordinator: String(kobj.rid) }, 'catching up on network state');
  let rids: RID[];
  try {
    ({ rids } = await node.network.requestHandler.fetchRids({ node: kobj.rid.toString() }, { rid_types: [KOI_NET_NODE_TYPE] }));
  } catch (err) {
    // The subscription still stands; we hear of new nodes as they come, just not the old ones.
    log.warn({ coordinator: String(kobj.rid), err: String(err) }, 'catch-up failed');
    return;
  }
  let queued = 0;
  for (const rid of rids) {
    if (rid.equals(ctx.identity.rid) || rid.equals(kobj.rid) || (await ctx.cache.exists(rid))) continue;
    // External: the pipeline fetches the bundle from a state provider instead of our own cache.
    await ctx.handle({ rid, source: KnowledgeSource.EXTERNAL, sourceNode: kobj.rid });
    queued++;
  }
  log.info({ coordinator: String(kobj.rid), known: rids.length, queued }, 'caught up on network state');
});

// initialize() writes our own bundle and, knowing no neighbors yet, sends the handshake
// (FORGET self + NEW self) to the first contact.
await node.initialize();
log.info({ rid: String(node.identity.rid), firstContact, dataDir }, 'partial node ready');

// The seed's `while True: poll_neighbors(); handle(...); flush_kobj_queue(); sleep(5)`, with
// per-peer backoff so a coordinator that is down costs two log lines, not one per round.
const poller = new Poller({ node, intervalMs: pollIntervalMs, logger: logger.child({ component: 'poller' }) });
poller.start();

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  let code = 0;
  try {
    await poller.stop();
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
