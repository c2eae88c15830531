import type { RID } from '../rid/index.ts';
import { type JsonObject } from './json.ts';
import { Manifest, type ManifestWire } from './manifest.ts';
export interface BundleWire {
    manifest: ManifestWire;
    contents: JsonObject;
}
/** A manifest with the contents it describes. */
export declare class Bundle {
    readonly manifest: Manifest;
    readonly contents: JsonObject;
    constructor(manifest: Manifest, contents: JsonObject);
    get rid(): RID;
    /** Hashes `contents` (InvalidContentsError if rid-lib could not) into a fresh manifest. */
    static generate(rid: RID | string, contents: JsonObject, at?: Date): Bundle;
    static fromJSON(json: unknown): Bundle;
    toJSON(): BundleWire;
}
