import type { KoiNetNode, RID } from '../rid/index.ts';
import { findSelfIntroduction, peekEnvelope, verifyEnvelope, type VerifiedEnvelope } from './envelope.ts';
import { InvalidKeyError, UnknownNodeError } from './errors.ts';

/** What the verifying side needs to know about the node a public key is looked up for. */
export type PublicKeyLookup = (node: KoiNetNode) => { known: boolean; publicKeyDerB64: string | undefined };

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
export function openEnvelope(text: string, options: OpenEnvelopeOptions): VerifiedEnvelope {
  const peeked = peekEnvelope(text);
  const found = options.lookup(peeked.sourceNode);
  let key: string | undefined;
  if (found.known) {
    key = found.publicKeyDerB64;
  } else {
    const intro = options.allowSelfIntroduction ? findSelfIntroduction(peeked) : undefined;
    if (intro === undefined) throw new UnknownNodeError(peeked.sourceNode.toString());
    key = intro.publicKeyDerB64;
  }
  // A node known from the unsigned era has no key at all: nothing can prove who sent this.
  if (key === undefined) throw new InvalidKeyError(`no public key known for ${peeked.sourceNode.toString()}`);
  return verifyEnvelope(text, { publicKeyDerB64: key, expectedTargetNode: options.self });
}
