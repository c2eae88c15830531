/**
 * What a `both` node (a bridge) takes from unsigned peers. A plain 1.0.x body proves nothing about
 * its sender, while a signed node's knowledge about itself is signed by its key. So on the
 * unsigned path the bridge never lets anyone speak for a signed node (docs/VERSIONS.md):
 *  - an event about a signed node (a key-bound node RID, `<name>+<sha256 hex>`), or a node
 *    profile carrying a `public_key`, is ignored: signed nodes' profiles, updates and FORGETs
 *    reach the bridge only in envelopes (from the node itself, or relayed by a signed peer);
 *  - an edge event naming a signed node other than the bridge as its source or target is ignored
 *    (an unsigned peer cannot subscribe a signed node, nor approve for one);
 *  - an unsigned poll for a signed node's RID drains nothing (a signed node polls in envelopes);
 *  - a signed node's state is fetched only from signed providers (NetworkInterface), and a plain
 *    poll answer is filtered as a plain broadcast is.
 * Edges involving the bridge itself follow the rule every node has: an APPROVED edge to this node
 * is taken only as the answer to an edge this node proposed (processor/default-handlers.ts).
 */
import { KOI_NET_EDGE_TYPE, KOI_NET_NODE_TYPE, KoiNetNode, RID } from '../rid/index.ts';
import type { Event } from '../knowledge/index.ts';

/** A signed node's RID: its hash part is the sha256 hex of its public key (1.0.x RIDs end in a uuid4). */
export function isKeyBoundNodeRid(rid: RID | string): boolean {
  let node: RID;
  try {
    node = typeof rid === 'string' ? RID.fromString(rid) : rid;
  } catch {
    return false;
  }
  return node instanceof KoiNetNode && /^[0-9a-f]{64}$/.test(node.hash);
}

/** Why a bridge ignores `event` when it arrives in a plain (unsigned) body; undefined when it takes it. */
export function unsignedEventRefusal(event: Event, self: KoiNetNode | string): string | undefined {
  const type = event.rid.type.toString();
  if (type === KOI_NET_NODE_TYPE.toString()) {
    if (isKeyBoundNodeRid(event.rid)) return 'about a signed node: only its envelopes speak for it';
    if (event.contents !== undefined && 'public_key' in event.contents) return 'a node profile with a public_key, unsigned';
    return undefined;
  }
  if (type === KOI_NET_EDGE_TYPE.toString() && event.contents !== undefined) {
    const me = String(self);
    for (const end of [event.contents['source'], event.contents['target']]) {
      if (typeof end === 'string' && end !== me && isKeyBoundNodeRid(end)) return 'an edge naming a signed node, unsigned';
    }
  }
  return undefined;
}
