import { RIDType } from './rid-type.ts';
/** A class the registry builds for one RID type; it gets an already validated, normalized reference. */
export type RIDClass = new (type: RIDType, reference: string) => RID;
/** How a registered RID type checks and normalizes its references. */
export interface RIDTypeOptions {
    /** Returns why `reference` is not acceptable for this type, or `undefined` if it is. */
    validateReference?(reference: string): string | undefined;
    /**
     * Returns the canonical form of an accepted reference (what goes on the wire, into hashes and
     * cache file names). May throw to refuse the reference; the error's message becomes the reason.
     */
    normalizeReference?(reference: string): string;
    /** Subclass of `RID` to build for this type (default: `RID`). */
    ridClass?: RIDClass;
}
/**
 * A Resource Identifier: `<type>:<reference>`. Parse with `RID.fromString` (or `RID.of`), which
 * returns the subclass registered for the type (`KoiNetNode`, `KoiNetEdge`, ...) or a plain
 * `RID` for types nobody registered (accepted as-is, like rid-lib's DefaultType).
 */
export declare class RID {
    #private;
    readonly type: RIDType;
    /** The normalized reference (rid-lib's `reference`). */
    readonly reference: string;
    /**
     * Used by the registry, which has already validated and normalized `reference`; call
     * `RID.fromString` instead so that the type's rules apply.
     */
    constructor(type: RIDType, reference: string);
    get scheme(): string;
    get namespace(): string | null;
    /**
     * Parses and normalizes an RID string; throws `InvalidRIDError` whose `reason` says what is
     * wrong. Calling it on a subclass (`KoiNetNode.fromString`) also requires that subclass.
     */
    static fromString(s: string): RID;
    /** Accepts an RID or its string form. */
    static of(x: RID | string): RID;
    /** The normalized RID string: what goes on the wire. */
    toString(): string;
    toJSON(): string;
    /** Equal when the normalized strings are equal; a string is parsed (normalized) first. */
    equals(other: RID | string | null | undefined): boolean;
}
/**
 * Registers (or replaces) the rules of an RID type. RIDs of that type parsed afterwards are
 * validated, normalized and built with `ridClass`. Throws `InvalidRIDTypeError` for a bad type
 * string.
 */
export declare function registerRIDType(typeString: RIDType | string, options?: RIDTypeOptions): RIDType;
/** Whether the type has registered rules (rid-lib: not a DefaultType). Never throws. */
export declare function isKnownRIDType(type: RIDType | string): boolean;
/** Every registered RID type, in registration order. */
export declare function knownRIDTypes(): RIDType[];
