import { RID } from '../rid/index.ts';
import { assertSchema } from '../protocol/validate.ts';
import type { ManifestJSON } from '../protocol/types.ts';
import { KoiNetError, SchemaValidationError } from '../errors.ts';
import { sha256HashJson, type JsonObject } from './json.ts';
import { formatTimestampMicros, nowMicros, parseTimestampMicros } from './timestamp.ts';

export interface ManifestInit {
  rid: RID;
  /** ISO 8601 with offset; kept verbatim so a manifest goes back out exactly as it came in. */
  timestamp: string;
  sha256Hash: string;
  /**
   * `timestamp` in microseconds, when the caller already has it from a trusted source (the cache's
   * index snapshot, which stored what an earlier parse of this very timestamp gave): parsing 100k
   * timestamps was a tenth of a large cache's start-up. Anything else leaves it out.
   */
  timeMicros?: number;
}

/** Identifies one state of an RID's contents: when it was made and the hash of its contents. */
export class Manifest {
  readonly rid: RID;
  readonly timestamp: string;
  readonly sha256Hash: string;
  /** Microseconds since the epoch: what "newer" compares, since timestamps may use any offset. */
  readonly timeMicros: number;

  constructor(init: ManifestInit) {
    const micros = init.timeMicros !== undefined && Number.isSafeInteger(init.timeMicros) ? init.timeMicros : parseTimestampMicros(init.timestamp);
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
  static generate(rid: RID | string, contents: JsonObject, at?: Date): Manifest {
    const sha256Hash = sha256HashJson(contents);
    const micros = at === undefined ? nowMicros() : at.getTime() * 1000;
    if (!Number.isFinite(micros)) throw new KoiNetError('invalid_timestamp', 'Manifest.generate: `at` is an invalid Date');
    return new Manifest({ rid: RID.of(rid), timestamp: formatTimestampMicros(micros), sha256Hash });
  }

  /** Validates against the contract's Manifest schema; throws SchemaValidationError / InvalidRIDError. */
  static fromJSON(json: unknown): Manifest {
    assertSchema('Manifest', json);
    return manifestFromValidWire(json);
  }

  /** The contract's Manifest, in the key order rid-lib writes. */
  toJSON(): ManifestJSON {
    return { rid: this.rid.toString(), timestamp: this.timestamp, sha256_hash: this.sha256Hash };
  }

  isNewerThan(other: Manifest): boolean {
    return this.timeMicros > other.timeMicros;
  }

  equals(other: Manifest): boolean {
    return (
      this.rid.toString() === other.rid.toString() &&
      this.timeMicros === other.timeMicros &&
      this.sha256Hash === other.sha256Hash
    );
  }
}

/**
 * For callers that already validated an enclosing schema (Bundle, Event): validating the nested
 * manifest again would double the cost of reading every cache file at start-up.
 */
export function manifestFromValidWire(wire: ManifestJSON): Manifest {
  return new Manifest({ rid: RID.fromString(wire.rid), timestamp: wire.timestamp, sha256Hash: wire.sha256_hash });
}
