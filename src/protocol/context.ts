/**
 * koi-net 2.1 profiles: NodeProfile and EdgeProfile carry `@context` as their first field
 * ("orn:koi-net.context:koi-net.node" / "...koi-net.edge"). A node that speaks the signed format
 * writes its own profiles in that shape, field for field in the order of 2.1.0's pydantic models,
 * so its bundle contents are the same bytes a 2.1.0 node would send. Profiles from peers are never
 * reshaped here: they are kept as they came (their hash is over their own keys).
 */
import type { NodeProfileInput } from './profiles.ts';
import type { EdgeProfile, NodeProfile } from './types.ts';

export const NODE_PROFILE_CONTEXT = 'orn:koi-net.context:koi-net.node';
export const EDGE_PROFILE_CONTEXT = 'orn:koi-net.context:koi-net.edge';

/** Whether a profile (ours or a peer's) is in the 2.1 shape. */
export function hasProfileContext(profile: object | null | undefined): boolean {
  return profile !== null && profile !== undefined && Object.hasOwn(profile, '@context');
}

/**
 * A node profile as koi-net 2.1.0 dumps it: `@context`, `base_url` (null when absent), `node_type`,
 * `provides` {event, state}, `public_key` (null when absent), then any extra keys as given.
 */
export function withNodeProfileContext(profile: NodeProfileInput): NodeProfile {
  const { '@context': given, base_url, node_type, provides, public_key, ...rest } = profile;
  return {
    '@context': given ?? NODE_PROFILE_CONTEXT,
    base_url: base_url ?? null,
    node_type,
    provides: { ...provides, event: provides?.event ?? [], state: provides?.state ?? [] },
    public_key: public_key ?? null,
    ...rest,
  } as NodeProfile;
}

/** An edge profile as koi-net 2.1.0 dumps it: `@context`, source, target, edge_type, status, rid_types. */
export function withEdgeProfileContext(profile: EdgeProfile): EdgeProfile {
  const { '@context': given, source, target, edge_type, status, rid_types, ...rest } = profile;
  return { '@context': given ?? EDGE_PROFILE_CONTEXT, source, target, edge_type, status, rid_types, ...rest } as EdgeProfile;
}
