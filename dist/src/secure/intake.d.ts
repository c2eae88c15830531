import type { KoiNetNode, RID } from '../rid/index.ts';
import { type VerifiedEnvelope } from './envelope.ts';
/** What the verifying side needs to know about the node a public key is looked up for. */
export type PublicKeyLookup = (node: KoiNetNode) => {
    known: boolean;
    publicKeyDerB64: string | undefined;
};
export interface OpenEnvelopeOptions {
    /** This node: the envelope's target_node must be it. */
    self: KoiNetNode | RID | string;
    /** The sender's key from what this node knows (the cached node profile). */
    lookup: PublicKeyLookup;
    /** Only for requests: an events payload may introduce its unknown sender (reference rule). */
    allowSelfIntroduction: boolean;
}
/**
 * The reference's SecureManager.validate_envelope: sender known from the cache, or introduced by a
 * NEW event of its own bundle; its key must hash to its RID; the signature must verify; the target
 * must be this node. Throws MalformedEnvelopeError (422) or a ProtocolError (400 error_response).
 */
export declare function openEnvelope(text: string, options: OpenEnvelopeOptions): VerifiedEnvelope;
