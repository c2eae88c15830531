import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { KoiNetError } from '../errors.ts';
import { createLogger, type Logger } from '../logger.ts';
import { DEFAULT_ROOT_PATH, loadOpenapiDocument, openapiDocument } from '../protocol/spec.ts';
import { KOI_NET_NODE_TYPE, RID, RIDType } from '../rid/index.ts';
import { operations, type KoiNetHandlers, type OperationId } from '../../generated/stubs/operations.ts';
import { classifyContentType, parseByteLimit, parseJsonBody, readRawBody } from './body.ts';
import { nestingProblems } from './nesting.ts';
import { fastAccept } from './fast-accept.ts';
import { SerializedJson } from './serialized.ts';
import { markContractChecked } from './checked-body.ts';
import { resolveServerTimeouts, serverTimeoutOptions, type ServerTimeouts } from './timeouts.ts';
import type { KoiNetNode } from '../rid/index.ts';
import {
  MalformedEnvelopeError,
  ProtocolError,
  openEnvelope,
  peekEnvelope,
  signEnvelope,
  type NodeKeyPair,
  type PayloadType,
  type PublicKeyLookup,
} from '../secure/index.ts';
import {
  HttpProblem,
  INTERNAL,
  METHOD_NOT_ALLOWED,
  NOT_FOUND,
  TOO_LARGE,
  badInputDetail,
  isBadInputError,
  validatorErrorsToDetail,
  type FormatExplainer,
  type HttpProblemBody,
  type ValidationDetailItem,
  type ValidatorErrorItem,
} from './errors.ts';

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
  /** Speak the signed protocol (koi-net 1.1+) instead of the unsigned 1.0.x bodies. */
  signed?: SignedServerOptions;
}

/**
 * What the server needs to open and answer envelopes. Getters, because the node's identity may
 * only exist once `ready` resolves (the server listens before the node is initialized).
 */
export interface SignedServerOptions {
  self: () => KoiNetNode;
  keyPair: () => NodeKeyPair;
  /** The sender's public key as this node knows it (cached node profile); may read the cache. */
  lookup: (node: KoiNetNode) => ReturnType<PublicKeyLookup> | Promise<ReturnType<PublicKeyLookup>>;
  /** Envelopes are opened only after this resolves (identity and cache loaded). */
  ready?: Promise<void>;
}

/** Per request facts handlers may need, as their second argument (absent when there are none). */
export interface RequestContext {
  /** Signed mode: who sent the envelope. */
  sourceNode?: KoiNetNode;
  /**
   * Unsigned mode: the request carried no Content-Type, as koi-net 1.0.0b6 and 1.0.x clients post.
   * A fetch_bundles answer then also lists the bundles under `manifests`, where b6 reads them.
   */
  withoutContentType?: boolean;
}

/** The payload type each endpoint takes and answers, as the reference's API_MODEL_MAP. */
const SIGNED_TYPES: Record<OperationId, { request: PayloadType; response: PayloadType | undefined }> = {
  broadcastEvents: { request: 'events_payload', response: undefined },
  pollEvents: { request: 'poll_events', response: 'events_payload' },
  fetchRids: { request: 'fetch_rids', response: 'rids_payload' },
  fetchManifests: { request: 'fetch_manifests', response: 'manifests_payload' },
  fetchBundles: { request: 'fetch_bundles', response: 'bundles_payload' },
};

/**
 * Request-shape limits. The body limit alone bounds bytes, not work: a 1 MB broadcast holds ~20k
 * bare events, each one a cache read and a possible remote fetch, and a poll with `limit: 0` would
 * drain a 10k-event queue into one answer.
 */
export interface ServerLimits {
  /** Most events one `/events/broadcast` may carry; more is a 422 naming `events`. */
  maxEventsPerBroadcast: number;
  /** Most entries of `rids` (bundles/manifests fetch) and of `rid_types` (rids/manifests fetch). */
  maxRidsPerFetch: number;
  /** Most events one `/events/poll` answer holds, whatever `limit` asks (0 = "all" means this many). */
  maxEventsPerPoll: number;
}

export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxEventsPerBroadcast: 1000,
  maxRidsPerFetch: 10_000,
  maxEventsPerPoll: 1000,
});

