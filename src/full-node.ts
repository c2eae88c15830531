/**
 * A full node: the five KOI-net operations (server/operations/) wired to a NodeInterface on the
 * Express app of src/server, with the pages beside them. This is the seed's FastAPI template
 * (broadcast -> handle as external + background flush, poll -> drain the caller's poll queue,
 * fetch -> the cache's answers).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Express } from 'express';
import { createKoiNetApp, prepareKoiNetApp } from './server/app.ts';
import type { SignedServerOptions } from './server/body-codec.ts';
import { parseByteLimit } from './server/body.ts';
import { INTERNAL } from './server/errors.ts';
import { createFastPath, sendJson, type FastPath } from './server/fast-path.ts';
import { resolveServerLimits, type ServerLimits } from './server/limits.ts';
import { startServer } from './server/listen.ts';
import { normalizeRootPath } from './server/routing.ts';
import type { ServerTimeouts } from './server/timeouts.ts';
import type { KoiNetNode } from './rid/index.ts';
import { DEFAULT_ROOT_PATH } from './protocol/index.ts';
import { createNodeHandlers } from './server/operations/index.ts';
import { withPages } from './server/pages/index.ts';
import type { NodeView } from './server/node-view.ts';
import type { Logger } from './logger.ts';
import { namedErrorText } from './util/error-text.ts';

// The operation handlers live in server/operations/; kept importable from here.
export { createNodeHandlers, type NodeHandlers, type NodeHandlersOptions } from './server/operations/index.ts';

/**
 * After start-up (and the cache's background checks), when express and the pages are loaded if
 * no request needed them before, and then the contract validator.
 */
const PIPELINE_LOAD_DELAY_MS = 100;
const VALIDATOR_SETUP_DELAY_MS = 200;

export interface StartFullNodeOptions {
  host: string;
  /** 0 = any free port; the profile's base_url must then be known some other way. */
  port: number;
  /** Default `/koi-net`. */
  rootPath?: string;
  /** Largest accepted request body, express notation (`1mb`). */
  bodyLimit?: string;
  /** Check our own answers against the contract (tests). */
  validateResponses?: boolean;
  /** Events per broadcast, RIDs per fetch, events per poll answer (docs/SECURITY.md). */
  limits?: Partial<ServerLimits>;
  /** Header, request and keep-alive timeouts of the HTTP server (docs/SECURITY.md). */
  timeouts?: Partial<ServerTimeouts>;
  logger?: Logger;
}

export interface RunningFullNode {
  /** The server's base URL, e.g. `http://127.0.0.1:8000/koi-net`. */
  url: string;
  port: number;
  /** Stops accepting requests and waits for background flushes; does not finalize the node. */
  close(): Promise<void>;
  /**
   * Whether express, the pages and the contract validator's pipeline are loaded: shortly after
   * start-up, or at the first request the fast path does not answer (which waits for them).
   */
  readonly pipelineLoaded: boolean;
}

/**
 * Serves `node` and initializes it if needed. The server listens first and requests wait until
 * initialization ends, so a first contact that answers our handshake at once is not refused.
 */
