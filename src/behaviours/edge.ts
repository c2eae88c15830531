import { Bundle, type JsonObject } from '../knowledge/index.ts';
import { EdgeStatus, withEdgeProfileContext, type EdgeProfile, type EdgeType } from '../protocol/index.ts';
import { KoiNetEdge, RIDType, type RID } from '../rid/index.ts';

export const NODE_TYPE = 'orn:koi-net.node';
export const EDGE_TYPE = 'orn:koi-net.edge';

/**
 * A PROPOSED edge bundle source -> target. Same rule as `NodeInterface.generateEdgeBundle`; the
 * behaviours build it from the handler context, which has no NodeInterface.
 */
export function proposedEdgeBundle(
  source: RID | string,
  target: RID | string,
  ridTypes: readonly string[],
  edgeType: EdgeType,
  options: { context?: boolean } = {},
): Bundle {
  const profile: EdgeProfile = {
    source: String(source),
    target: String(target),
    edge_type: edgeType,
    status: EdgeStatus.PROPOSED,
    rid_types: [...new Set(ridTypes.map((t) => String(RIDType.of(t))))],
  };
  // koi-net 2.1: `@context` first, when this node writes its profiles in that shape.
  const contents = options.context ? withEdgeProfileContext(profile) : profile;
  return Bundle.generate(KoiNetEdge.generate(String(source), String(target)), contents as unknown as JsonObject);
}

/** Whether an existing edge already carries every wanted RID type (so proposing again is noise). */
export function edgeCovers(existing: EdgeProfile | null | undefined, ridTypes: readonly string[]): boolean {
  if (!existing) return false;
  const have = new Set(existing.rid_types.map(String));
  return ridTypes.every((t) => have.has(t));
}
