import { createHash } from 'node:crypto';
import { KoiNetError } from '../errors.ts';
import { KoiNetNode, RID } from '../rid/index.ts';
import { RIDType } from '../rid/rid-type.ts';
import type { JsonObject } from '../knowledge/json.ts';
import type {
  BundleJSON,
  ErrorResponse,
  EventJSON,
  ManifestJSON,
  PayloadType as PayloadTypeJSON,
  SignedPayload,
  SignedPayloadToSend,
  UnsignedEnvelopeToSend,
} from '../protocol/types.ts';
import {
  EnvelopeSerializationError,
  InvalidKeyError,
  InvalidSignatureError,
  InvalidTargetError,
  MalformedEnvelopeError,
  isProtocolErrorType,
  type ProtocolErrorType,
} from './errors.ts';
import { importPublicKeyDerB64, publicKeyHash, verifySignature, type NodeKeyPair } from './keys.ts';
import { LosslessNumber, losslessToPlain, parseLosslessJson, type LosslessObject } from './lossless-json.ts';
import { pyJsonDumps, pyJsonString } from './pyjson.ts';
import { pydanticTimestamp } from './timestamp.ts';
import { conformsTo } from '../protocol/validate.ts';
import { EVENT_TYPE_VALUES, PAYLOAD_TYPE_VALUES } from '../protocol/schemas.ts';

// ---------------------------------------------------------------------------------------------
// Payload shapes: the contract's signed-format components (openapi/koi-net.openapi.yaml). What a
// caller may hand in is looser than the wire: RIDs may be RID objects, contents may be the Maps
// of parseLosslessJson, manifests/events/bundles may be the knowledge classes (their toJSON() is
// the wire form), integers may be bigints or lossless numbers.
// ---------------------------------------------------------------------------------------------

/** Anything whose toJSON() yields the wire form (the knowledge classes Manifest, Event, Bundle). */
export interface ToWire<T> {
  toJSON(): T;
}

/** A contract (wire) type widened to what the printer takes for it. */
export type Loose<T> = T extends string
  ? string extends T
    ? T | RID | RIDType
    : T
  : T extends number
    ? T | bigint | LosslessNumber
    : T extends readonly (infer U)[]
      ? readonly Loose<U>[]
      : T extends object
        ? { readonly [K in keyof T]: Loose<T[K]> } | ToWire<T> | (string extends keyof T ? LosslessObject : never)
        : T;

export type PayloadType = PayloadTypeJSON;
/** A signed-format payload as the printer takes it; `T` picks one by its `type`. */
export type Payload<T extends PayloadType = PayloadType> = Loose<Extract<SignedPayloadToSend, { type: T }>>;

export type PollEventsPayload = Payload<'poll_events'>;
export type FetchRidsPayload = Payload<'fetch_rids'>;
export type FetchManifestsPayload = Payload<'fetch_manifests'>;
export type FetchBundlesPayload = Payload<'fetch_bundles'>;
export type RidsPayload = Payload<'rids_payload'>;
export type ManifestsPayload = Payload<'manifests_payload'>;
export type BundlesPayload = Payload<'bundles_payload'>;
export type EventsPayload = Payload<'events_payload'>;
export type ErrorResponsePayload = ErrorResponse;

export type RequestPayload = Payload<'events_payload' | 'poll_events' | 'fetch_rids' | 'fetch_manifests' | 'fetch_bundles'>;
export type ResponsePayload = Payload<'rids_payload' | 'manifests_payload' | 'bundles_payload' | 'events_payload' | 'error_response'>;

/** Contents as a caller may hold them: plain JSON (JsonObject) or an order/number-preserving Map. */
export type ContentsInput = JsonObject | LosslessObject;
export type ManifestInput = Loose<ManifestJSON>;
export type EventInput = Loose<EventJSON>;
export type BundleInput = Loose<BundleJSON>;

export type UnsignedEnvelopeInput = {
  [K in keyof UnsignedEnvelopeToSend]: K extends 'payload' ? Payload | LosslessObject : Loose<UnsignedEnvelopeToSend[K]>;
};

// ---------------------------------------------------------------------------------------------
// The pydantic printer. Field lists are the models' declaration order; `dflt` is the default
// pydantic fills in (and, with exclude_none, still prints); fields without it are required.
// ---------------------------------------------------------------------------------------------

type Getter = (obj: unknown, key: string) => unknown;