/** Fills in defaults and refuses nonsense early, at app creation rather than on the first request. */
export function resolveServerLimits(limits: Partial<ServerLimits> = {}): ServerLimits {
  const out: ServerLimits = { ...DEFAULT_SERVER_LIMITS };
  for (const key of Object.keys(DEFAULT_SERVER_LIMITS) as (keyof ServerLimits)[]) {
    const v = limits[key];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`server limit ${key} must be a positive integer, got ${String(v)}`);
    out[key] = v;
  }
  return out;
}

/** Which body lists each operation caps, and by which limit. */
const CAPPED_LISTS: Partial<Record<OperationId, readonly { field: string; limit: keyof ServerLimits }[]>> = {
  broadcastEvents: [{ field: 'events', limit: 'maxEventsPerBroadcast' }],
  fetchRids: [{ field: 'rid_types', limit: 'maxRidsPerFetch' }],
  fetchManifests: [
    { field: 'rid_types', limit: 'maxRidsPerFetch' },
    { field: 'rids', limit: 'maxRidsPerFetch' },
  ],
  fetchBundles: [{ field: 'rids', limit: 'maxRidsPerFetch' }],
};

/** pydantic's answer to a `Field(max_length=n)` list that is too long, so Python peers parse it. */
function tooLongDetail(field: string, max: number, actual: number): ValidationDetailItem {
  return {
    type: 'too_long',
    loc: ['body', field],
    msg: `List should have at most ${max} items after validation, not ${actual}`,
    input: `<${actual} items elided>`,
    ctx: { field_type: 'List', max_length: max, actual_length: actual },
  };
}

/** Where a request's events are, for the operation that takes events. */
function eventsPathOf(op: RoutedOperation | undefined, prefix: string[]): string[] | undefined {
  return op?.id === 'broadcastEvents' ? [...prefix, 'events'] : undefined;
}

function isNodeRid(rid: string): boolean {
  try {
    return RID.fromString(rid).type.toString() === KOI_NET_NODE_TYPE.toString();
  } catch {
    return false;
  }
}

function ownValue(obj: unknown, key: string): unknown {
  if (obj === null || typeof obj !== 'object' || !Object.prototype.hasOwnProperty.call(obj, key)) return undefined;
  return Object.getOwnPropertyDescriptor(obj, key)?.value;
}

interface RoutedOperation {
  id: OperationId;
  method: string;
  path: string;
}

/** Per-request state kept on res.locals between pipeline stages. */
interface KoiLocals {
  koiOperation?: RoutedOperation;
  /** Signed mode: the verified sender, whom the answer is signed to. */
  koiSource?: KoiNetNode;
  /** The request had no Content-Type (before the body stage set one for the validator). */
  koiNoContentType?: boolean;
  /** The body passed the fast exact check (fast-accept.ts); the validator is skipped. */
  koiAccepted?: boolean;
  /** Unsigned mode: the bytes the body was parsed from. */
  koiRawBody?: Buffer;
}

/**
 * Paths come from the generated operations table only, so a path changed in the contract cannot
 * leave a stale route here.
 */
const OPERATIONS_BY_PATH: ReadonlyMap<string, RoutedOperation> = new Map(
  (Object.keys(operations) as OperationId[]).map((id) => {
    const op = operations[id];
    return [op.path, { id, method: op.method.toUpperCase(), path: op.path }];
  }),
);

const SPEC_PATH = '/openapi.json';

/** Operations the fast path serves (small bodies, answered from memory or the cache files). */
const FAST_OPERATIONS: ReadonlySet<OperationId> = new Set(['fetchRids', 'fetchManifests', 'fetchBundles']);

/** Body bytes the fast path already read, for the express pipeline to use instead of reading again. */
const PRE_READ = Symbol('koi-net pre-read body');
type PreReadRequest = IncomingMessage & { [PRE_READ]?: Buffer };

/**
 * Serves a valid fetch request without express (routing, the validator, two apps' request set-up
 * were most of the CPU of a small fetch), or calls `fallback` for the full pipeline, which answers
 * everything else exactly as before. Returns false when the request is not even a candidate
 * (nothing read; the caller hands it on). Present on apps made by createKoiNetApp.
 */
type FastPath = (req: IncomingMessage, res: ServerResponse, fallback: () => void) => boolean;
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

function normalizeRootPath(root: string): string {
  let r = root.trim();
  if (r === '' || r === '/') return '';
  if (!r.startsWith('/')) r = `/${r}`;
  return r.replace(/\/+$/, '');
}

