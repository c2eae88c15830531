import { type ValidationIssue } from '../errors.ts';
import type { SchemaName, Schemas } from './types.ts';
/** Decides whether a string is acceptable for the `rid` / `rid-type` formats. */
export interface RIDFormatCheckers {
    rid(value: string): boolean;
    ridType(value: string): boolean;
}
/** Syntax only, for callers that must accept RIDs of types this process has not registered. */
export declare const patternRIDFormatCheckers: RIDFormatCheckers;
/**
 * The default: the spec pattern plus the RID registry, so type-specific rules (e.g.
 * `orn:koi-net.node` needs `<name>+<hash>`) are enforced wherever the contract is validated.
 */
export declare const registryRIDFormatCheckers: RIDFormatCheckers;
/**
 * Replaces the `rid` / `rid-type` format checks (e.g. with the RID registry's parsers). The
 * compiled validators call through this indirection, so swapping needs no recompilation.
 * Omitted checkers keep their current value; call with no argument to restore the registry-backed
 * defaults.
 */
export declare function setRIDFormatCheckers(checkers?: Partial<RIDFormatCheckers>): void;
export declare function getRIDFormatCheckers(): RIDFormatCheckers;
/** `$id` under which the spec's schemas are registered; refs resolve as `<id>#/components/schemas/X`. */
export declare const SPEC_SCHEMA_ID = "https://koi-net.invalid/openapi.json";
/** Every schema name in the contract. */
export declare const SCHEMA_NAMES: readonly SchemaName[];
/** Issues of `value` against `components.schemas[name]`; empty when it conforms. Never mutates `value`. */
export declare function validateSchema(name: SchemaName, value: unknown): ValidationIssue[];
/** Throws `SchemaValidationError` unless `value` conforms to `components.schemas[name]`. */
export declare function assertSchema<N extends SchemaName>(name: N, value: unknown): asserts value is Schemas[N];
/**
 * Validates and returns a copy with the schema's defaults filled in (unknown keys kept).
 * Throws `SchemaValidationError`.
 */
export declare function parseSchema<N extends SchemaName>(name: N, value: unknown): Schemas[N];