/** Reads a field from a plain object or a lossless Map alike, after toJSON() for class instances. */
function unwrap(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !(value instanceof Map) && !Array.isArray(value)) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function' && !(value instanceof LosslessNumber)) return toJSON.call(value);
  }
  return value;
}
const get: Getter = (obj, key) =>
  obj instanceof Map ? (obj as Map<string, unknown>).get(key) : (obj as Record<string, unknown>)[key];

function isRecordLike(value: unknown): boolean {
  return value instanceof Map || (typeof value === 'object' && value !== null && !Array.isArray(value));
}

function fail(path: string, msg: string, cause?: unknown): never {
  throw new EnvelopeSerializationError(path, msg, cause === undefined ? undefined : { cause });
}

/**
 * An RID-like field printed as pydantic prints it: parsed, then str() of the result, i.e. the
 * normalized form (e.g. 'https://x/p?' -> 'https://x/p'). Parsed values (`Parsed`) are taken as
 * they are or re-parsed by `parse`; anything but them or a string is refused.
 */
function parsedText<Parsed>(
  value: unknown,
  path: string,
  what: string,
  isParsed: (v: unknown) => v is Parsed,
  parse: (v: Parsed | string) => { toString(): string },
): string {
  const v = unwrap(value);
  if (!isParsed(v) && typeof v !== 'string') return fail(path, `${what} must be a string`);
  try {
    return parse(v).toString();
  } catch (err) {
    return fail(path, err instanceof KoiNetError ? err.message : `invalid ${what}`, err);
  }
}

const isRID = (v: unknown): v is RID => v instanceof RID;
const isRIDType = (v: unknown): v is RIDType => v instanceof RIDType;
const ridText = (value: unknown, path: string): string =>
  parsedText(value, path, 'RID', isRID, (v) => (v instanceof RID ? v : RID.of(v)));
const nodeText = (value: unknown, path: string): string => parsedText(value, path, 'node RID', isRID, (v) => KoiNetNode.of(v));
const ridTypeText = (value: unknown, path: string): string =>
  parsedText(value, path, 'RID type', isRIDType, (v) => (v instanceof RIDType ? v : RIDType.of(v)));

function intText(value: unknown, path: string): string {
  const v = unwrap(value);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof LosslessNumber) {
    if (v.isInteger) return BigInt(v.text).toString();
    const n = Number(v.text);
    // pydantic's lax int mode takes 10.0 as 10 but refuses 10.5.
    if (Number.isInteger(n)) return BigInt(n).toString();
    return fail(path, `${v.text} is not an integer`);
  }
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v).toString();
  return fail(path, 'must be an integer');
}

function list(value: unknown, path: string, item: (v: unknown, p: string) => string): string {
  const v = unwrap(value);
  if (!Array.isArray(v)) return fail(path, 'must be an array');
  return '[' + v.map((x: unknown, i) => item(x, `${path}[${i}]`)).join(',') + ']';
}

function contentsText(value: unknown, path: string): string {
  const v = unwrap(value);
  if (!isRecordLike(v)) return fail(path, 'contents must be a JSON object');
  return pyJsonDumps(v, path);
}

function manifestText(value: unknown, path: string): string {
  const m = unwrap(value);
  if (!isRecordLike(m)) return fail(path, 'manifest must be an object');
  const ts = get(m, 'timestamp');
  const hash = get(m, 'sha256_hash');
  if (typeof ts !== 'string') return fail(`${path}.timestamp`, 'must be a string');
  if (typeof hash !== 'string') return fail(`${path}.sha256_hash`, 'must be a string');
  return (
    `{"rid":${pyJsonString(ridText(get(m, 'rid'), `${path}.rid`))}` +
    `,"timestamp":${pyJsonString(pydanticTimestamp(ts, `${path}.timestamp`))}` +
    `,"sha256_hash":${pyJsonString(hash, `${path}.sha256_hash`)}}`
  );
}

function bundleText(value: unknown, path: string): string {
  const b = unwrap(value);
  if (!isRecordLike(b)) return fail(path, 'bundle must be an object');
  const contents = get(b, 'contents');
  if (contents == null) return fail(`${path}.contents`, 'is required');
  return `{"manifest":${manifestText(get(b, 'manifest'), `${path}.manifest`)},"contents":${contentsText(contents, `${path}.contents`)}}`;
}

const EVENT_TYPES: ReadonlySet<string> = new Set(EVENT_TYPE_VALUES);