/** Gives 422 messages the RID parser's own reason instead of a regex dump. */
const explainRidFailure: FormatExplainer = (kind, name, input) => {
  if (typeof input !== 'string') return undefined;
  const schemas = openapiDocument.components.schemas;
  const which =
    kind === 'format'
      ? name
      : name === schemas['RID']?.['pattern']
        ? 'rid'
        : name === schemas['RIDType']?.['pattern']
          ? 'rid-type'
          : undefined;
  try {
    if (which === 'rid') RID.fromString(input);
    else if (which === 'rid-type') RIDType.fromString(input);
    else return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : undefined;
  }
  return undefined;
};

function parses(parse: (s: string) => unknown): (s: string) => boolean {
  return (s) => {
    try {
      parse(s);
      return true;
    } catch {
      return false;
    }
  };
}

const VALIDATOR_ERRORS = OpenApiValidator.error;

/**
 * Only the validator's own error classes are trusted for their status; a handler throwing some
 * other error that happens to carry `status` is still a 500.
 */
function isValidatorHttpError(err: unknown): err is { status: number; errors?: ValidatorErrorItem[]; message: string } {
  return Object.values(VALIDATOR_ERRORS).some((cls) => err instanceof cls);
}

/**
 * Builds the KOI-net HTTP API as an express application (mountable with `host.use(path, app)`).
 * Pipeline: route (own table) -> raw body + JSON parse -> express-openapi-validator -> handler
 * -> one error handler that answers every failure with JSON.
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

  const app = express();
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

  // 2. Body: read (bounded), decode, parse. On failure the answer is already on its way (413, 422,
  //    or a destroyed socket for an aborted upload) and undefined comes back.
  const readJson = async (req: Request, next: NextFunction): Promise<{ bytes: Buffer; value: unknown } | undefined> => {
    const preRead = (req as PreReadRequest)[PRE_READ];
    const raw = preRead !== undefined ? { ok: true as const, bytes: preRead } : await readRawBody(req, limit);
    if (!raw.ok) {
      if (raw.reason === 'too-large') next(TOO_LARGE(limit));
      else req.socket.destroy();
      return undefined;
    }
    const parsed = parseJsonBody(raw.bytes, classifyContentType(req.headers['content-type']));
    if (!parsed.ok) {
      next(HttpProblem.validation(parsed.detail));
      return undefined;
    }
    return { bytes: raw.bytes, value: parsed.value };
  };
  const body: RequestHandler = (req, res, next) => {
    readJson(req, next).then(
      (json) => {
        if (!json) return;
        const tooDeep = nestingProblems(json.value, eventsPathOf((res.locals as KoiLocals).koiOperation, []));
        if (tooDeep.length > 0) return next(HttpProblem.validation(tooDeep));
        req.body = json.value;
        const header = req.headers['content-type'];
        if (header === undefined || header.trim() === '') (res.locals as KoiLocals).koiNoContentType = true;
        (res.locals as KoiLocals).koiRawBody = json.bytes;
        // The body is already JSON; say so, so the validator picks the contract's JSON schema
        // (it would otherwise refuse a missing or `+json` Content-Type with 415).
        req.headers['content-type'] = 'application/json';
        next();
      },
      (err: unknown) => next(err),
    );
  };

  // 2'. Signed mode: the body is an envelope. Open it (422 when malformed, 400 error_response when
  //     refused), then hand its payload on in the unsigned shape so caps, contract validation and
  //     handlers stay one code path for both protocols.
  const signed = options.signed;
  const signedBody: RequestHandler = (req, res, next) => {
    const op = (res.locals as KoiLocals).koiOperation;
    readJson(req, next)
      .then(async (json) => {
        if (!json) return;
        if (!op || !signed) return next(INTERNAL());
        // Before the envelope is parsed again (losslessly, recursively) and its signature checked.
        const tooDeep = nestingProblems(json.value, eventsPathOf(op, ['payload']));
        if (tooDeep.length > 0) return next(HttpProblem.validation(tooDeep));
        const text = json.bytes.toString('utf8');
        const expected = SIGNED_TYPES[op.id].request;
        try {
          // FastAPI validates the envelope model of the path before any signature check.
          const peeked = peekEnvelope(text);
          if (peeked.payload.type !== expected) {
            return next(HttpProblem.validation([{ type: 'literal_error', loc: ['body', 'payload', 'type'], msg: `Input should be '${expected}'`, input: peeked.payload.type }]));
          }
          await signed.ready;
          const known = await signed.lookup(peeked.sourceNode);
          const env = openEnvelope(text, { self: signed.self(), lookup: () => known, allowSelfIntroduction: expected === 'events_payload' });
          const { type: _type, ...payload } = env.payload as unknown as Record<string, unknown>;
          if (op.id === 'pollEvents') payload['rid'] = env.sourceNode.toString();
          req.body = payload;
          (res.locals as KoiLocals).koiSource = env.sourceNode;
          req.headers['content-type'] = 'application/json';
          next();
        } catch (err) {
          if (err instanceof ProtocolError) {
            logger.info({ path: req.originalUrl, error: err.errorType, reason: err.message }, 'refused a signed request');
            return next(HttpProblem.protocol(err.errorType));
          }
          if (err instanceof MalformedEnvelopeError) {
            return next(HttpProblem.validation([{ type: 'value_error', loc: ['body'], msg: err.message }]));
          }
          next(err);
        }
      })
      .catch((err: unknown) => next(err));
  };

  // 2b. List caps, before the contract check so an oversized list costs no per-item validation.
  const capLists: RequestHandler = (req, res, next) => {
    const op = (res.locals as KoiLocals).koiOperation;
    const caps = op ? CAPPED_LISTS[op.id] : undefined;
    if (!caps) return next();
    const detail: ValidationDetailItem[] = [];
    for (const { field, limit: which } of caps) {
      const list = ownValue(req.body, field);
      if (Array.isArray(list) && list.length > limits[which]) detail.push(tooLongDetail(field, limits[which], list.length));
    }
    if (detail.length > 0) return next(HttpProblem.validation(detail));
    // Response validation lives in the validator's middlewares: with it on, every request goes through.
    if (op && !validateResponses && fastAccept(op.id, req.body)) (res.locals as KoiLocals).koiAccepted = true;
    next();
  };

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
      const asked = ownValue(req.body, 'limit');
      const max = limits.maxEventsPerPoll;
      const wanted = typeof asked === 'number' && asked > 0 ? Math.min(asked, max) : max;
      (req.body as Record<string, unknown>)['limit'] = wanted;
    }
    next();
  };

  // 3. Contract validation. The validator rewrites the document it gets: give it a copy.
  const apiSpec = loadOpenapiDocument();
  apiSpec['servers'] = [{ url: '/' }];
  const validatorMiddlewares = OpenApiValidator.middleware({
    apiSpec: apiSpec as unknown as Parameters<typeof OpenApiValidator.middleware>[0]['apiSpec'],
    validateRequests: { allErrors: true, coerceTypes: false, removeAdditional: false },
    validateResponses: validateResponses ? { coerceTypes: false, removeAdditional: false, allErrors: true } : false,
    validateSecurity: false,
    ignoreUndocumented: false,
    useRequestUrl: true,
    formats: {
      rid: { type: 'string', validate: parses((s) => RID.fromString(s)) },
      'rid-type': { type: 'string', validate: parses((s) => RIDType.fromString(s)) },
    },
  }) as unknown as RequestHandler[];

  // A body the fast check accepted is valid under the contract: the validator would pass it as is.
  const validate: RequestHandler = (req, res, next) => {
    if ((res.locals as KoiLocals).koiAccepted) return next();
    let i = 0;
    const step = (err?: unknown): void => {
      if (err !== undefined && err !== null) return next(err);
      const mw = validatorMiddlewares[i++];
      if (mw === undefined) return next();
      try {
        void mw(req, res, step);
      } catch (thrown) {
        next(thrown);
      }
    };
    step();
  };

  // 3c. Past the contract check: handlers may skip checking the body again (see checked-body.ts).
  const markChecked: RequestHandler = (req, res, next) => {
    markContractChecked(req.body as unknown, (res.locals as KoiLocals).koiRawBody);
    next();
  };

  // 4. Dispatch to the handler.
  const dispatch: RequestHandler = (req, res, next) => {
    const op = (res.locals as KoiLocals).koiOperation;
    if (!op) return next(INTERNAL());
    const handler = handlers[op.id] as (this: KoiNetHandlers, body: unknown, context?: RequestContext) => Promise<unknown>;
    const locals = res.locals as KoiLocals;
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
        const responseType = SIGNED_TYPES[op.id].response;
        if (signed && source && responseType !== undefined && result !== undefined && result !== null) {
          // The answer is an envelope signed to the requester, as the reference's response handler.
          const payload = { ...(result as Record<string, unknown>), type: responseType } as unknown as Parameters<typeof signEnvelope>[0];
          const text = signEnvelope(payload, { sourceNode: signed.self(), targetNode: source, keyPair: signed.keyPair() });
          res.status(200).type('application/json').send(text);
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
    // Past an opened envelope, checks ran on its payload: name fields where the sender put them.
    res.json((res.locals as KoiLocals).koiSource ? underPayload(problem.body) : problem.body);
  };

  app.use(route, signed ? signedBody : body, capLists, validate, capPoll, markChecked, dispatch);
  app.use(onError);

  // The fast path: unsigned only (envelopes need the full pipeline), and not while answers are
  // validated (that hooks res.json inside the validator's middlewares).
  if (!signed && !validateResponses) {
    const fastOps = new Map<string, RoutedOperation>();
    for (const op of OPERATIONS_BY_PATH.values()) if (FAST_OPERATIONS.has(op.id)) fastOps.set(`${rootPath}${op.path}`, op);
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
          if (!parsed.ok || !fastAcceptable(op, parsed.value)) {
            // Anything to refuse (or not surely valid): the pipeline answers, from the same bytes.
            (req as PreReadRequest)[PRE_READ] = raw.bytes;
            fallback();
            return;
          }
          const body = parsed.value;
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
    /** The checks the pipeline would make before the handler, all passed: nesting, list caps, contract. */
    const fastAcceptable = (op: RoutedOperation, value: unknown): boolean => {
      if (nestingProblems(value, undefined).length > 0) return false;
      for (const { field, limit: which } of CAPPED_LISTS[op.id] ?? []) {
        const list = ownValue(value, field);
        if (Array.isArray(list) && list.length > limits[which]) return false;
      }
      return fastAccept(op.id, value);
    };
    (app as unknown as WithFastPath)[FAST_PATH] = fastPath;
  }
  return app;
}

