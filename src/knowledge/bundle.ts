import type { RID } from '../rid/index.ts';
import { assertSchema } from '../protocol/validate.ts';
import type { BundleJSON } from '../protocol/types.ts';
import { InvalidContentsError } from '../errors.ts';
import { isJsonObject, type JsonObject } from './json.ts';
import { Manifest, manifestFromValidWire } from './manifest.ts';

/** A manifest with the contents it describes. */
export class Bundle {
  readonly manifest: Manifest;
  readonly contents: JsonObject;

  constructor(manifest: Manifest, contents: JsonObject) {
    if (!isJsonObject(contents)) {
      throw new InvalidContentsError(contents, 'bundle contents must be a JSON object');
    }
    this.manifest = manifest;
    this.contents = contents;
    Object.freeze(this);
  }

  get rid(): RID {
    return this.manifest.rid;
  }

  /** Hashes `contents` (InvalidContentsError if rid-lib could not) into a fresh manifest. */
  static generate(rid: RID | string, contents: JsonObject, at?: Date): Bundle {
    if (!isJsonObject(contents)) {
      throw new InvalidContentsError(contents, 'bundle contents must be a JSON object');
    }
    return new Bundle(Manifest.generate(rid, contents, at), contents);
  }

  static fromJSON(json: unknown): Bundle {
    assertSchema('Bundle', json);
    return new Bundle(manifestFromValidWire(json.manifest), json.contents);
  }

  /** The contract's Bundle. */
  toJSON(): BundleJSON {
    return { manifest: this.manifest.toJSON(), contents: this.contents };
  }
}
