/**
 * Node and edge profiles travel as bundle contents, so they arrive as untyped JSON from peers
 * and from the cache; these parsers are the one place that turns them into typed values.
 */
import type { EdgeProfile, NodeProfile, NodeProvides } from './types.ts';
import { parseSchema } from './validate.ts';

/**
 * Contents of an `orn:koi-net.node` bundle -> a validated copy with `provides.event` /
 * `provides.state` defaulted to `[]`; unknown keys (`@context`, `public_key`, ...) are kept so a
 * re-serialized profile hashes the same. Throws `SchemaValidationError`.
 */
export function parseNodeProfile(contents: unknown): NodeProfile {
  return parseSchema('NodeProfile', contents);
}

/** Contents of an `orn:koi-net.edge` bundle -> a validated copy. Throws `SchemaValidationError`. */
export function parseEdgeProfile(contents: unknown): EdgeProfile {
  return parseSchema('EdgeProfile', contents);
}

/**
 * A node profile as written by hand: `provides` (and each of its lists) may be left out, as in
 * the seed's `NodeProfile(node_type=...)`; parseNodeProfile fills in the defaults.
 */
export type NodeProfileInput = Omit<NodeProfile, 'provides'> & { provides?: Partial<NodeProvides> };