/** As express's res.json sends it. */
function sendJson(res: ServerResponse, status: number, text: string | Buffer): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', typeof text === 'string' ? Buffer.byteLength(text) : text.length);
  res.end(text);
}

/** `['body', 'events', 1]` -> `['body', 'payload', 'events', 1]`, as the reference's envelope model reports it. */
function underPayload(body: HttpProblemBody): HttpProblemBody {
  if (!('detail' in body) || !Array.isArray(body.detail)) return body;
  return {
    detail: body.detail.map((item) =>
      item.loc[0] === 'body' && item.loc[1] !== 'payload' ? { ...item, loc: ['body', 'payload', ...item.loc.slice(1)] } : item,
    ),
  };
}

function toProblem(err: unknown, body: unknown, logger: Logger, req: Pick<IncomingMessage, 'method' | 'url'> & { originalUrl?: string }): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof KoiNetError && isBadInputError(err)) return HttpProblem.validation(badInputDetail(err));
  if (isValidatorHttpError(err)) {
    switch (err.status) {
      case 400:
        return HttpProblem.validation(validatorErrorsToDetail(err.errors ?? [], body, explainRidFailure));
      case 404:
        return NOT_FOUND();
      case 405:
        return METHOD_NOT_ALLOWED('POST');
      case 415:
        return HttpProblem.validation([
          {
            type: 'model_attributes_type',
            loc: ['body'],
            msg: 'Input should be a valid dictionary or object to extract fields from',
          },
        ]);
      default:
        break;
    }
  }
  logger.error({ err, method: req.method, path: req.originalUrl ?? req.url }, 'request failed');
  return INTERNAL();
}

export interface StartServerOptions {
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Header, request and keep-alive timeouts; each defaults to {@link DEFAULT_SERVER_TIMEOUTS}. */
  timeouts?: Partial<ServerTimeouts>;
}

export interface RunningServer {
  /** `http://host:port`, no trailing slash. */
  url: string;
  port: number;
  server: Server;
  /** Stops accepting, drops idle keep-alive connections, resolves when closed. */
  close(): Promise<void>;
}

/** Listens with `app`; resolves once the port is bound. */
export function startServer(app: RequestListener | Express, options: StartServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  // Resolved before listening, so a bad value fails the start rather than the first slow client.
  const timeouts = resolveServerTimeouts(options.timeouts);
  const server = createServer(serverTimeoutOptions(timeouts), withFastPath(app as Express, app));
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', onError);
      const { port } = server.address() as AddressInfo;
      const hostPart = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${hostPart}:${port}`,
        port,
        server,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeIdleConnections();
          }),
      });
    });
  });
}
