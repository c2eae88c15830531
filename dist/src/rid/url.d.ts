/** Thrown for references Python's urlsplit refuses (its ValueError). */
export declare class UrlSplitError extends Error {
}
/**
 * Splits `reference` like `urlsplit(reference)` and joins it back like
 * `urlunsplit(('', netloc, path, query, fragment))`: the scheme component is discarded because
 * rid-lib stores the RID type's scheme separately.
 */
export declare function normalizeUrlReference(reference: string): string;
