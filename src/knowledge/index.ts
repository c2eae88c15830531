export { canonicalJson, sha256HashJson, cloneJson, isJsonObject } from './json.ts';
export type { JsonPrimitive, JsonValue, JsonObject } from './json.ts';
export { parseTimestampMicros, formatTimestampMicros } from './timestamp.ts';
export { Manifest } from './manifest.ts';
export type { ManifestInit } from './manifest.ts';
export { Bundle } from './bundle.ts';
export { Event, EventType, parseEventType, isEventType, eventWireText, eventsPayloadText } from './event.ts';
export type { EventInit } from './event.ts';
// The wire shapes are the contract's (protocol/types.ts); the old names stay importable from here.
export type { ManifestJSON, BundleJSON, EventJSON, ManifestWire, BundleWire, EventWire } from '../protocol/types.ts';
export { KnowledgeObject, KnowledgeSource, isKnowledgeSource } from './knowledge-object.ts';
export type { KnowledgeObjectInit } from './knowledge-object.ts';
