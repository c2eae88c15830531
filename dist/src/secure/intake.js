import { findSelfIntroduction, peekEnvelope, verifyEnvelope } from "./envelope.js";
import { InvalidKeyError, UnknownNodeError } from "./errors.js";
/**
 * The reference's SecureManager.validate_envelope: sender known from the cache, or introduced by a
 * NEW event of its own bundle; its key must hash to its RID; the signature must verify; the target
 * must be this node. Throws MalformedEnvelopeError (422) or a ProtocolError (400 error_response).
 */
export function openEnvelope(text, options) {
    const peeked = peekEnvelope(text);
    const found = options.lookup(peeked.sourceNode);
    let key;
    if (found.known) {
        key = found.publicKeyDerB64;
    }
    else {
        const intro = options.allowSelfIntroduction ? findSelfIntroduction(peeked) : undefined;
        if (intro === undefined)
            throw new UnknownNodeError(peeked.sourceNode.toString());
        key = intro.publicKeyDerB64;
    }
    // A node known from the unsigned era has no key at all: nothing can prove who sent this.
    if (key === undefined)
        throw new InvalidKeyError(`no public key known for ${peeked.sourceNode.toString()}`);
    return verifyEnvelope(text, { publicKeyDerB64: key, expectedTargetNode: options.self });
}
//# sourceMappingURL=intake.js.map