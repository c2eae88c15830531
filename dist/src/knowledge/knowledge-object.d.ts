import { RID } from '../rid/index.ts';
import { type JsonObject } from './json.ts';
import type { Manifest } from './manifest.ts';
import { Bundle } from './bundle.ts';
import { Event, EventType } from './event.ts';
/** Whether knowledge was made by this node or received from the network. */
export declare const KnowledgeSource: {
    readonly INTERNAL: "INTERNAL";
    readonly EXTERNAL: "EXTERNAL";
};
export type KnowledgeSource = (typeof KnowledgeSource)[keyof typeof KnowledgeSource];
export declare function isKnowledgeSource(value: unknown): value is KnowledgeSource;
export interface KnowledgeObjectInit {
    rid: RID;
    manifest?: Manifest | undefined;
    contents?: JsonObject | undefined;
    eventType?: EventType | undefined;
    normalizedEventType?: EventType | undefined;
    source?: KnowledgeSource | undefined;
    /** Node RID strings the normalized event will be sent to. */
    networkTargets?: Iterable<string> | undefined;
}
/**
 * Any piece of knowledge (RID, manifest, bundle, event) normalized for the processing pipeline.
 * Fields are mutable because handlers refine a kobj step by step; a handler that wants to leave
 * the input untouched returns `kobj.with({...})` or `kobj.clone()` instead.
 */
export declare class KnowledgeObject {
    rid: RID;
    manifest: Manifest | undefined;
    contents: JsonObject | undefined;
    eventType: EventType | undefined;
    /** How this node sees it: NEW/UPDATE -> cache write, FORGET -> cache delete, unset -> no action. */
    normalizedEventType: EventType | undefined;
    source: KnowledgeSource;
    networkTargets: Set<string>;
    constructor(init: KnowledgeObjectInit);
    static fromRid(rid: RID | string, eventType?: EventType, source?: KnowledgeSource): KnowledgeObject;
    static fromManifest(manifest: Manifest, eventType?: EventType, source?: KnowledgeSource): KnowledgeObject;
    static fromBundle(bundle: Bundle, eventType?: EventType, source?: KnowledgeSource): KnowledgeObject;
    /**
     * The event's own type unless `eventType` overrides it. The reference's `from_event(event,
     * source)` form is accepted too: a KnowledgeSource as second argument is taken as the source.
     */
    static fromEvent(event: Event, source?: KnowledgeSource): KnowledgeObject;
    static fromEvent(event: Event, eventType?: EventType, source?: KnowledgeSource): KnowledgeObject;
    /** Present only when both manifest and contents are. */
    get bundle(): Bundle | undefined;
    /**
     * The event peers receive. FORGET carries the RID alone, as in the reference (koi-net
     * 1.0.0b6 and later), even when the kobj holds the last known manifest and contents.
     */
    get normalizedEvent(): Event;
    /** A copy with `changes` applied; networkTargets is always a fresh set. Contents are shared. */
    with(changes: Partial<KnowledgeObjectInit>): KnowledgeObject;
    /** An independent copy: contents deep-copied (keeping `__proto__`-named keys), targets re-set. */
    clone(): KnowledgeObject;
    toString(): string;
}
