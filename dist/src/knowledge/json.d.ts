export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | {
    [key: string]: JsonValue;
};
/**
 * Bundle contents: a JSON object. Values are `unknown` rather than JsonValue so that typed
 * profiles (NodeProfile, EdgeProfile, the generated `Contents`) pass without casts; what cannot
 * be hashed is refused at runtime by canonicalJson.
 */
export type JsonObject = Record<string, unknown>;
/** A JSON object (not null, not an array): what bundle contents must be. */
export declare function isJsonObject(value: unknown): value is JsonObject;
/**
 * RFC 8785 (JCS) text of a JSON value, the form rid-lib hashes. Throws InvalidContentsError for
 * what rid-lib refuses: NaN, ±Infinity, lone surrogates (and non-JSON values such as functions,
 * bigints, cycles).
 */
export declare function canonicalJson(value: unknown): string;
/** SHA-256 hex of the UTF-8 bytes of the JCS text: `Manifest.sha256_hash` as rid-lib computes it. */
export declare function sha256HashJson(value: unknown): string;
/**
 * Deep copy of JSON data. Keys are defined, not assigned, so a `__proto__` key stays an own data
 * property instead of replacing the copy's prototype.
 */
export declare function cloneJson<T>(value: T): T;
