import { RID } from "../rid/index.js";
import { assertSchema } from "../protocol/index.js";
import { KoiNetError, SchemaValidationError } from "../errors.js";
import { sha256HashJson } from "./json.js";
import { formatTimestampMicros, nowMicros, parseTimestampMicros } from "./timestamp.js";
/** Identifies one state of an RID's contents: when it was made and the hash of its contents. */
export class Manifest {
    rid;
    timestamp;
    sha256Hash;
    /** Microseconds since the epoch: what "newer" compares, since timestamps may use any offset. */
    timeMicros;
    constructor(init) {
        const micros = parseTimestampMicros(init.timestamp);
        if (micros === undefined) {
            throw new SchemaValidationError('Manifest', [
                { loc: ['timestamp'], msg: 'not an ISO 8601 date-time', type: 'datetime_parsing', input: init.timestamp },
            ]);
        }
        this.rid = init.rid;
        this.timestamp = init.timestamp;
        this.sha256Hash = init.sha256Hash;
        this.timeMicros = micros;
        Object.freeze(this);
    }
    /**
     * A manifest for `contents` now (or at `at`). Throws InvalidContentsError for contents rid-lib
     * could not hash.
     */
    static generate(rid, contents, at) {
        const sha256Hash = sha256HashJson(contents);
        const micros = at === undefined ? nowMicros() : at.getTime() * 1000;
        if (!Number.isFinite(micros))
            throw new KoiNetError('invalid_timestamp', 'Manifest.generate: `at` is an invalid Date');
        return new Manifest({ rid: RID.of(rid), timestamp: formatTimestampMicros(micros), sha256Hash });
    }
    /** Validates against the contract's Manifest schema; throws SchemaValidationError / InvalidRIDError. */
    static fromJSON(json) {
        assertSchema('Manifest', json);
        return manifestFromValidWire(json);
    }
    /** Key order as rid-lib writes it. */
    toJSON() {
        return { rid: this.rid.toString(), timestamp: this.timestamp, sha256_hash: this.sha256Hash };
    }
    isNewerThan(other) {
        return this.timeMicros > other.timeMicros;
    }
    equals(other) {
        return (this.rid.toString() === other.rid.toString() &&
            this.timeMicros === other.timeMicros &&
            this.sha256Hash === other.sha256Hash);
    }
}
/**
 * For callers that already validated an enclosing schema (Bundle, Event): validating the nested
 * manifest again would double the cost of reading every cache file at start-up.
 */
export function manifestFromValidWire(wire) {
    return new Manifest({ rid: RID.fromString(wire.rid), timestamp: wire.timestamp, sha256Hash: wire.sha256_hash });
}
//# sourceMappingURL=manifest.js.map