function eventText(value: unknown, path: string): string {
  const e = unwrap(value);
  if (!isRecordLike(e)) return fail(path, 'event must be an object');
  const type = get(e, 'event_type');
  if (typeof type !== 'string' || !EVENT_TYPES.has(type)) return fail(`${path}.event_type`, 'must be NEW, UPDATE or FORGET');
  let out = `{"rid":${pyJsonString(ridText(get(e, 'rid'), `${path}.rid`))},"event_type":"${type}"`;
  // exclude_none drops the None model fields, however the sender spelled them (absent or null).
  const manifest = get(e, 'manifest');
  if (manifest != null) out += `,"manifest":${manifestText(manifest, `${path}.manifest`)}`;
  const contents = get(e, 'contents');
  if (contents != null) out += `,"contents":${contentsText(contents, `${path}.contents`)}`;
  return out + '}';
}

interface Field<N extends string = string> {
  /** A field of the payload's contract schema, in pydantic's declaration order. */
  name: N;
  print: (v: unknown, p: string) => string;
  /** Printed when the field is absent; undefined means required. */
  dflt?: string;
}

const rids = (v: unknown, p: string): string => list(v, p, (x, q) => pyJsonString(ridText(x, q)));
const ridTypes = (v: unknown, p: string): string => list(v, p, (x, q) => pyJsonString(ridTypeText(x, q)));

/** The fields of each payload type besides `type`, as the contract names them. */
type FieldsOf<T extends PayloadType> = Exclude<keyof Extract<SignedPayload, { type: T }>, 'type'> & string;

const MODELS: { readonly [T in PayloadType]: readonly Field<FieldsOf<T>>[] } = {
  poll_events: [{ name: 'limit', print: intText, dflt: '0' }],
  fetch_rids: [{ name: 'rid_types', print: ridTypes, dflt: '[]' }],
  fetch_manifests: [
    { name: 'rid_types', print: ridTypes, dflt: '[]' },
    { name: 'rids', print: rids, dflt: '[]' },
  ],
  fetch_bundles: [{ name: 'rids', print: rids }],
  rids_payload: [{ name: 'rids', print: rids }],
  manifests_payload: [
    { name: 'manifests', print: (v, p) => list(v, p, manifestText) },
    { name: 'not_found', print: rids, dflt: '[]' },
  ],
  bundles_payload: [
    { name: 'bundles', print: (v, p) => list(v, p, bundleText) },
    { name: 'not_found', print: rids, dflt: '[]' },
    { name: 'deferred', print: rids, dflt: '[]' },
  ],
  events_payload: [{ name: 'events', print: (v, p) => list(v, p, eventText) }],
  error_response: [
    {
      name: 'error',
      print: (v, p) => (isProtocolErrorType(v) ? `"${v}"` : fail(p, 'must be one of unknown_node, invalid_key, invalid_signature, invalid_target')),
    },
  ],
};

/** The contract's PayloadType enum, in its order. */
export const PAYLOAD_TYPES: readonly PayloadType[] = PAYLOAD_TYPE_VALUES;

function isPayloadType(value: unknown): value is PayloadType {
  return conformsTo('PayloadType', value);
}

/**
 * pydantic's `model_dump_json(exclude_none=True)` of one payload model: `type` first, declared
 * order, defaults printed, unknown fields dropped (pydantic ignores extras on input).
 */
export function serializePayload(payload: Payload | LosslessObject, path = 'payload'): string {
  const p = unwrap(payload);
  if (!isRecordLike(p)) return fail(path, 'payload must be an object');
  const type = get(p, 'type');
  if (!isPayloadType(type)) return fail(`${path}.type`, `unknown payload type ${JSON.stringify(type)}`);
  let out = `{"type":"${type}"`;
  for (const f of MODELS[type]) {
    const v = get(p, f.name);
    if (v === undefined) {
      if (f.dflt === undefined) return fail(`${path}.${f.name}`, 'is required');
      out += `,"${f.name}":${f.dflt}`;
    } else {
      // A None for a non-optional model field fails pydantic validation.
      if (v === null) return fail(`${path}.${f.name}`, 'cannot be null');
      out += `,"${f.name}":${f.print(v, `${path}.${f.name}`)}`;
    }
  }
  return out + '}';
}

/** The exact bytes (as a string; sign its UTF-8) a koi-net 2.x peer signs and verifies. */
export function serializeUnsignedEnvelope(envelope: UnsignedEnvelopeInput): string {
  return (
    `{"payload":${serializePayload(envelope.payload)}` +
    `,"source_node":${pyJsonString(nodeText(envelope.source_node, 'source_node'))}` +
    `,"target_node":${pyJsonString(nodeText(envelope.target_node, 'target_node'))}}`
  );
}

