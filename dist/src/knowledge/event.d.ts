import { RID } from '../rid/index.ts';
import { type JsonObject } from './json.ts';
import { type Manifest, type ManifestWire } from './manifest.ts';
import { Bundle } from './bundle.ts';
/** What happened to an RID, from the sender's point of view. */
export declare const EventType: {
    readonly NEW: "NEW";
    readonly UPDATE: "UPDATE";
    readonly FORGET: "FORGET";
};
export type EventType = (typeof EventType)[keyof typeof EventType];
export declare function isEventType(value: unknown): value is EventType;
/** Exact, case-sensitive, as the reference's StrEnum; anything else throws InvalidEventTypeError. */
export declare function parseEventType(value: unknown): EventType;
/**
 * On the wire `manifest` and `contents` are optional and Python sends them as `null` when unset;
 * both forms are read, and toJSON omits them.
 */
export interface EventWire {
    rid: string;
    event_type: EventType;
    manifest?: ManifestWire | null;
    contents?: JsonObject | null;
}
export interface EventInit {
    rid: RID;
    eventType: EventType;
    manifest?: Manifest | undefined;
    contents?: JsonObject | undefined;
}
/** A signal about an RID: NEW, UPDATE or FORGET, optionally carrying the manifest and contents. */
export declare class Event {
    readonly rid: RID;
    readonly eventType: EventType;
    readonly manifest: Manifest | undefined;
    readonly contents: JsonObject | undefined;
    constructor(init: EventInit);
    static fromRid(rid: RID | string, eventType: EventType): Event;
    static fromManifest(manifest: Manifest, eventType: EventType): Event;
    static fromBundle(bundle: Bundle, eventType: EventType): Event;
    /** The bundle the event carries, when it carries both halves (as the reference's `Event.bundle`). */
    get bundle(): Bundle | undefined;
    static fromJSON(json: unknown): Event;
    toJSON(): EventWire;
}
