import type { KoiNetNode, RID, RIDType } from '../rid/index.ts';
import type { Bundle, Event, EventJSON, Manifest } from '../knowledge/index.ts';
import type { NodeProfile } from '../protocol/index.ts';
import type { Logger } from '../logger.ts';
import type { NodeKeyPair } from '../secure/index.ts';

/**
 * Who a request goes to: a known node (resolved through the graph) or a raw base URL (`…/koi-net`).
 * In the signed protocol a URL alone is not enough (the envelope names its target node), so a URL
 * target may carry the node RID too, as the reference's first-contact config does.
 */
export type RequestTarget = { node: KoiNetNode | string } | { url: string; node?: KoiNetNode | string };

/** The signed protocol (koi-net 1.1+): who we are and how we sign. */
export interface SignedClientOptions {
  keyPair: NodeKeyPair;
  self: KoiNetNode;
  /** Node RIDs known for bare URLs (the first contact), for targets given by URL only. */
  urlNodes?: ReadonlyMap<string, KoiNetNode>;
}

/** The wire format of one call: a signed envelope (koi-net 1.1+/2.x) or a plain 1.0.x body. */
export type PeerFormat = 'signed' | 'unsigned';

/**
 * Decides the format of each call from its target and, when the target names a node, that node's
 * cached profile (undefined when not cached). A `both` node's rule: bridgePeerFormat.
 */
export type PeerFormatRule = (target: RequestTarget, profile: NodeProfile | undefined) => PeerFormat;

/** The part of NetworkGraph the request handler needs; a narrow seam so tests can stub it. */
export interface NodeProfileSource {
  getNodeProfile(rid: KoiNetNode): NodeProfile | undefined | Promise<NodeProfile | undefined>;
}

export interface RequestHandlerOptions {
  graph: NodeProfileSource;
  logger?: Logger;
  /** Per request, connect through last body byte. Default 10 s. */
  timeoutMs?: number | undefined;
  /** Speak the signed protocol; absent = unsigned 1.0.x. */
  signed?: SignedClientOptions | undefined;
  /**
   * Per call, which format to speak (needs `signed`: how to sign when the answer is `signed`).
   * Absent: every call is signed when `signed` is given, plain otherwise.
   */
  peerFormat?: PeerFormatRule | undefined;
}

export interface BroadcastEventsRequest {
  events: readonly (Event | EventJSON)[];
}
export interface PollEventsRequest {
  rid: KoiNetNode | RID | string;
  limit?: number;
}
export interface FetchRidsRequest {
  rid_types?: readonly (RIDType | string)[];
}
export interface FetchManifestsRequest {
  rid_types?: readonly (RIDType | string)[];
  rids?: readonly (RID | string)[];
}
export interface FetchBundlesRequest {
  rids: readonly (RID | string)[];
}

export interface EventsResult {
  events: Event[];
}
export interface RidsResult {
  rids: RID[];
}
export interface ManifestsResult {
  manifests: Manifest[];
  notFound: RID[];
}
export interface BundlesResult {
  bundles: Bundle[];
  notFound: RID[];
  deferred: RID[];
}
