import { assertSchema } from "../protocol/index.js";
import { InvalidContentsError } from "../errors.js";
import { isJsonObject } from "./json.js";
import { Manifest, manifestFromValidWire } from "./manifest.js";
/** A manifest with the contents it describes. */
export class Bundle {
    manifest;
    contents;
    constructor(manifest, contents) {
        if (!isJsonObject(contents)) {
            throw new InvalidContentsError(contents, 'bundle contents must be a JSON object');
        }
        this.manifest = manifest;
        this.contents = contents;
        Object.freeze(this);
    }
    get rid() {
        return this.manifest.rid;
    }
    /** Hashes `contents` (InvalidContentsError if rid-lib could not) into a fresh manifest. */
    static generate(rid, contents, at) {
        if (!isJsonObject(contents)) {
            throw new InvalidContentsError(contents, 'bundle contents must be a JSON object');
        }
        return new Bundle(Manifest.generate(rid, contents, at), contents);
    }
    static fromJSON(json) {
        assertSchema('Bundle', json);
        const wire = json;
        return new Bundle(manifestFromValidWire(wire.manifest), wire.contents);
    }
    toJSON() {
        return { manifest: this.manifest.toJSON(), contents: this.contents };
    }
}
//# sourceMappingURL=bundle.js.map