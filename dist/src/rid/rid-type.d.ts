/** Schemes whose RID type includes a namespace: `orn:<namespace>`, `urn:<namespace>`. */
export declare const NAMESPACE_SCHEMES: ReadonlySet<string>;
/**
 * An RID type (rid-lib's "context"): `https`, `orn:koi-net.node`, `urn:isbn`. Instances are
 * interned per string, so `===` works for types obtained through this module, but use
 * `equals()` to be safe.
 */
export declare class RIDType {
    #private;
    readonly scheme: string;
    readonly namespace: string | null;
    /** Not for direct use: the components must already be validated; see `RIDType.fromString`. */
    private constructor();
    /** Parses an RID type string; throws `InvalidRIDTypeError` saying what is wrong. */
    static fromString(s: string): RIDType;
    /** Accepts an RIDType or its string form. */
    static of(x: RIDType | string): RIDType;
    /**
     * @internal Returns the cached type for components the caller has already validated (the
     * RID parser), skipping the re-parse on the hot path.
     */
    static intern(typeString: string, scheme: string, namespace: string | null): RIDType;
    /** @internal Pins a registered type so that cache limits never drop it. */
    static pin(t: RIDType): void;
    toString(): string;
    toJSON(): string;
    equals(other: RIDType | string | null | undefined): boolean;
}
