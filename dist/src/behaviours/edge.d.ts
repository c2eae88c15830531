import { Bundle } from '../knowledge/index.ts';
import { type EdgeProfile, type EdgeType } from '../protocol/index.ts';
import { type RID } from '../rid/index.ts';
export declare const NODE_TYPE = "orn:koi-net.node";
export declare const EDGE_TYPE = "orn:koi-net.edge";
/**
 * A PROPOSED edge bundle source -> target. Same rule as `NodeInterface.generateEdgeBundle`; the
 * behaviours build it from the handler context, which has no NodeInterface.
 */
export declare function proposedEdgeBundle(source: RID | string, target: RID | string, ridTypes: readonly string[], edgeType: EdgeType): Bundle;
/** Whether an existing edge already carries every wanted RID type (so proposing again is noise). */
export declare function edgeCovers(existing: EdgeProfile | null | undefined, ridTypes: readonly string[]): boolean;
