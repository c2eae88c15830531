import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { loadExpress } from './express-loader.ts';
import { createLogger, type Logger } from '../logger.ts';
import { DEFAULT_ROOT_PATH, openapiDocument } from '../protocol/spec.ts';
import { KOI_NET_NODE_TYPE, RID } from '../rid/index.ts';
import type { KoiNetHandlers } from '../../generated/stubs/operations.ts';
import { parseByteLimit } from './body.ts';
import { fastAccept } from './fast-accept.ts';
import { SerializedJson } from './serialized.ts';
import { markContractChecked } from './checked-body.ts';
import { HttpProblem, INTERNAL, METHOD_NOT_ALLOWED, NOT_FOUND } from './errors.ts';
import { cappedListProblems, hasCappedLists, ownValue, pollLimitFor, resolveServerLimits, type ServerLimits } from './limits.ts';
import { OPERATIONS_BY_PATH, SPEC_PATH, normalizeRootPath, type KoiLocals } from './routing.ts';
import { chooseBodyCodec, type SignedServerOptions } from './body-codec.ts';
import { contractValidation, toProblem } from './validation.ts';
import { installFastPath, sendJson } from './fast-path.ts';
import type { RequestContext } from './request-context.ts';

export { DEFAULT_SERVER_LIMITS, resolveServerLimits, type ServerLimits } from './limits.ts';
export type { SignedServerOptions } from './body-codec.ts';
export type { RequestContext } from './request-context.ts';
export { withFastPath } from './fast-path.ts';
// Listening needs no express (listen.ts): a full node serves its fast path before express loads.
export { startServer, type RunningServer, type StartServerOptions } from './listen.ts';

export interface KoiNetAppOptions {
  /** One async method per operation; called only with bodies that passed the contract. */
  handlers: KoiNetHandlers;
  /** Prefix of the five endpoints (default `/koi-net`); `''` or `'/'` serves them at the mount point. */
  rootPath?: string;
  /** Largest accepted request body, bytes or `'1mb'`-style (default `'1mb'`). */
  bodyLimit?: string | number;
  /** Also check handler results against the contract (a failure answers 500 and is logged). */
  validateResponses?: boolean;
  logger?: Logger;
  /** Also answer the five paths without the prefix, as 1.0.x reference nodes do. */
  alsoServeUnprefixed?: boolean;
  /** Caps on list sizes in requests and answers; each field defaults to {@link DEFAULT_SERVER_LIMITS}. */
  limits?: Partial<ServerLimits>;
  /**
   * Hand requests for paths this app does not own to the next middleware of a host app instead
   * of answering 404, so the app can be mounted in front of other routes.
   */
  passThroughUnknown?: boolean;
  /**
   * Leave setting up the contract validator (express-openapi-validator, ~300 ms of CPU) to the
   * first request that needs it or to `prepareKoiNetApp(app)`, instead of starting at once:
   * valid fetches on the fast path never need it, so a starting node answers them sooner.
   */
  deferValidatorSetup?: boolean;
  /** Speak the signed protocol (koi-net 1.1+) instead of the unsigned 1.0.x bodies. */
  signed?: SignedServerOptions;
  /**
   * With `signed`: speak both formats, each request answered in the one it arrived in (an
   * envelope, or a plain 1.0.x body), as a node with `protocol: both` does.
   */
  bothFormats?: boolean;
}

function isNodeRid(rid: string): boolean {
  try {
    return RID.fromString(rid).type.toString() === KOI_NET_NODE_TYPE.toString();
  } catch {
    return false;
  }
}

/**
 * Builds the KOI-net HTTP API as an express application (mountable with `host.use(path, app)`).
 * Pipeline: route (own table) -> body codec (unsigned JSON or signed envelope, or either per request) ->
 * list caps -> express-openapi-validator -> poll cap -> handler -> the codec's answer; one error
 * handler answers every failure with JSON. Valid fetches may skip it all on the fast path.
 */
