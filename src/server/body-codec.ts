/**
 * The wire format of request and answer bodies, chosen once per app: unsigned (1.0.x JSON bodies)
 * or signed (koi-net 1.1+ envelopes). Everything between the codec's decode and encode (list caps,
 * the contract check, handlers) sees the unsigned payload shape, so both protocols share one path.
 */
import type { NextFunction, Request, RequestHandler } from 'express';
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

export function chooseBodyCodec(signed: SignedServerOptions | undefined, limit: number, logger: Logger): BodyCodec {
  return signed ? signedCodec(signed, limit, logger) : unsignedCodec(limit);
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

function unsignedCodec(limit: number): BodyCodec {
  const decode: RequestHandler = (req, res, next) => {
    readJson(req, limit, next).then(
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
  return { decode, encodeAnswer: () => undefined, encodeProblem: (body) => body, fastPath: true };
}

/**
 * The body is an envelope. Open it (422 when malformed, 400 error_response when refused), then
 * hand its payload on in the unsigned shape; the answer is an envelope signed to the requester.
 */
function signedCodec(signed: SignedServerOptions, limit: number, logger: Logger): BodyCodec {
  const decode: RequestHandler = (req, res, next) => {
    const op = (res.locals as KoiLocals).koiOperation;
    readJson(req, limit, next)
      .then(async (json) => {
        if (!json) return;
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
      })
      .catch((err: unknown) => next(err));
  };
  return {
    decode,
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
    fastPath: false,
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
