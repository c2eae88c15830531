import { RID } from '../rid/index.ts';
import { assertSchema } from '../protocol/validate.ts';
import type { EventJSON, EventTypeJSON } from '../protocol/types.ts';
import { InvalidContentsError, InvalidEventTypeError } from '../errors.ts';
import { isJsonObject, type JsonObject } from './json.ts';
import { manifestFromValidWire, type Manifest } from './manifest.ts';
import { Bundle } from './bundle.ts';

/** What happened to an RID, from the sender's point of view. */
export const EventType = {
  NEW: 'NEW',
  UPDATE: 'UPDATE',
  FORGET: 'FORGET',
} as const satisfies { readonly [K in EventTypeJSON]: K };
export type EventType = EventTypeJSON;

const EVENT_TYPES: ReadonlySet<string> = new Set(Object.values(EventType));

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && EVENT_TYPES.has(value);
}

/** Exact, case-sensitive, as the reference's StrEnum; anything else throws InvalidEventTypeError. */
export function parseEventType(value: unknown): EventType {
  if (!isEventType(value)) throw new InvalidEventTypeError(value);
  return value;
}

export interface EventInit {
  rid: RID;
  eventType: EventType;
  manifest?: Manifest | undefined;
  contents?: JsonObject | undefined;
}

/** A signal about an RID: NEW, UPDATE or FORGET, optionally carrying the manifest and contents. */
export class Event {
  readonly rid: RID;
  readonly eventType: EventType;
  readonly manifest: Manifest | undefined;
  readonly contents: JsonObject | undefined;

  constructor(init: EventInit) {
    if (init.contents !== undefined && !isJsonObject(init.contents)) {
      throw new InvalidContentsError(init.contents, 'event contents must be a JSON object');
    }
    this.rid = init.rid;
    this.eventType = parseEventType(init.eventType);
    this.manifest = init.manifest;
    this.contents = init.contents;
    Object.freeze(this);
  }

  static fromRid(rid: RID | string, eventType: EventType): Event {
    return new Event({ rid: RID.of(rid), eventType });
  }

  static fromManifest(manifest: Manifest, eventType: EventType): Event {
    return new Event({ rid: manifest.rid, eventType, manifest });
  }

  static fromBundle(bundle: Bundle, eventType: EventType): Event {
    return new Event({ rid: bundle.rid, eventType, manifest: bundle.manifest, contents: bundle.contents });
  }

  /** The bundle the event carries, when it carries both halves (as the reference's `Event.bundle`). */
  get bundle(): Bundle | undefined {
    if (this.manifest === undefined || this.contents === undefined) return undefined;
    return new Bundle(this.manifest, this.contents);
  }

  static fromJSON(json: unknown): Event {
    assertSchema('Event', json);
    return Event.fromValidJSON(json);
  }

  /**
   * For callers that already validated the wire event against the contract (the server's request
   * check of a broadcast): the schema check was over half of the cost of reading an event. The
   * RID and event type are still parsed, so a value that slipped through still throws.
   */
  static fromValidJSON(wire: EventJSON): Event {
    return new Event({
      rid: RID.fromString(wire.rid),
      eventType: parseEventType(wire.event_type),
      manifest: wire.manifest == null ? undefined : manifestFromValidWire(wire.manifest),
      contents: wire.contents == null ? undefined : wire.contents,
    });
  }

  /**
   * The contract's Event. On the wire `manifest` and `contents` are optional and Python sends
   * them as `null` when unset; both forms are read, and this omits them.
   */
  toJSON(): EventJSON {
    const out: EventJSON = { rid: this.rid.toString(), event_type: this.eventType };
    if (this.manifest !== undefined) out.manifest = this.manifest.toJSON();
    if (this.contents !== undefined) out.contents = this.contents;
    return out;
  }
}

/**
 * An event's wire JSON (`JSON.stringify(event.toJSON())`), made once per Event object: a fan-out
 * sends one event to every subscriber and queues it for every poller, and serializing it again for
 * each was the largest cost of delivery. Events are frozen; their contents are what they were when
 * the event was first serialized (queues store that text too).
 */
const wireTexts = new WeakMap<Event, string>();
export function eventWireText(event: Event): string {
  let text = wireTexts.get(event);
  if (text === undefined) {
    text = JSON.stringify(event.toJSON());
    wireTexts.set(event, text);
  }
  return text;
}

/** `{"events":[...]}` from the events' wire texts, as a broadcast body or a poll answer. */
export function eventsPayloadText(events: readonly Event[]): string {
  let out = '{"events":[';
  for (let i = 0; i < events.length; i++) out += (i === 0 ? '' : ',') + eventWireText(events[i]!);
  return out + ']}';
}