export interface SignOptions {
  sourceNode: KoiNetNode | RID | string;
  targetNode: KoiNetNode | RID | string;
  keyPair: NodeKeyPair;
}

/**
 * The signed envelope as body text: pydantic's unsigned bytes with `,"signature":"..."` appended
 * inside the closing brace, which is also exactly how pydantic prints the SignedEnvelope.
 */
export function signEnvelope(payload: Payload | LosslessObject, options: SignOptions): string {
  const unsigned = serializeUnsignedEnvelope({ payload, source_node: options.sourceNode, target_node: options.targetNode });
  const signature = options.keyPair.sign(unsigned);
  return `${unsigned.slice(0, -1)},"signature":"${signature}"}`;
}

/** `{"type":"error_response","error":"<kind>"}`, the unsigned 400 body of the protocol errors. */
export function errorResponse(kind: ProtocolErrorType): string {
  if (!isProtocolErrorType(kind)) throw new KoiNetError('invalid_error_type', `not a protocol error type: ${String(kind)}`);
  return `{"type":"error_response","error":"${kind}"}`;
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/**
 * The final member of a compactly printed SignedEnvelope. Only base64 characters are allowed in
 * the value, so the closing `"}` must be the end of the top-level object: the match cannot sit
 * inside a nested string or object.
 */
const SIGNATURE_TAIL = /,"signature":"([A-Za-z0-9+/=_-]*)"\}[ \t\r\n]*$/;

/**
 * A verified payload in plain JSON form (numbers as doubles; the lossless form is alongside): the
 * pydantic printer accepted it, so it has its type's contract shape (unknown keys kept).
 */
export type PayloadWire = SignedPayload;
/** A payload only known to carry a known `type` (peekEnvelope checks nothing else). */
export type PeekedPayload = { type: PayloadType } & Record<string, unknown>;

export interface VerifiedEnvelope {
  payload: PayloadWire;
  sourceNode: KoiNetNode;
  targetNode: KoiNetNode;
  signature: string;
  /** The exact text the signature was checked against. */
  signedText: string;
  /** Which rule verified: the received text minus its signature, or our pydantic re-serialization. */
  verifiedBy: 'received_text' | 'reserialized';
  /** The whole envelope with number text and key order kept, for forwarding contents byte-exactly. */
  lossless: LosslessObject;
}

export interface VerifyOptions {
  /** The sender's NodeProfile.public_key (base64 DER SPKI). */
  publicKeyDerB64: string;
  /** When given, a different target_node throws InvalidTargetError (checked last, as the reference does). */
  expectedTargetNode?: KoiNetNode | RID | string;
  /**
   * Check that the key hashes to source_node's hash part (InvalidKeyError otherwise), as the
   * reference does before verifying. Default true; off only for RIDs from the unsigned era.
   */
  checkKeyMatchesSource?: boolean;
}

