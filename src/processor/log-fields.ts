import type { KnowledgeObject } from '../knowledge/index.ts';

/** Log fields that identify a kobj without its contents (contents may be private). */
export function kobjFields(kobj: KnowledgeObject, sourceNode: string | undefined): Record<string, unknown> {
  return {
    rid: kobj.rid.toString(),
    source: kobj.source,
    eventType: kobj.eventType,
    normalizedEventType: kobj.normalizedEventType,
    ...(sourceNode === undefined ? {} : { sourceNode }),
  };
}
