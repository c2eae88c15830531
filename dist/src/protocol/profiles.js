import { parseSchema } from "./validate.js";
/**
 * Contents of an `orn:koi-net.node` bundle -> a validated copy with `provides.event` /
 * `provides.state` defaulted to `[]`; unknown keys (`@context`, `public_key`, ...) are kept so a
 * re-serialized profile hashes the same. Throws `SchemaValidationError`.
 */
export function parseNodeProfile(contents) {
    return parseSchema('NodeProfile', contents);
}
/** Contents of an `orn:koi-net.edge` bundle -> a validated copy. Throws `SchemaValidationError`. */
export function parseEdgeProfile(contents) {
    return parseSchema('EdgeProfile', contents);
}
//# sourceMappingURL=profiles.js.map