/** The envelope's top-level object, numbers kept lossless; MalformedEnvelopeError when it is not one. */
function parseEnvelopeObject(text: string): LosslessObject {
  let root: unknown;
  try {
    root = parseLosslessJson(text);
  } catch (err) {
    throw new MalformedEnvelopeError(`envelope is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!(root instanceof Map)) throw new MalformedEnvelopeError('envelope is not a JSON object');
  return root as LosslessObject;
}

/**
 * Verifies a signed envelope body. Order of checks follows the reference's SecureManager:
 * malformed -> invalid_key -> invalid_signature -> invalid_target. The signature is checked over
 * the received text minus its final signature member (robust against any printing difference),
 * and, failing that, over our pydantic re-serialization (what a Python receiver checks).
 */
export function verifyEnvelope(text: string, options: VerifyOptions): VerifiedEnvelope {
  const env = parseEnvelopeObject(text);
  const signature = stringField(env, 'signature');
  const payload = env.get('payload');
  if (!(payload instanceof Map)) throw new MalformedEnvelopeError('payload must be an object');

  let sourceNode: KoiNetNode;
  let targetNode: KoiNetNode;
  let reserialized: string;
  try {
    sourceNode = KoiNetNode.of(stringField(env, 'source_node'));
    targetNode = KoiNetNode.of(stringField(env, 'target_node'));
    reserialized = serializeUnsignedEnvelope({ payload, source_node: sourceNode, target_node: targetNode });
  } catch (err) {
    throw new MalformedEnvelopeError(`invalid envelope: ${(err as Error).message}`, { cause: err });
  }

  const publicKey = importPublicKeyDerB64(options.publicKeyDerB64);
  if (options.checkKeyMatchesSource !== false && publicKeyHash(options.publicKeyDerB64) !== sourceNode.hash) {
    throw new InvalidKeyError(`public key does not hash to the hash part of ${sourceNode.toString()}`);
  }

  let signedText: string | undefined;
  let verifiedBy: VerifiedEnvelope['verifiedBy'] = 'received_text';
  const tail = SIGNATURE_TAIL.exec(text);
  if (tail !== null && tail[1] === signature) {
    const candidate = text.slice(0, tail.index) + '}';
    if (verifySignature(publicKey, candidate, signature)) signedText = candidate;
  }
  if (signedText === undefined && (tail === null || text.slice(0, tail.index) + '}' !== reserialized)) {
    if (verifySignature(publicKey, reserialized, signature)) {
      signedText = reserialized;
      verifiedBy = 'reserialized';
    }
  }
  if (signedText === undefined) {
    throw new InvalidSignatureError(`signature from ${sourceNode.toString()} does not verify`);
  }

  if (options.expectedTargetNode !== undefined) {
    const expected = KoiNetNode.of(options.expectedTargetNode).toString();
    if (targetNode.toString() !== expected) throw new InvalidTargetError(targetNode.toString(), expected);
  }

  return {
    payload: losslessToPlain(payload) as PayloadWire,
    sourceNode,
    targetNode,
    signature,
    signedText,
    verifiedBy,
    lossless: env,
  };
}

/** A top-level envelope field, checked against the contract's SignedEnvelope (all three are strings). */
function stringField(env: LosslessObject, name: 'signature' | 'source_node' | 'target_node'): string {
  const v = env.get(name);
  if (typeof v !== 'string' || !conformsTo('SignedEnvelope', v, name)) throw new MalformedEnvelopeError(`${name} must be a string`);
  return v;
}

/**
 * For an envelope from a node not in the cache: the bundle of a NEW event about the source node
 * itself, the only way the reference lets an unknown node introduce itself (events payloads only).
 * Returns its contents' public_key when present, so the caller can run verifyEnvelope with it.
 */
export function findSelfIntroduction(
  envelope: { payload: unknown; sourceNode: KoiNetNode },
): { manifest: Record<string, unknown>; contents: Record<string, unknown>; publicKeyDerB64: string | undefined } | undefined {
  const payload = envelope.payload as { type?: unknown; events?: unknown };
  if (payload?.type !== 'events_payload' || !Array.isArray(payload.events)) return undefined;
  for (const ev of payload.events as unknown[]) {
    if (!isRecordLike(ev)) continue;
    const e = ev as Record<string, unknown>;
    if (e.event_type !== 'NEW' || typeof e.rid !== 'string') continue;
    let same = false;
    try {
      same = RID.of(e.rid).toString() === envelope.sourceNode.toString();
    } catch {
      same = false;
    }
    if (!same || !isRecordLike(e.manifest) || !isRecordLike(e.contents)) continue;
    const contents = e.contents as Record<string, unknown>;
    return {
      manifest: e.manifest as Record<string, unknown>,
      contents,
      publicKeyDerB64: typeof contents.public_key === 'string' ? contents.public_key : undefined,
    };
  }
  return undefined;
}

/**
 * Parses an envelope without checking anything but its shape, e.g. to find the source node and
 * look up its key before verifyEnvelope. Throws MalformedEnvelopeError.
 */
export function peekEnvelope(text: string): { payload: PeekedPayload; sourceNode: KoiNetNode; targetNode: KoiNetNode } {
  const env = parseEnvelopeObject(text);
  const payload = env.get('payload');
  if (!(payload instanceof Map) || !isPayloadType(payload.get('type'))) throw new MalformedEnvelopeError('payload has no known type');
  try {
    return {
      payload: losslessToPlain(payload) as PeekedPayload,
      sourceNode: KoiNetNode.of(stringField(env, 'source_node')),
      targetNode: KoiNetNode.of(stringField(env, 'target_node')),
    };
  } catch (err) {
    if (err instanceof MalformedEnvelopeError) throw err;
    throw new MalformedEnvelopeError(`invalid envelope: ${(err as Error).message}`, { cause: err });
  }
}

/** sha256 hex of the signed bytes, as the vectors' `unsigned_sha256` (handy in logs). */
export function unsignedSha256(unsignedText: string): string {
  return createHash('sha256').update(unsignedText, 'utf8').digest('hex');
}
