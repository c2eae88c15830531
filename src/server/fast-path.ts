/**
 * The fast path: serves a valid fetch request without express (routing, the validator, two apps'
 * request set-up were most of the CPU of a small fetch), or hands it to the full pipeline, which
 * answers everything else exactly as before, from the same bytes.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Express } from 'express';
import type { KoiNetHandlers, OperationId } from '../../generated/stubs/operations.ts';
import type { Logger } from '../logger.ts';
import { classifyContentType, parseJsonBody, readRawBody } from './body.ts';
import { nestingProblems } from './nesting.ts';
import { fastAccept } from './fast-accept.ts';
import { SerializedJson } from './serialized.ts';
import { cappedListProblems, pollLimitFor, type ServerLimits } from './limits.ts';
import { OPERATIONS_BY_PATH, eventsPathOf, type RoutedOperation } from './routing.ts';
import { markContractChecked } from './checked-body.ts';
import { keepBroadcastContentsTexts } from './compact-slices.ts';
import { isEnvelopeShaped } from './envelope-shape.ts';
import { toProblem } from './validation.ts';
import type { RequestContext } from './request-context.ts';

/**
 * Operations the fast path serves: the fetches (small bodies, answered from memory or the cache
 * files), unsigned broadcasts (express's routing and answer took ~5 us of main-thread CPU per
 * ingested event at batches of 100) and polls of a node's queue (answered from the queue in memory
 * once its drain is on disk: a coordinator's partial peers poll all the time).
 */
const FAST_OPERATIONS: ReadonlySet<OperationId> = new Set(['fetchRids', 'fetchManifests', 'fetchBundles', 'broadcastEvents', 'pollEvents']);

/** Body bytes the fast path already read, for the express pipeline to use instead of reading again. */
const PRE_READ = Symbol('koi-net pre-read body');
type PreReadRequest = IncomingMessage & { [PRE_READ]?: Buffer };

/** The bytes the fast path read of `req` before handing it to the pipeline, if any. */
export function preReadBody(req: IncomingMessage): Buffer | undefined {
  return (req as PreReadRequest)[PRE_READ];
}

/**
 * Returns false when the request is not even a candidate (nothing read; the caller hands it on).
 * Present on apps made by createKoiNetApp.
 */
export type FastPath = (req: IncomingMessage, res: ServerResponse, fallback: () => void) => boolean;
const FAST_PATH = Symbol('koi-net fast path');
type WithFastPath = { [FAST_PATH]?: FastPath };

/**
 * A request listener that tries `koiApp`'s fast path first and hands every other request to
 * `listener` (default: `koiApp` itself), e.g. the host app withPages builds around it.
 */
export function withFastPath(koiApp: Express, listener: RequestListener | Express = koiApp): RequestListener {
  const fast = (koiApp as unknown as WithFastPath)[FAST_PATH];
  const next = listener as RequestListener;
  if (fast === undefined) return next;
  return (req, res) => {
    if (!fast(req, res, () => next(req, res))) next(req, res);
  };
}

export interface FastPathOptions {
  handlers: KoiNetHandlers;
  rootPath: string;
  /** The body limit in bytes. */
  limit: number;
  limits: ServerLimits;
  logger: Logger;
}

/** Attaches the fast path to `app` (for withFastPath and startServer to find). */
export function installFastPath(app: Express, options: FastPathOptions): void {
  (app as unknown as WithFastPath)[FAST_PATH] = createFastPath(options);
}

/**
 * The fast path alone, without an app: a full node serves it while express is still loading, and
 * hands `fallback` whatever it does not answer.
 */
export function createFastPath(options: FastPathOptions): FastPath {
  const { handlers, rootPath, limit, limits, logger } = options;
  const fastOps = new Map<string, RoutedOperation>();
  for (const op of OPERATIONS_BY_PATH.values()) if (FAST_OPERATIONS.has(op.id)) fastOps.set(`${rootPath}${op.path}`, op);

  /**
   * The checks the pipeline would make before the handler, all passed: nesting, list caps, contract.
   * A signed envelope is never served here (only the pipeline opens and answers envelopes).
   */
  const acceptable = (op: RoutedOperation, value: unknown): boolean => {
    if (isEnvelopeShaped(value)) return false;
    if (nestingProblems(value, eventsPathOf(op, [])).length > 0) return false;
    if (cappedListProblems(op.id, value, limits).length > 0) return false;
    return fastAccept(op.id, value);
  };

  const fastPath: FastPath = (req, res, fallback) => {
    if (req.method !== 'POST') return false;
    const op = fastOps.get(req.url ?? '');
    if (op === undefined) return false;
    // Only bodies announced within the limit: the 413 of an oversized one is the pipeline's.
    const declared = Number(req.headers['content-length']);
    if (!(declared >= 0 && declared <= limit) || req.headers['transfer-encoding'] !== undefined) return false;
    readRawBody(req, limit).then(
      (raw) => {
        if (!raw.ok) {
          req.socket.destroy();
          return;
        }
        const header = req.headers['content-type'];
        const parsed = parseJsonBody(raw.bytes, classifyContentType(header));
        if (!parsed.ok || !acceptable(op, parsed.value)) {
          // Anything to refuse (or not surely valid): the pipeline answers, from the same bytes.
          (req as PreReadRequest)[PRE_READ] = raw.bytes;
          fallback();
          return;
        }
        const body = parsed.value;
        if (op.id === 'pollEvents') {
          // The pipeline's poll cap (capPoll in app.ts): 0 (all) or above the maximum is the maximum.
          const poll = body as Record<string, unknown>;
          poll['limit'] = pollLimitFor(poll['limit'], limits);
        }
        // As the pipeline's markChecked: the handler may skip its own checks, and the inbox logs these bytes.
        markContractChecked(body, raw.bytes);
        if (op.id === 'broadcastEvents') keepBroadcastContentsTexts(parsed.text, body as { events: readonly unknown[] });
        const handler = handlers[op.id] as (this: KoiNetHandlers, body: unknown, context?: RequestContext) => Promise<unknown>;
        const withoutContentType = header === undefined || header.trim() === '';
        Promise.resolve()
          .then(() => (withoutContentType ? handler.call(handlers, body, { withoutContentType: true }) : handler.call(handlers, body)))
          .then((result) => {
            const text = result instanceof SerializedJson ? result.text : result === undefined || result === null ? 'null' : JSON.stringify(result);
            sendJson(res, 200, text);
          })
          .catch((err: unknown) => {
            const problem = toProblem(err, body, logger, req);
            if (res.headersSent) {
              logger.error({ err, path: req.url }, 'error after the answer started; dropping the connection');
              req.socket.destroy();
              return;
            }
            for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
            sendJson(res, problem.status, JSON.stringify(problem.body));
          });
      },
      (err: unknown) => {
        logger.error({ err, path: req.url }, 'reading a request failed');
        req.socket.destroy();
      },
    );
    return true;
  };
  return fastPath;
}

/** As express's res.json sends it. */
export function sendJson(res: ServerResponse, status: number, text: string | Buffer): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', typeof text === 'string' ? Buffer.byteLength(text) : text.length);
  res.end(text);
}
