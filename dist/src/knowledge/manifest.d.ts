import { RID } from '../rid/index.ts';
import { type JsonObject } from './json.ts';
/** A manifest as it travels on the wire and sits in cache files. */
export interface ManifestWire {
    rid: string;
    timestamp: string;
    sha256_hash: string;
}
export interface ManifestInit {
    rid: RID;
    /** ISO 8601 with offset; kept verbatim so a manifest goes back out exactly as it came in. */
    timestamp: string;
    sha256Hash: string;
}
/** Identifies one state of an RID's contents: when it was made and the hash of its contents. */
export declare class Manifest {
    readonly rid: RID;
    readonly timestamp: string;
    readonly sha256Hash: string;
    /** Microseconds since the epoch: what "newer" compares, since timestamps may use any offset. */
    readonly timeMicros: number;
    constructor(init: ManifestInit);
    /**
     * A manifest for `contents` now (or at `at`). Throws InvalidContentsError for contents rid-lib
     * could not hash.
     */
    static generate(rid: RID | string, contents: JsonObject, at?: Date): Manifest;
    /** Validates against the contract's Manifest schema; throws SchemaValidationError / InvalidRIDError. */
    static fromJSON(json: unknown): Manifest;
    /** Key order as rid-lib writes it. */
    toJSON(): ManifestWire;
    isNewerThan(other: Manifest): boolean;
    equals(other: Manifest): boolean;
}
/**
 * For callers that already validated an enclosing schema (Bundle, Event): validating the nested
 * manifest again would double the cost of reading every cache file at start-up.
 */
export declare function manifestFromValidWire(wire: ManifestWire): Manifest;