export function createKoiNetApp(options: KoiNetAppOptions): Express {
  const {
    handlers,
    bodyLimit = '1mb',
    validateResponses = false,
    alsoServeUnprefixed = false,
    passThroughUnknown = false,
  } = options;
  const rootPath = normalizeRootPath(options.rootPath ?? DEFAULT_ROOT_PATH);
  const limit = parseByteLimit(bodyLimit);
  const limits = resolveServerLimits(options.limits);
  const logger = options.logger ?? createLogger({ name: 'koi-net-server' });
  const codec = chooseBodyCodec(options.signed, limit, logger, options.bothFormats === true);

  const app = loadExpress()();
  // No framework fingerprinting, and no ETag-driven 304s on POST answers.
  app.disable('x-powered-by');
  app.disable('etag');

  // 1. Route: decide the operation ourselves so 404/405 are JSON and the validator only ever
  //    sees the canonical operation path, wherever this app is mounted.
  const route: RequestHandler = (req, res, next) => {
    const path = req.path;
    let sub: string | undefined;
    if (rootPath === '') sub = path;
    else if (path.startsWith(`${rootPath}/`)) sub = path.slice(rootPath.length);
    else if (alsoServeUnprefixed) sub = path;

    if (sub === SPEC_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      res.status(200).json({ ...openapiDocument, servers: [{ url: rootPath || '/' }] });
      return;
    }
    const op = sub === undefined ? undefined : OPERATIONS_BY_PATH.get(sub);
    if (!op) {
      // 'router' leaves this app altogether, back to the host app's next route.
      if (passThroughUnknown) return next('router');
      return next(NOT_FOUND());
    }
    if (req.method !== op.method) return next(METHOD_NOT_ALLOWED(op.method));
    (res.locals as KoiLocals).koiOperation = op;
    // express-openapi-validator runs with useRequestUrl, so it matches this canonical path. The
    // query string goes too: the contract has no query parameters and FastAPI ignores unknown ones.
    req.url = op.path;
    next();
  };

  // 2. Body: codec.decode (see body-codec.ts).

  // 2b. List caps, before the contract check so an oversized list costs no per-item validation.
  const capLists: RequestHandler = (req, res, next) => {
    const op = (res.locals as KoiLocals).koiOperation;
    if (!op || !hasCappedLists(op.id)) return next();
    const detail = cappedListProblems(op.id, req.body, limits);
    if (detail.length > 0) return next(HttpProblem.validation(detail));
    // Response validation lives in the validator's middlewares: with it on, every request goes through.
    if (!validateResponses && fastAccept(op.id, req.body)) (res.locals as KoiLocals).koiAccepted = true;
    next();
  };

  // 3. Contract validation (skipped for a body the fast check accepted).
  const validate = contractValidation(validateResponses);
  preparers.set(app, validate.prepare);
  if (options.deferValidatorSetup !== true) void prepareKoiNetApp(app);

  // 3b. Poll answers are capped by rewriting the request's `limit`: the handler and the queue then
  //     leave the rest queued for the next poll, exactly as if the caller had asked for fewer.
  const capPoll: RequestHandler = (req, res, next) => {
    const op = (res.locals as KoiLocals).koiOperation;
    if (op?.id === 'pollEvents' && req.body !== null && typeof req.body === 'object') {
      // Only node RIDs have poll queues. The contract takes any RID (as the reference does, which
      // answers an empty list), but the node's queue lookup refuses non-node RIDs with an error
      // that would surface as a 500.
      const rid = ownValue(req.body, 'rid');
      if (typeof rid === 'string' && !isNodeRid(rid)) {
        res.status(200).json({ events: [] });
        return;
      }
      (req.body as Record<string, unknown>)['limit'] = pollLimitFor(ownValue(req.body, 'limit'), limits);
    }
    next();
  };

  // 3c. Past the contract check: handlers may skip checking the body again (see checked-body.ts).
  const markChecked: RequestHandler = (req, res, next) => {
    markContractChecked(req.body as unknown, (res.locals as KoiLocals).koiRawBody);
    next();
  };

  // 4. Dispatch to the handler; the codec writes the answer.
  const dispatch: RequestHandler = (req, res, next) => {
    const locals = res.locals as KoiLocals;
    const op = locals.koiOperation;
    if (!op) return next(INTERNAL());
    const handler = handlers[op.id] as (this: KoiNetHandlers, body: unknown, context?: RequestContext) => Promise<unknown>;
    const source = locals.koiSource;
    const context: RequestContext | undefined = source ? { sourceNode: source } : locals.koiNoContentType ? { withoutContentType: true } : undefined;
    Promise.resolve()
      // Without anything to say, handlers get the body only.
      .then(() => (context ? handler.call(handlers, req.body as unknown, context) : handler.call(handlers, req.body as unknown)))
      .then((result) => {
        if (result instanceof SerializedJson) {
          if (validateResponses) {
            // Through res.json, where the response validator checks it.
            res.status(200).json(JSON.parse(result.text.toString()));
            return;
          }
          sendJson(res, 200, result.text);
          return;
        }
        const encoded = codec.encodeAnswer(op, result, locals);
        if (encoded !== undefined) {
          res.status(200).type('application/json').send(encoded);
          return;
        }
        if (result === undefined || result === null) {
          // Sent as text so the response validator's res.json hook cannot turn `null` into a 204.
          res.status(200).type('application/json').send('null');
          return;
        }
        res.status(200).json(result);
      })
      .catch(next);
  };

  // 5. Every failure becomes JSON here.
  const onError = (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const problem = toProblem(err, req.body as unknown, logger, req);
    if (res.headersSent) {
      logger.error({ err, path: req.originalUrl }, 'error after the answer started; dropping the connection');
      req.socket.destroy();
      return;
    }
    res.status(problem.status);
    for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
    res.json(codec.encodeProblem(problem.body, res.locals as KoiLocals));
  };

  app.use(route, codec.decode, capLists, validate, capPoll, markChecked, dispatch);
  app.use(onError);

  // Not while answers are validated (that hooks res.json inside the validator's middlewares).
  if (codec.fastPath && !validateResponses) installFastPath(app, { handlers, rootPath, limit, limits, logger });
  return app;
}

const preparers = new WeakMap<Express, () => Promise<void>>();

/**
 * Sets up what `createKoiNetApp` deferred (`deferValidatorSetup`); resolves once the contract
 * validator is ready. A failure is the first affected request's 500 as well, so here it is only
 * logged by the caller.
 */
export function prepareKoiNetApp(app: Express): Promise<void> {
  const prepare = preparers.get(app);
  if (prepare === undefined) return Promise.resolve();
  const done = prepare();
  done.catch(() => undefined);
  return done;
}
