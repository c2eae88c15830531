import { KoiNetNode, RID } from '../rid/index.ts';
import { RIDType } from '../rid/rid-type.ts';
import type { JsonObject } from '../knowledge/json.ts';
import { type ProtocolErrorType } from './errors.ts';
import { type NodeKeyPair } from './keys.ts';
import { LosslessNumber, type LosslessObject } from './lossless-json.ts';
/** Contents as a caller may hold them: plain JSON (JsonObject) or an order/number-preserving Map. */
export type ContentsInput = JsonObject | LosslessObject;
export interface ManifestInput {
    rid: RID | string;
    timestamp: string;
    sha256_hash: string;
}
export interface EventInput {
    rid: RID | string;
    event_type: string;
    manifest?: ManifestInput | null;
    contents?: ContentsInput | null;
}
export interface BundleInput {
    manifest: ManifestInput;
    contents: ContentsInput;
}
/** Anything whose toJSON() yields the wire form (the knowledge classes Manifest, Event, Bundle). */
export interface ToWire<T> {
    toJSON(): T;
}
type Ridish = RID | string;
export interface PollEventsPayload {
    type: 'poll_events';
    limit?: number | bigint | LosslessNumber;
}
export interface FetchRidsPayload {
    type: 'fetch_rids';
    rid_types?: readonly (RIDType | string)[];
}
export interface FetchManifestsPayload {
    type: 'fetch_manifests';
    rid_types?: readonly (RIDType | string)[];
    rids?: readonly Ridish[];
}
export interface FetchBundlesPayload {
    type: 'fetch_bundles';
    rids: readonly Ridish[];
}
export interface RidsPayload {
    type: 'rids_payload';
    rids: readonly Ridish[];
}
export interface ManifestsPayload {
    type: 'manifests_payload';
    manifests: readonly (ManifestInput | ToWire<ManifestInput>)[];
    not_found?: readonly Ridish[];
}
export interface BundlesPayload {
    type: 'bundles_payload';
    bundles: readonly (BundleInput | ToWire<BundleInput>)[];
    not_found?: readonly Ridish[];
    deferred?: readonly Ridish[];
}
export interface EventsPayload {
    type: 'events_payload';
    events: readonly (EventInput | ToWire<EventInput>)[];
}
export interface ErrorResponsePayload {
    type: 'error_response';
    error: ProtocolErrorType;
}
export type RequestPayload = EventsPayload | PollEventsPayload | FetchRidsPayload | FetchManifestsPayload | FetchBundlesPayload;
export type ResponsePayload = RidsPayload | ManifestsPayload | BundlesPayload | EventsPayload | ErrorResponsePayload;
export type Payload = RequestPayload | ResponsePayload;
export type PayloadType = Payload['type'];
export declare const PAYLOAD_TYPES: readonly PayloadType[];
export interface UnsignedEnvelopeInput {
    payload: Payload | LosslessObject;
    source_node: KoiNetNode | RID | string;
    target_node: KoiNetNode | RID | string;
}
/**
 * pydantic's `model_dump_json(exclude_none=True)` of one payload model: `type` first, declared
 * order, defaults printed, unknown fields dropped (pydantic ignores extras on input).
 */
export declare function serializePayload(payload: Payload | LosslessObject, path?: string): string;
/** The exact bytes (as a string; sign its UTF-8) a koi-net 2.x peer signs and verifies. */
export declare function serializeUnsignedEnvelope(envelope: UnsignedEnvelopeInput): string;
export interface SignOptions {
    sourceNode: KoiNetNode | RID | string;
    targetNode: KoiNetNode | RID | string;
    keyPair: NodeKeyPair;
}
/**
 * The signed envelope as body text: pydantic's unsigned bytes with `,"signature":"..."` appended
 * inside the closing brace, which is also exactly how pydantic prints the SignedEnvelope.
 */
export declare function signEnvelope(payload: Payload | LosslessObject, options: SignOptions): string;
/** `{"type":"error_response","error":"<kind>"}`, the unsigned 400 body of the protocol errors. */
export declare function errorResponse(kind: ProtocolErrorType): string;
/** The parsed payload in plain JSON form (numbers as doubles); the lossless form is alongside. */
export type PayloadWire = {
    type: PayloadType;
} & Record<string, unknown>;
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
/**
 * Verifies a signed envelope body. Order of checks follows the reference's SecureManager:
 * malformed -> invalid_key -> invalid_signature -> invalid_target. The signature is checked over
 * the received text minus its final signature member (robust against any printing difference),
 * and, failing that, over our pydantic re-serialization (what a Python receiver checks).
 */
export declare function verifyEnvelope(text: string, options: VerifyOptions): VerifiedEnvelope;
/**
 * For an envelope from a node not in the cache: the bundle of a NEW event about the source node
 * itself, the only way the reference lets an unknown node introduce itself (events payloads only).
 * Returns its contents' public_key when present, so the caller can run verifyEnvelope with it.
 */
export declare function findSelfIntroduction(envelope: {
    payload: unknown;
    sourceNode: KoiNetNode;
}): {
    manifest: Record<string, unknown>;
    contents: Record<string, unknown>;
    publicKeyDerB64: string | undefined;
} | undefined;
/**
 * Parses an envelope without checking anything but its shape, e.g. to find the source node and
 * look up its key before verifyEnvelope. Throws MalformedEnvelopeError.
 */
export declare function peekEnvelope(text: string): {
    payload: PayloadWire;
    sourceNode: KoiNetNode;
    targetNode: KoiNetNode;
};
/** sha256 hex of the signed bytes, as the vectors' `unsigned_sha256` (handy in logs). */
export declare function unsignedSha256(unsignedText: string): string;
export {};
