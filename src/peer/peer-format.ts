/**
 * The format a `both` node (a bridge) calls each peer in. Signed peers are known by their cached
 * profile: koi-net 1.1+/2.x node profiles carry `public_key`, 1.0.x ones never do. A peer known
 * only by URL is signed when its node RID was configured for that URL (the first contact with
 * `first_contact_rid`), since an envelope must name its target node; otherwise it is unsigned.
 */
import type { KoiNetNode } from '../rid/index.ts';
import type { NodeProfile } from '../protocol/index.ts';
import type { PeerFormat, PeerFormatRule, RequestTarget } from './types.ts';

/** Whether a node profile is a signed node's (it carries its public key). */
export function isSignedProfile(profile: Pick<NodeProfile, 'public_key'> | undefined): boolean {
  return typeof profile?.public_key === 'string';
}

/** `urlNodes`: the node RIDs configured for bare URLs (the first contact's). */
export function bridgePeerFormat(urlNodes: ReadonlyMap<string, KoiNetNode>): PeerFormatRule {
  return (target: RequestTarget, profile: NodeProfile | undefined): PeerFormat => {
    if (profile) return isSignedProfile(profile) ? 'signed' : 'unsigned';
    // Not cached: a node RID named with the URL (or configured for it) is addressed in an envelope.
    if ('url' in target && (target.node !== undefined || urlNodes.has(target.url))) return 'signed';
    return 'unsigned';
  };
}
