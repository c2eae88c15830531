import { RID } from "../rid/index.js";
import { assertSchema } from "../protocol/index.js";
import { InvalidContentsError, InvalidEventTypeError } from "../errors.js";
import { isJsonObject } from "./json.js";
import { manifestFromValidWire } from "./manifest.js";
import { Bundle } from "./bundle.js";
/** What happened to an RID, from the sender's point of view. */
export const EventType = {
    NEW: 'NEW',
    UPDATE: 'UPDATE',
    FORGET: 'FORGET',
};
const EVENT_TYPES = new Set(Object.values(EventType));
export function isEventType(value) {
    return typeof value === 'string' && EVENT_TYPES.has(value);
}
/** Exact, case-sensitive, as the reference's StrEnum; anything else throws InvalidEventTypeError. */
export function parseEventType(value) {
    if (!isEventType(value))
        throw new InvalidEventTypeError(value);
    return value;
}
/** A signal about an RID: NEW, UPDATE or FORGET, optionally carrying the manifest and contents. */
export class Event {
    rid;
    eventType;
    manifest;
    contents;
    constructor(init) {
        if (init.contents !== undefined && !isJsonObject(init.contents)) {
            throw new InvalidContentsError(init.contents, 'event contents must be a JSON object');
        }
        this.rid = init.rid;
        this.eventType = parseEventType(init.eventType);
        this.manifest = init.manifest;
        this.contents = init.contents;
        Object.freeze(this);
    }
    static fromRid(rid, eventType) {
        return new Event({ rid: RID.of(rid), eventType });
    }
    static fromManifest(manifest, eventType) {
        return new Event({ rid: manifest.rid, eventType, manifest });
    }
    static fromBundle(bundle, eventType) {
        return new Event({ rid: bundle.rid, eventType, manifest: bundle.manifest, contents: bundle.contents });
    }
    /** The bundle the event carries, when it carries both halves (as the reference's `Event.bundle`). */
    get bundle() {
        if (this.manifest === undefined || this.contents === undefined)
            return undefined;
        return new Bundle(this.manifest, this.contents);
    }
    static fromJSON(json) {
        assertSchema('Event', json);
        const wire = json;
        return new Event({
            rid: RID.fromString(wire.rid),
            eventType: parseEventType(wire.event_type),
            manifest: wire.manifest == null ? undefined : manifestFromValidWire(wire.manifest),
            contents: wire.contents == null ? undefined : wire.contents,
        });
    }
    toJSON() {
        const out = { rid: this.rid.toString(), event_type: this.eventType };
        if (this.manifest !== undefined)
            out.manifest = this.manifest.toJSON();
        if (this.contents !== undefined)
            out.contents = this.contents;
        return out;
    }
}
//# sourceMappingURL=event.js.map