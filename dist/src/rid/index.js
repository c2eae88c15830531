/**
 * RIDs (rid-lib v3 compatible). Importing this module registers rid-lib's built-in RID types, so
 * import RIDs from here rather than from the files behind it.
 */
export { RIDType, NAMESPACE_SCHEMES } from "./rid-type.js";
export { RID, registerRIDType, isKnownRIDType, knownRIDTypes } from "./rid.js";
export { KoiNetNode, KoiNetEdge, KOI_NET_NODE_TYPE, KOI_NET_EDGE_TYPE } from "./types.js";
export { normalizeUrlReference } from "./url.js";
//# sourceMappingURL=index.js.map