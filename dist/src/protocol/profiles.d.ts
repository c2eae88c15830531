/**
 * Node and edge profiles travel as bundle contents, so they arrive as untyped JSON from peers
 * and from the cache; these parsers are the one place that turns them into typed values.
 */
import type { EdgeProfile, NodeProfile } from './types.ts';
/**
 * Contents of an `orn:koi-net.node` bundle -> a validated copy with `provides.event` /
 * `provides.state` defaulted to `[]`; unknown keys (`@context`, `public_key`, ...) are kept so a
 * re-serialized profile hashes the same. Throws `SchemaValidationError`.
 */
export declare function parseNodeProfile(contents: unknown): NodeProfile;
/** Contents of an `orn:koi-net.edge` bundle -> a validated copy. Throws `SchemaValidationError`. */
export declare function parseEdgeProfile(contents: unknown): EdgeProfile;
