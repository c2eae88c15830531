import { createHash } from 'node:crypto';
import { KoiNetError } from "../errors.js";
import { KoiNetNode, RID } from "../rid/index.js";
import { RIDType } from "../rid/rid-type.js";
import { EnvelopeSerializationError, InvalidKeyError, InvalidSignatureError, InvalidTargetError, MalformedEnvelopeError, isProtocolErrorType, } from "./errors.js";
import { importPublicKeyDerB64, publicKeyHash, verifySignature } from "./keys.js";
import { LosslessNumber, losslessToPlain, parseLosslessJson } from "./lossless-json.js";
import { pyJsonDumps, pyJsonString } from "./pyjson.js";
import { pydanticTimestamp } from "./timestamp.js";
export const PAYLOAD_TYPES = [
    'poll_events',
    'fetch_rids',
    'fetch_manifests',
    'fetch_bundles',
    'rids_payload',
    'manifests_payload',
    'bundles_payload',
    'events_payload',
    'error_response',
];
/** Reads a field from a plain object or a lossless Map alike, after toJSON() for class instances. */
function unwrap(value) {
    if (value !== null && typeof value === 'object' && !(value instanceof Map) && !Array.isArray(value)) {
        const toJSON = value.toJSON;
        if (typeof toJSON === 'function' && !(value instanceof LosslessNumber))
            return toJSON.call(value);
    }
    return value;
}
const get = (obj, key) => obj instanceof Map ? obj.get(key) : obj[key];
function isRecordLike(value) {
    return value instanceof Map || (typeof value === 'object' && value !== null && !Array.isArray(value));
}
function fail(path, msg, cause) {
    throw new EnvelopeSerializationError(path, msg, cause === undefined ? undefined : { cause });
}
function ridText(value, path) {
    const v = unwrap(value);
    if (v instanceof RID)
        return v.toString();
    if (typeof v !== 'string')
        return fail(path, 'RID must be a string');
    try {
        // pydantic parses into an RID and prints str(rid): the normalized form (e.g. 'https://x/p?' -> 'https://x/p').
        return RID.of(v).toString();
    }
    catch (err) {
        return fail(path, err instanceof KoiNetError ? err.message : 'invalid RID', err);
    }
}
function nodeText(value, path) {
    const v = unwrap(value);
    if (!(v instanceof RID) && typeof v !== 'string')
        return fail(path, 'node RID must be a string');
    try {
        return KoiNetNode.of(v).toString();
    }
    catch (err) {
        return fail(path, err instanceof KoiNetError ? err.message : 'invalid node RID', err);
    }
}
function ridTypeText(value, path) {
    const v = unwrap(value);
    if (v instanceof RIDType)
        return v.toString();
    if (typeof v !== 'string')
        return fail(path, 'RID type must be a string');
    try {
        return RIDType.of(v).toString();
    }
    catch (err) {
        return fail(path, err instanceof KoiNetError ? err.message : 'invalid RID type', err);
    }
}
function intText(value, path) {
    const v = unwrap(value);
    if (typeof v === 'bigint')
        return v.toString();
    if (v instanceof LosslessNumber) {
        if (v.isInteger)
            return BigInt(v.text).toString();
        const n = Number(v.text);
        // pydantic's lax int mode takes 10.0 as 10 but refuses 10.5.
        if (Number.isInteger(n))
            return BigInt(n).toString();
        return fail(path, `${v.text} is not an integer`);
    }
    if (typeof v === 'number' && Number.isInteger(v))
        return BigInt(v).toString();
    return fail(path, 'must be an integer');
}
function list(value, path, item) {
    const v = unwrap(value);
    if (!Array.isArray(v))
        return fail(path, 'must be an array');
    return '[' + v.map((x, i) => item(x, `${path}[${i}]`)).join(',') + ']';
}
function contentsText(value, path) {
    const v = unwrap(value);
    if (!isRecordLike(v))
        return fail(path, 'contents must be a JSON object');
    return pyJsonDumps(v, path);
}
function manifestText(value, path) {
    const m = unwrap(value);
    if (!isRecordLike(m))
        return fail(path, 'manifest must be an object');
    const ts = get(m, 'timestamp');
    const hash = get(m, 'sha256_hash');
    if (typeof ts !== 'string')
        return fail(`${path}.timestamp`, 'must be a string');
    if (typeof hash !== 'string')
        return fail(`${path}.sha256_hash`, 'must be a string');
    return (`{"rid":${pyJsonString(ridText(get(m, 'rid'), `${path}.rid`))}` +
        `,"timestamp":${pyJsonString(pydanticTimestamp(ts, `${path}.timestamp`))}` +
        `,"sha256_hash":${pyJsonString(hash, `${path}.sha256_hash`)}}`);
}
function bundleText(value, path) {
    const b = unwrap(value);
    if (!isRecordLike(b))
        return fail(path, 'bundle must be an object');
    const contents = get(b, 'contents');
    if (contents == null)
        return fail(`${path}.contents`, 'is required');
    return `{"manifest":${manifestText(get(b, 'manifest'), `${path}.manifest`)},"contents":${contentsText(contents, `${path}.contents`)}}`;
}
const EVENT_TYPES = new Set(['NEW', 'UPDATE', 'FORGET']);
function eventText(value, path) {
    const e = unwrap(value);
    if (!isRecordLike(e))
        return fail(path, 'event must be an object');
    const type = get(e, 'event_type');
    if (typeof type !== 'string' || !EVENT_TYPES.has(type))
        return fail(`${path}.event_type`, 'must be NEW, UPDATE or FORGET');
    let out = `{"rid":${pyJsonString(ridText(get(e, 'rid'), `${path}.rid`))},"event_type":"${type}"`;
    // exclude_none drops the None model fields, however the sender spelled them (absent or null).
    const manifest = get(e, 'manifest');
    if (manifest != null)
        out += `,"manifest":${manifestText(manifest, `${path}.manifest`)}`;
    const contents = get(e, 'contents');
    if (contents != null)
        out += `,"contents":${contentsText(contents, `${path}.contents`)}`;
    return out + '}';
}
const rids = (v, p) => list(v, p, (x, q) => pyJsonString(ridText(x, q)));
const ridTypes = (v, p) => list(v, p, (x, q) => pyJsonString(ridTypeText(x, q)));
const MODELS = {
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
function isPayloadType(value) {
    return typeof value === 'string' && Object.prototype.hasOwnProperty.call(MODELS, value);
}
/**
 * pydantic's `model_dump_json(exclude_none=True)` of one payload model: `type` first, declared
 * order, defaults printed, unknown fields dropped (pydantic ignores extras on input).
 */
export function serializePayload(payload, path = 'payload') {
    const p = unwrap(payload);
    if (!isRecordLike(p))
        return fail(path, 'payload must be an object');
    const type = get(p, 'type');
    if (!isPayloadType(type))
        return fail(`${path}.type`, `unknown payload type ${JSON.stringify(type)}`);
    let out = `{"type":"${type}"`;
    for (const f of MODELS[type]) {
        const v = get(p, f.name);
        if (v === undefined) {
            if (f.dflt === undefined)
                return fail(`${path}.${f.name}`, 'is required');
            out += `,"${f.name}":${f.dflt}`;
        }
        else {
            // A None for a non-optional model field fails pydantic validation.
            if (v === null)
                return fail(`${path}.${f.name}`, 'cannot be null');
            out += `,"${f.name}":${f.print(v, `${path}.${f.name}`)}`;
        }
    }
    return out + '}';
}
/** The exact bytes (as a string; sign its UTF-8) a koi-net 2.x peer signs and verifies. */
export function serializeUnsignedEnvelope(envelope) {
    return (`{"payload":${serializePayload(envelope.payload)}` +
        `,"source_node":${pyJsonString(nodeText(envelope.source_node, 'source_node'))}` +
        `,"target_node":${pyJsonString(nodeText(envelope.target_node, 'target_node'))}}`);
}
/**
 * The signed envelope as body text: pydantic's unsigned bytes with `,"signature":"..."` appended
 * inside the closing brace, which is also exactly how pydantic prints the SignedEnvelope.
 */
export function signEnvelope(payload, options) {
    const unsigned = serializeUnsignedEnvelope({ payload, source_node: options.sourceNode, target_node: options.targetNode });
    const signature = options.keyPair.sign(unsigned);
    return `${unsigned.slice(0, -1)},"signature":"${signature}"}`;
}
/** `{"type":"error_response","error":"<kind>"}`, the unsigned 400 body of the protocol errors. */
export function errorResponse(kind) {
    if (!isProtocolErrorType(kind))
        throw new KoiNetError('invalid_error_type', `not a protocol error type: ${String(kind)}`);
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
 * Verifies a signed envelope body. Order of checks follows the reference's SecureManager:
 * malformed -> invalid_key -> invalid_signature -> invalid_target. The signature is checked over
 * the received text minus its final signature member (robust against any printing difference),
 * and, failing that, over our pydantic re-serialization (what a Python receiver checks).
 */
export function verifyEnvelope(text, options) {
    let root;
    try {
        root = parseLosslessJson(text);
    }
    catch (err) {
        throw new MalformedEnvelopeError(`envelope is not JSON: ${err.message}`, { cause: err });
    }
    if (!(root instanceof Map))
        throw new MalformedEnvelopeError('envelope is not a JSON object');
    const env = root;
    const signature = env.get('signature');
    if (typeof signature !== 'string')
        throw new MalformedEnvelopeError('signature must be a string');
    const payload = env.get('payload');
    if (!(payload instanceof Map))
        throw new MalformedEnvelopeError('payload must be an object');
    let sourceNode;
    let targetNode;
    let reserialized;
    try {
        sourceNode = KoiNetNode.of(stringField(env, 'source_node'));
        targetNode = KoiNetNode.of(stringField(env, 'target_node'));
        reserialized = serializeUnsignedEnvelope({ payload, source_node: sourceNode, target_node: targetNode });
    }
    catch (err) {
        throw new MalformedEnvelopeError(`invalid envelope: ${err.message}`, { cause: err });
    }
    const publicKey = importPublicKeyDerB64(options.publicKeyDerB64);
    if (options.checkKeyMatchesSource !== false && publicKeyHash(options.publicKeyDerB64) !== sourceNode.hash) {
        throw new InvalidKeyError(`public key does not hash to the hash part of ${sourceNode.toString()}`);
    }
    let signedText;
    let verifiedBy = 'received_text';
    const tail = SIGNATURE_TAIL.exec(text);
    if (tail !== null && tail[1] === signature) {
        const candidate = text.slice(0, tail.index) + '}';
        if (verifySignature(publicKey, candidate, signature))
            signedText = candidate;
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
        if (targetNode.toString() !== expected)
            throw new InvalidTargetError(targetNode.toString(), expected);
    }
    return {
        payload: losslessToPlain(payload),
        sourceNode,
        targetNode,
        signature,
        signedText,
        verifiedBy,
        lossless: env,
    };
}
function stringField(env, name) {
    const v = env.get(name);
    if (typeof v !== 'string')
        throw new MalformedEnvelopeError(`${name} must be a string`);
    return v;
}
/**
 * For an envelope from a node not in the cache: the bundle of a NEW event about the source node
 * itself, the only way the reference lets an unknown node introduce itself (events payloads only).
 * Returns its contents' public_key when present, so the caller can run verifyEnvelope with it.
 */
export function findSelfIntroduction(envelope) {
    const payload = envelope.payload;
    if (payload?.type !== 'events_payload' || !Array.isArray(payload.events))
        return undefined;
    for (const ev of payload.events) {
        if (!isRecordLike(ev))
            continue;
        const e = ev;
        if (e.event_type !== 'NEW' || typeof e.rid !== 'string')
            continue;
        let same = false;
        try {
            same = RID.of(e.rid).toString() === envelope.sourceNode.toString();
        }
        catch {
            same = false;
        }
        if (!same || !isRecordLike(e.manifest) || !isRecordLike(e.contents))
            continue;
        const contents = e.contents;
        return {
            manifest: e.manifest,
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
export function peekEnvelope(text) {
    let root;
    try {
        root = parseLosslessJson(text);
    }
    catch (err) {
        throw new MalformedEnvelopeError(`envelope is not JSON: ${err.message}`, { cause: err });
    }
    if (!(root instanceof Map))
        throw new MalformedEnvelopeError('envelope is not a JSON object');
    const env = root;
    const payload = env.get('payload');
    if (!(payload instanceof Map) || !isPayloadType(payload.get('type')))
        throw new MalformedEnvelopeError('payload has no known type');
    try {
        return {
            payload: losslessToPlain(payload),
            sourceNode: KoiNetNode.of(stringField(env, 'source_node')),
            targetNode: KoiNetNode.of(stringField(env, 'target_node')),
        };
    }
    catch (err) {
        if (err instanceof MalformedEnvelopeError)
            throw err;
        throw new MalformedEnvelopeError(`invalid envelope: ${err.message}`, { cause: err });
    }
}
/** sha256 hex of the signed bytes, as the vectors' `unsigned_sha256` (handy in logs). */
export function unsignedSha256(unsignedText) {
    return createHash('sha256').update(unsignedText, 'utf8').digest('hex');
}
//# sourceMappingURL=envelope.js.map