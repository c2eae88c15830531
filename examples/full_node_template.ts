/**
 * The smallest full node: a KOI-net web server whose five endpoints are written out one by one.
 * TypeScript version of the seed's full_node_template (there FastAPI + uvicorn; here the package's
 * contract-validating express app). Start from this when you want control over each endpoint;
 * `startFullNode(node, { host, port })` wires the same thing in one call.
 *
 *   npx tsx examples/full_node_template.ts [--host 127.0.0.1] [--port 8000] [--data-dir DIR]
 *                                         [--first-contact URL]
 *
 * Environment (flags win): KOI_NET_HOST, KOI_NET_PORT, KOI_NET_DATA_DIR, KOI_NET_FIRST_CONTACT,
 * KOI_NET_LOG_LEVEL, KOI_NET_LOG_PRETTY (default true; false = JSON lines).
 */
import { parseArgs } from 'node:util';
import {
  Event,
  KnowledgeSource,
  NodeInterface,
  NodeType,
  createKoiNetApp,
  createLogger,
  startServer,
  type KoiNetHandlers,
} from '../src/index.ts';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    'first-contact': { type: 'string' },
    'log-level': { type: 'string' },
  },
});
const env = process.env;
const host = args.host ?? env['KOI_NET_HOST'] ?? '127.0.0.1';
const port = Number(args.port ?? env['KOI_NET_PORT'] ?? 8000);
const dataDir = args['data-dir'] ?? env['KOI_NET_DATA_DIR'] ?? '.koi/examples/full_node_template';
const firstContact = args['first-contact'] ?? env['KOI_NET_FIRST_CONTACT'];
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  // Port 0 is refused: the profile must carry the real URL before the server binds.
  throw new RangeError(`port must be 1-65535, got ${String(args.port ?? env['KOI_NET_PORT'])}`);
}

const logger = createLogger({
  name: 'myfullnode',
  level: args['log-level'] ?? env['KOI_NET_LOG_LEVEL'] ?? 'info',
  pretty: env['KOI_NET_LOG_PRETTY'] !== 'false',
});
const log = logger.child({ component: 'example' });

const node = new NodeInterface({
  name: 'myfullnode',
  profile: {
    base_url: `http://${host}:${port}/koi-net`,
    node_type: NodeType.FULL,
    // Add the RID types this node announces (event) and serves (state).
    provides: { event: [], state: [] },
  },
  dataDir,
  firstContact,
  logger,
});

// Register your knowledge handlers here: node.processor.registerHandler(HandlerType.Bundle, {...}, fn).

// Background flushes started by broadcasts; awaited at shutdown so no event is half-processed.
const inFlight = new Set<Promise<void>>();

const handlers: KoiNetHandlers = {
  // Webhook: other nodes push events here. Queue them as external knowledge and answer at once;
  // processing runs after the response, like the seed's BackgroundTasks.
  async broadcastEvents(req) {
    for (const wire of req.events) {
      await node.processor.handle({ event: Event.fromJSON(wire), source: KnowledgeSource.EXTERNAL });
    }
    const flush = node.processor
      .flushKobjQueue()
      .catch((err: unknown) => log.error({ err: String(err) }, 'processing broadcast events failed'))
      .finally(() => inFlight.delete(flush));
    inFlight.add(flush);
    return null;
  },
  // Partial nodes cannot receive webhooks; they collect their queued events here.
  async pollEvents(req) {
    const events = await node.network.flushPollQueue(req.rid, req.limit ?? 0);
    return { events: events.map((e) => e.toJSON()) };
  },
  // State: answered from the local cache.
  fetchRids: (req) => node.network.responseHandler.fetchRids(req),
  fetchManifests: (req) => node.network.responseHandler.fetchManifests(req),
  fetchBundles: (req) => node.network.responseHandler.fetchBundles(req),
};

// The seed's lifespan: initialize before serving, finalize after the server stops. With a first
// contact, its answer to our handshake can arrive before we listen; it stays queued there and is
// retried on its next flush. (startFullNode listens first and holds requests until ready.)
await node.initialize();
const server = await startServer(createKoiNetApp({ handlers, rootPath: '/koi-net', logger: logger.child({ component: 'server' }) }), {
  host,
  port,
});
log.info({ rid: String(node.identity.rid), url: `${server.url}/koi-net`, dataDir }, 'full node listening');

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  let code = 0;
  try {
    await server.close();
    await Promise.allSettled([...inFlight]);
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
