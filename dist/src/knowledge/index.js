export { canonicalJson, sha256HashJson, cloneJson, isJsonObject } from "./json.js";
export { parseTimestampMicros, formatTimestampMicros } from "./timestamp.js";
export { Manifest } from "./manifest.js";
export { Bundle } from "./bundle.js";
export { Event, EventType, parseEventType, isEventType } from "./event.js";
export { KnowledgeObject, KnowledgeSource, isKnowledgeSource } from "./knowledge-object.js";
//# sourceMappingURL=index.js.map