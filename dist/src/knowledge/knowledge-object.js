import { RID } from "../rid/index.js";
import { InvalidContentsError, KoiNetError } from "../errors.js";
import { cloneJson, isJsonObject } from "./json.js";
import { Bundle } from "./bundle.js";
import { Event, EventType, parseEventType } from "./event.js";
/** Whether knowledge was made by this node or received from the network. */
export const KnowledgeSource = {
    INTERNAL: 'INTERNAL',
    EXTERNAL: 'EXTERNAL',
};
export function isKnowledgeSource(value) {
    return value === KnowledgeSource.INTERNAL || value === KnowledgeSource.EXTERNAL;
}
/**
 * Any piece of knowledge (RID, manifest, bundle, event) normalized for the processing pipeline.
 * Fields are mutable because handlers refine a kobj step by step; a handler that wants to leave
 * the input untouched returns `kobj.with({...})` or `kobj.clone()` instead.
 */
export class KnowledgeObject {
    rid;
    manifest;
    contents;
    eventType;
    /** How this node sees it: NEW/UPDATE -> cache write, FORGET -> cache delete, unset -> no action. */
    normalizedEventType;
    source;
    networkTargets;
    constructor(init) {
        if (init.contents !== undefined && !isJsonObject(init.contents)) {
            throw new InvalidContentsError(init.contents, 'contents must be a JSON object');
        }
        const source = init.source ?? KnowledgeSource.INTERNAL;
        if (!isKnowledgeSource(source)) {
            throw new KoiNetError('invalid_knowledge_source', `invalid knowledge source ${JSON.stringify(source)}`);
        }
        this.rid = init.rid;
        this.manifest = init.manifest;
        this.contents = init.contents;
        this.eventType = init.eventType === undefined ? undefined : parseEventType(init.eventType);
        this.normalizedEventType =
            init.normalizedEventType === undefined ? undefined : parseEventType(init.normalizedEventType);
        this.source = source;
        this.networkTargets = new Set(init.networkTargets ?? []);
    }
    static fromRid(rid, eventType, source = KnowledgeSource.INTERNAL) {
        return new KnowledgeObject({ rid: RID.of(rid), eventType, source });
    }
    static fromManifest(manifest, eventType, source = KnowledgeSource.INTERNAL) {
        return new KnowledgeObject({ rid: manifest.rid, manifest, eventType, source });
    }
    static fromBundle(bundle, eventType, source = KnowledgeSource.INTERNAL) {
        return new KnowledgeObject({
            rid: bundle.rid,
            manifest: bundle.manifest,
            contents: bundle.contents,
            eventType,
            source,
        });
    }
    static fromEvent(event, eventTypeOrSource, source = KnowledgeSource.INTERNAL) {
        let eventType = event.eventType;
        if (isKnowledgeSource(eventTypeOrSource)) {
            source = eventTypeOrSource;
        }
        else if (eventTypeOrSource !== undefined) {
            eventType = parseEventType(eventTypeOrSource);
        }
        return new KnowledgeObject({
            rid: event.rid,
            manifest: event.manifest,
            contents: event.contents,
            eventType,
            source,
        });
    }
    /** Present only when both manifest and contents are. */
    get bundle() {
        if (this.manifest === undefined || this.contents === undefined)
            return undefined;
        return new Bundle(this.manifest, this.contents);
    }
    /**
     * The event peers receive. FORGET carries the RID alone, as in the reference (koi-net
     * 1.0.0b6 and later), even when the kobj holds the last known manifest and contents.
     */
    get normalizedEvent() {
        const type = this.normalizedEventType;
        if (type === undefined) {
            throw new KoiNetError('missing_normalized_event_type', `knowledge object ${this.rid.toString()} has no normalized event type, so it has no event`);
        }
        if (type === EventType.FORGET)
            return new Event({ rid: this.rid, eventType: type });
        return new Event({ rid: this.rid, eventType: type, manifest: this.manifest, contents: this.contents });
    }
    /** A copy with `changes` applied; networkTargets is always a fresh set. Contents are shared. */
    with(changes) {
        const has = (key) => Object.prototype.hasOwnProperty.call(changes, key);
        return new KnowledgeObject({
            rid: changes.rid ?? this.rid,
            manifest: has('manifest') ? changes.manifest : this.manifest,
            contents: has('contents') ? changes.contents : this.contents,
            eventType: has('eventType') ? changes.eventType : this.eventType,
            normalizedEventType: has('normalizedEventType') ? changes.normalizedEventType : this.normalizedEventType,
            source: changes.source ?? this.source,
            networkTargets: changes.networkTargets ?? this.networkTargets,
        });
    }
    /** An independent copy: contents deep-copied (keeping `__proto__`-named keys), targets re-set. */
    clone() {
        return this.with({ contents: this.contents === undefined ? undefined : cloneJson(this.contents) });
    }
    toString() {
        return `<KObj '${this.rid.toString()}' event type: '${this.eventType ?? 'None'}' -> '${this.normalizedEventType ?? 'None'}', source: '${this.source}'>`;
    }
}
//# sourceMappingURL=knowledge-object.js.map