export async function startFullNode(node: NodeView, options: StartFullNodeOptions): Promise<RunningFullNode> {
  const logger = options.logger ?? node.logger.child({ component: 'server' });
  let markReady!: () => void;
  let markFailed!: (err: unknown) => void;
  const ready = new Promise<void>((res, rej) => {
    markReady = res;
    markFailed = rej;
  });
  // Requests racing a failed start see the error; nobody else awaits `ready` in that case.
  ready.catch(() => {});
  const handlers = createNodeHandlers(node, { ready, logger: logger.child({ component: 'endpoints' }) });
  const { idle, ...endpoints } = handlers;
  const rootPath = options.rootPath ?? DEFAULT_ROOT_PATH;
  const signed = node.protocol === 'unsigned' ? undefined : signedServerOptions(node, ready);
  const validateResponses = options.validateResponses === true;

  // The express pipeline (routing, body codec, validator, pages: express's ~100 ms of module
  // loading and the set-up) is built after start-up, or by the first request the fast path hands
  // on, which waits for it (synchronously: express is required then, see express-loader.ts).
  let app: Express | undefined;
  let pipeline: RequestListener | undefined;
  const buildPipeline = (): Express => {
    if (app !== undefined) return app;
    const built = createKoiNetApp({
      handlers: endpoints,
      rootPath,
      bodyLimit: options.bodyLimit,
      validateResponses,
      limits: options.limits,
      logger,
      // Set up once the node serves (below), so start-up answers fast-path fetches sooner.
      deferValidatorSetup: true,
      // `both`: the signed options too, and each request is answered in the format it arrived in.
      ...(signed ? { signed, bothFormats: node.protocol === 'both' } : {}),
    });
    pipeline = withPages(built, node, { rootPath, logger });
    app = built;
    return built;
  };
  const toPipeline = (req: IncomingMessage, res: ServerResponse): void => {
    if (pipeline === undefined) {
      try {
        buildPipeline();
      } catch (err) {
        logger.error({ err: namedErrorText(err), path: req.url }, 'cannot build the HTTP pipeline');
        if (!res.headersSent) sendJson(res, 500, JSON.stringify(INTERNAL().body));
        return;
      }
    }
    pipeline!(req, res);
  };
  // Valid unsigned fetches are answered before the pages' host app and express see them, as
  // createKoiNetApp's own fast path would (not while answers are validated: that is express's).
  const fast: FastPath | undefined =
    node.protocol === 'signed' || validateResponses
      ? undefined
      : createFastPath({ handlers: endpoints, rootPath: normalizeRootPath(rootPath), limit: parseByteLimit(options.bodyLimit ?? '1mb'), limits: resolveServerLimits(options.limits), logger });
  // Without a fast path every request needs express: built before listening, as it always was.
  if (fast === undefined) buildPipeline();
  const listener: RequestListener = fast === undefined ? toPipeline : (req, res) => {
    if (!fast(req, res, () => toPipeline(req, res))) toPipeline(req, res);
  };
  const server = await startServer(listener, { host: options.host, port: options.port, ...(options.timeouts ? { timeouts: options.timeouts } : {}) });
  try {
    if (!node.initialized) await node.initialize();
    markReady();
  } catch (err) {
    markFailed(err);
    await server.close();
    throw err;
  }
  const url = server.url + (rootPath === '/' ? '' : rootPath.replace(/\/+$/, ''));
  logger.info({ url }, 'full node listening');
  // Express and then the contract validator (only for what the fast path does not answer:
  // broadcasts, polls, pages, refusals) are set up once start-up's background work is done (the
  // cache's checks after a crash), unless a request needed them first: their CPU would otherwise
  // delay the answers of a node that just started.
  let prepareTimer: NodeJS.Timeout | undefined;
  let closed = false;
  const later = (ms: number, fn: () => void): void => {
    if (closed) return;
    prepareTimer = setTimeout(fn, ms);
    prepareTimer.unref();
  };
  const fail = (what: string) => (err: unknown) => logger.error({ err: namedErrorText(err) }, what);
  void Promise.resolve(node.cache.verified?.()).then(() =>
    later(PIPELINE_LOAD_DELAY_MS, () => {
      let built: Express;
      try {
        built = buildPipeline();
      } catch (err) {
        fail('cannot build the HTTP pipeline')(err);
        return;
      }
      later(VALIDATOR_SETUP_DELAY_MS, () => {
        prepareKoiNetApp(built).catch(fail('cannot set up the contract validator'));
      });
    }),
  );
  let closing: Promise<void> | undefined;
  return {
    url,
    port: server.port,
    get pipelineLoaded() {
      return pipeline !== undefined;
    },
    close() {
      closed = true;
      clearTimeout(prepareTimer);
      closing ??= (async () => {
        await server.close();
        await idle();
      })();
      return closing;
    },
  };
}

/** The server's view of the node for opening envelopes; valid once `ready` resolved. */
function signedServerOptions(node: NodeView, ready: Promise<void>): SignedServerOptions {
  return {
    ready,
    self: () => node.identity.rid,
    keyPair: () => {
      const keyPair = node.keyPair;
      if (!keyPair) throw new Error('signed node without a key pair');
      return keyPair;
    },
    // The cache, as the reference's SecureManager reads it: the graph is derived from it and may lag.
    lookup: async (sender: KoiNetNode) => {
      const bundle = await node.cache.read(sender);
      if (!bundle) return { known: false, publicKeyDerB64: undefined };
      const key = bundle.contents['public_key'];
      return { known: true, publicKeyDerB64: typeof key === 'string' ? key : undefined };
    },
  };
}
