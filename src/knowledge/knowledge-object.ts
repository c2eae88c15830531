import { RID } from '../rid/index.ts';
import { InvalidContentsError, KoiNetError } from '../errors.ts';
import { cloneJson, isJsonObject, type JsonObject } from './json.ts';
import type { Manifest } from './manifest.ts';
import { Bundle } from './bundle.ts';
import { Event, EventType, parseEventType } from './event.ts';

/** Whether knowledge was made by this node or received from the network. */
export const KnowledgeSource = {
  INTERNAL: 'INTERNAL',
  EXTERNAL: 'EXTERNAL',
} as const;
export type KnowledgeSource = (typeof KnowledgeSource)[keyof typeof KnowledgeSource];

export function isKnowledgeSource(value: unknown): value is KnowledgeSource {
  return value === KnowledgeSource.INTERNAL || value === KnowledgeSource.EXTERNAL;
}

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
export class KnowledgeObject {
  rid: RID;
  manifest: Manifest | undefined;
  contents: JsonObject | undefined;
  eventType: EventType | undefined;
  /** How this node sees it: NEW/UPDATE -> cache write, FORGET -> cache delete, unset -> no action. */
  normalizedEventType: EventType | undefined;
  source: KnowledgeSource;
  networkTargets: Set<string>;

  constructor(init: KnowledgeObjectInit) {
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

  static fromRid(rid: RID | string, eventType?: EventType, source: KnowledgeSource = KnowledgeSource.INTERNAL): KnowledgeObject {
    return new KnowledgeObject({ rid: RID.of(rid), eventType, source });
  }

  static fromManifest(manifest: Manifest, eventType?: EventType, source: KnowledgeSource = KnowledgeSource.INTERNAL): KnowledgeObject {
    return new KnowledgeObject({ rid: manifest.rid, manifest, eventType, source });
  }

  static fromBundle(bundle: Bundle, eventType?: EventType, source: KnowledgeSource = KnowledgeSource.INTERNAL): KnowledgeObject {
    return new KnowledgeObject({
      rid: bundle.rid,
      manifest: bundle.manifest,
      contents: bundle.contents,
      eventType,
      source,
    });
  }

  /**
   * The event's own type unless `eventType` overrides it. The reference's `from_event(event,
   * source)` form is accepted too: a KnowledgeSource as second argument is taken as the source.
   */
  static fromEvent(event: Event, source?: KnowledgeSource): KnowledgeObject;
  static fromEvent(event: Event, eventType?: EventType, source?: KnowledgeSource): KnowledgeObject;
  static fromEvent(
    event: Event,
    eventTypeOrSource?: EventType | KnowledgeSource,
    source: KnowledgeSource = KnowledgeSource.INTERNAL,
  ): KnowledgeObject {
    let eventType: EventType = event.eventType;
    if (isKnowledgeSource(eventTypeOrSource)) {
      source = eventTypeOrSource;
    } else if (eventTypeOrSource !== undefined) {
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
  get bundle(): Bundle | undefined {
    if (this.manifest === undefined || this.contents === undefined) return undefined;
    return new Bundle(this.manifest, this.contents);
  }

  /**
   * The event peers receive. FORGET carries the RID alone, as in the reference (koi-net
   * 1.0.0b6 and later), even when the kobj holds the last known manifest and contents.
   */
  get normalizedEvent(): Event {
    const type = this.normalizedEventType;
    if (type === undefined) {
      throw new KoiNetError(
        'missing_normalized_event_type',
        `knowledge object ${this.rid.toString()} has no normalized event type, so it has no event`,
      );
    }
    if (type === EventType.FORGET) return new Event({ rid: this.rid, eventType: type });
    return new Event({ rid: this.rid, eventType: type, manifest: this.manifest, contents: this.contents });
  }

  /** A copy with `changes` applied; networkTargets is always a fresh set. Contents are shared. */
  with(changes: Partial<KnowledgeObjectInit>): KnowledgeObject {
    const has = (key: keyof KnowledgeObjectInit): boolean => Object.prototype.hasOwnProperty.call(changes, key);
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
  clone(): KnowledgeObject {
    return this.with({ contents: this.contents === undefined ? undefined : cloneJson(this.contents) });
  }

  toString(): string {
    return `<KObj '${this.rid.toString()}' event type: '${this.eventType ?? 'None'}' -> '${this.normalizedEventType ?? 'None'}', source: '${this.source}'>`;
  }
}

