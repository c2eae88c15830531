import { RID } from './rid.ts';
import type { RIDType } from './rid-type.ts';
/** A KOI-net node: `orn:koi-net.node:<name>+<hash>` (hash = uuid4, or sha256 of the public key). */
export declare class KoiNetNode extends RID {
    readonly name: string;
    readonly hash: string;
    constructor(type: RIDType, reference: string);
    static fromString(s: string): KoiNetNode;
    static of(x: RID | string): KoiNetNode;
    /** A fresh node RID `orn:koi-net.node:<name>+<uuid4>` (the unsigned protocol's form). */
    static generate(name: string): KoiNetNode;
}
/** A KOI-net edge: `orn:koi-net.edge:<id>`; any non-empty id is accepted. */
export declare class KoiNetEdge extends RID {
    static fromString(s: string): KoiNetEdge;
    static of(x: RID | string): KoiNetEdge;
    /**
     * `orn:koi-net.edge:<sha256 hex of source string + target string>`: the current reference's
     * rule. The RID travels inside the edge bundle, so peers never recompute it.
     */
    static generate(source: RID | string, target: RID | string): KoiNetEdge;
}
export declare const KOI_NET_NODE_TYPE: RIDType;
export declare const KOI_NET_EDGE_TYPE: RIDType;
