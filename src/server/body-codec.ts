/**
 * The wire format of request and answer bodies, chosen once per app: unsigned (1.0.x JSON bodies),
 * signed (koi-net 1.1+ envelopes), or both (per request, from the parsed body: a bridge node).
 * Everything between the codec's decode and encode (list caps, the contract check, handlers) sees
 * the unsigned payload shape, so both protocols share one path.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../logger.ts';
import type { KoiNetNode } from '../rid/index.ts';
import type { OperationId } from '../../generated/stubs/operations.ts';
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
import { classifyContentType, parseJsonBody, readRawBody } from './body.ts';
import { nestingProblems } from './nesting.ts';
import { HttpProblem, INTERNAL, TOO_LARGE, type HttpProblemBody } from './errors.ts';
import { eventsPathOf, type KoiLocals, type RoutedOperation } from './routing.ts';
import { preReadBody } from './fast-path.ts';
import { isEnvelopeShaped } from './envelope-shape.ts';

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

export interface BodyCodec {
  /** The body stage: read (bounded), decode into the unsigned shape on req.body, or pass the refusal on. */
  readonly decode: RequestHandler;
  /** A handler's (non-null) answer as this codec sends it; undefined = plain JSON. */
  encodeAnswer(op: RoutedOperation, result: unknown, locals: KoiLocals): string | undefined;
  /** The body of an error answer, with fields named where this codec's senders put them. */
  encodeProblem(body: HttpProblemBody, locals: KoiLocals): HttpProblemBody;
  /** Whether fetches may be answered on the fast path (envelopes need the full pipeline). */
  readonly fastPath: boolean;
}

/** The payload type each endpoint takes and answers, as the reference's API_MODEL_MAP. */
const SIGNED_TYPES: Record<OperationId, { request: PayloadType; response: PayloadType | undefined }> = {
  broadcastEvents: { request: 'events_payload', response: undefined },
  pollEvents: { request: 'poll_events', response: 'events_payload' },
  fetchRids: { request: 'fetch_rids', response: 'rids_payload' },
  fetchManifests: { request: 'fetch_manifests', response: 'manifests_payload' },
  fetchBundles: { request: 'fetch_bundles', response: 'bundles_payload' },
};

/** `both`: `signed` must be given too; each request is then decoded (and answered) in its own format. */
export function chooseBodyCodec(signed: SignedServerOptions | undefined, limit: number, logger: Logger, both = false): BodyCodec {
  if (both) {
    if (!signed) throw new TypeError('a codec for both formats needs the signed options');
    return bothCodec(signed, limit, logger);
  }
  return signed ? signedCodec(signed, limit, logger) : unsignedCodec(limit);
}


type ParsedBody = { bytes: Buffer; value: unknown };
type BodyStage = (json: ParsedBody, req: Request, res: Response, next: NextFunction) => Promise<void> | void;

/** A decode middleware: read the JSON body, then the stage. */
function decodeWith(limit: number, stage: BodyStage): RequestHandler {
  return (req, res, next) => {
    readJson(req, limit, next)
      .then((json) => (json ? stage(json, req, res, next) : undefined))
      .catch((err: unknown) => next(err));
  };
}

/**
 * Reads and parses the JSON body. On failure the answer is already on its way (413, 422, or a
 * destroyed socket for an aborted upload) and undefined comes back.
 */
async function readJson(req: Request, limit: number, next: NextFunction): Promise<{ bytes: Buffer; value: unknown } | undefined> {
  const preRead = preReadBody(req);
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
}

/** The unsigned stage: the parsed body is the request, as 1.0.x clients send it. */
const unsignedStage: BodyStage = (json, req, res, next) => {
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
};

function unsignedCodec(limit: number): BodyCodec {
  return { decode: decodeWith(limit, unsignedStage), encodeAnswer: () => undefined, encodeProblem: (body) => body, fastPath: true };
}

/**
 * The body is an envelope. Open it (422 when malformed, 400 error_response when refused), then
 * hand its payload on in the unsigned shape; the answer is an envelope signed to the requester.
 */
function signedCodec(signed: SignedServerOptions, limit: number, logger: Logger): BodyCodec {
  return { ...signedAnswers(signed), decode: decodeWith(limit, signedStage(signed, logger)), fastPath: false };
}

/**
 * A bridge's codec: each request in the format it arrived in. Envelopes take the signed path
 * (and are answered signed to their sender), anything else the unsigned one; the answers follow
 * from `koiSource`, which only an opened envelope sets. Fetches in plain bodies may take the fast
 * path, which hands envelopes on to this pipeline.
 */
function bothCodec(signed: SignedServerOptions, limit: number, logger: Logger): BodyCodec {
  const signedPath = signedStage(signed, logger);
  return {
    ...signedAnswers(signed),
    decode: decodeWith(limit, (json, req, res, next) => (isEnvelopeShaped(json.value) ? signedPath(json, req, res, next) : unsignedStage(json, req, res, next))),
    fastPath: true,
  };
}

/**
 * The signed stage: the body is an envelope. Open it (422 when malformed, 400 error_response when
 * refused), then hand its payload on in the unsigned shape.
 */
function signedStage(signed: SignedServerOptions, logger: Logger): BodyStage {
  return async (json, req, res, next) => {
    const op = (res.locals as KoiLocals).koiOperation;
    if (!op) return next(INTERNAL());
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
  };
}

/** Answers of the signed format: an envelope signed to the requester; plain JSON when there is none (koiSource unset). */
function signedAnswers(signed: SignedServerOptions): Pick<BodyCodec, 'encodeAnswer' | 'encodeProblem'> {
  return {
    encodeAnswer(op, result, locals) {
      const responseType = SIGNED_TYPES[op.id].response;
      const source = locals.koiSource;
      if (!source || responseType === undefined || result === undefined || result === null) return undefined;
      // As the reference's response handler: the answer's payload, signed to the requester.
      const payload = { ...(result as Record<string, unknown>), type: responseType } as unknown as Parameters<typeof signEnvelope>[0];
      return signEnvelope(payload, { sourceNode: signed.self(), targetNode: source, keyPair: signed.keyPair() });
    },
    // Past an opened envelope, checks ran on its payload: name fields where the sender put them.
    encodeProblem: (body, locals) => (locals.koiSource ? underPayload(body) : body),
  };
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
